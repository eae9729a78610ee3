// What libs/providers publishes of its Anthropic folder: the adapter, and the Anthropic wire types that
// libs/completions (the /v1/messages edge) shares. The lib's index.ts re-exports this file.
export {
  anthropicAdapter,
  anthropicChat,
  JSON_MODE_TOOL_NAME,
  nativeMessagesCall,
  nativeMessageResult,
  nativeStreamMeter,
  type NativeUsage,
} from './anthropic';
export type * from './anthropic/types';
export { parseArguments as parseToolArguments } from './anthropic/chat.messages';
