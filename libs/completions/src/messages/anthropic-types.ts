// The one seam between the /v1/messages edge and libs/providers: the Anthropic wire types are defined
// once in libs/providers/src/anthropic/types.ts.
export type * from '@switchyard/providers';
export type {
  AdapterContext,
  ChatCompletion,
  ChatCompletionChunk,
  ChatMessage,
  ChatRequest,
  ContentPart,
  FinishReason,
  FunctionTool,
  ResponseFormat,
  TextPart,
  ToolCall,
  ToolChoice,
} from '@switchyard/providers';
export { AdapterRequestError, parseToolArguments } from '@switchyard/providers';
