// /v1/messages edge, inbound: an Anthropic Messages request -> the internal OpenAI chat request, which
// then runs through whatever upstream adapter the model routes to.
import {
  AdapterRequestError,
  type AnthropicContentBlockParam,
  type AnthropicDocumentBlock,
  type AnthropicImageSource,
  type AnthropicMessageParam,
  type AnthropicMessagesRequest,
  type AnthropicTextBlock,
  type AnthropicTool,
  type AnthropicToolChoice,
  type AnthropicToolResultBlock,
  type ChatMessage,
  type ChatRequest,
  type ContentPart,
  type FunctionTool,
  type ResponseFormat,
  type TextPart,
  type ToolCall,
  type ToolChoice,
} from './anthropic-types';

export function messagesRequestToChat(req: AnthropicMessagesRequest): ChatRequest {
  if (!Array.isArray(req.messages)) throw new AdapterRequestError('messages must be an array', 'messages');
  const messages: ChatMessage[] = [];
  const system = systemMessage(req.system);
  if (system) messages.push(system);
  req.messages.forEach((m, i) => messages.push(...toChatMessages(m, i)));

  const chat: ChatRequest = { model: req.model, messages };
  if (typeof req.max_tokens === 'number') chat.max_tokens = req.max_tokens;
  if (typeof req.temperature === 'number') chat.temperature = req.temperature;
  if (typeof req.top_p === 'number') chat.top_p = req.top_p;
  if (Array.isArray(req.stop_sequences) && req.stop_sequences.length > 0) chat.stop = [...req.stop_sequences];
  if (Array.isArray(req.tools) && req.tools.length > 0) {
    chat.tools = req.tools.map(toFunctionTool);
    // OpenAI refuses tool_choice and parallel_tool_calls without tools, so they only travel with tools
    if (req.tool_choice) {
      chat.tool_choice = toToolChoice(req.tool_choice);
      if ('disable_parallel_tool_use' in req.tool_choice && req.tool_choice.disable_parallel_tool_use) {
        chat.parallel_tool_calls = false;
      }
    }
  }
  const format = toResponseFormat(req);
  if (format) chat.response_format = format;
  if (typeof req.metadata?.user_id === 'string') chat.user = req.metadata.user_id;
  if (req.stream === true) {
    chat.stream = true;
    // the Anthropic stream reports usage in message_delta, so the upstream must report it too
    chat.stream_options = { include_usage: true };
  }
  return chat;
}

function systemMessage(system: AnthropicMessagesRequest['system']): ChatMessage | undefined {
  if (typeof system === 'string') return system === '' ? undefined : { role: 'system', content: system };
  if (!Array.isArray(system)) return undefined;
  const parts = system.map((b, j) => textPart(b, `system[${j}]`)).filter((p) => p.text !== '');
  return parts.length > 0 ? { role: 'system', content: parts } : undefined;
}

function toChatMessages(m: AnthropicMessageParam, i: number): ChatMessage[] {
  if (m.role !== 'user' && m.role !== 'assistant') {
    throw new AdapterRequestError(`message role "${String(m.role)}" is not supported`, `messages[${i}].role`);
  }
  if (typeof m.content === 'string') return [{ role: m.role, content: m.content }];
  if (!Array.isArray(m.content)) {
    throw new AdapterRequestError('content must be a string or an array of blocks', `messages[${i}].content`);
  }
  return m.role === 'user' ? userMessages(m.content, i) : [assistantMessage(m.content, i)];
}

/**
 * One Anthropic user turn may carry tool results and new input together; OpenAI needs the tool
 * messages right after the assistant's tool calls, then the user's own message.
 */
function userMessages(blocks: AnthropicContentBlockParam[], i: number): ChatMessage[] {
  const toolMessages: ChatMessage[] = [];
  const parts: ContentPart[] = [];
  blocks.forEach((block, j) => {
    const param = `messages[${i}].content[${j}]`;
    if (block.type === 'tool_result') {
      const { content, extraParts } = toolResultContent(block, param);
      toolMessages.push({ role: 'tool', tool_call_id: block.tool_use_id, content });
      // OpenAI tool messages are text only: images a tool returned follow as user input
      parts.push(...extraParts);
    } else {
      parts.push(...inputParts(block, param));
    }
  });
  const user: ChatMessage[] = parts.length > 0 || toolMessages.length === 0 ? [{ role: 'user', content: parts }] : [];
  return [...toolMessages, ...user];
}

function assistantMessage(blocks: AnthropicContentBlockParam[], i: number): ChatMessage {
  const texts: TextPart[] = [];
  const toolCalls: ToolCall[] = [];
  blocks.forEach((block, j) => {
    switch (block.type) {
      case 'text':
        texts.push(textPart(block, `messages[${i}].content[${j}]`));
        return;
      case 'tool_use':
        toolCalls.push({
          id: block.id,
          type: 'function',
          function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
        });
        return;
      case 'thinking':
      case 'redacted_thinking':
        return; // earlier turns' reasoning: no OpenAI counterpart, and only Anthropic could verify it
      default:
        throw unsupportedBlock(block, `messages[${i}].content[${j}]`);
    }
  });
  const content = texts.length === 0 ? (toolCalls.length > 0 ? null : '') : texts.length === 1 ? texts[0].text : texts;
  return { role: 'assistant', content, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) };
}

/** User-side input blocks: text, images, documents. */
function inputParts(block: AnthropicContentBlockParam, param: string): ContentPart[] {
  switch (block.type) {
    case 'text':
      return [textPart(block, param)];
    case 'image':
      return [imagePart(block.source, param)];
    case 'document':
      return documentParts(block, param);
    default:
      throw unsupportedBlock(block, param);
  }
}

function toolResultContent(
  block: AnthropicToolResultBlock,
  param: string,
): { content: string | TextPart[]; extraParts: ContentPart[] } {
  if (block.content === undefined || typeof block.content === 'string') {
    return { content: block.content ?? '', extraParts: [] };
  }
  const texts: TextPart[] = [];
  const extraParts: ContentPart[] = [];
  block.content.forEach((b, k) => {
    if (b.type === 'text') texts.push(textPart(b, `${param}.content[${k}]`));
    else extraParts.push(...inputParts(b, `${param}.content[${k}]`));
  });
  return { content: texts, extraParts };
}

function textPart(block: AnthropicTextBlock, param: string): TextPart {
  if (typeof block?.text !== 'string') throw new AdapterRequestError('text blocks need a text string', param);
  return { type: 'text', text: block.text };
}

function imagePart(source: AnthropicImageSource, param: string): ContentPart {
  switch (source?.type) {
    case 'base64':
      return { type: 'image_url', image_url: { url: `data:${source.media_type};base64,${source.data}` } };
    case 'url':
      return { type: 'image_url', image_url: { url: source.url } };
    default:
      throw new AdapterRequestError('image blocks need a base64 or url source', param);
  }
}

function documentParts(block: AnthropicDocumentBlock, param: string): ContentPart[] {
  const source = block.source;
  switch (source?.type) {
    case 'base64':
      return [
        {
          type: 'file',
          file: {
            file_data: `data:${source.media_type};base64,${source.data}`,
            ...(block.title ? { filename: block.title } : {}),
          },
        },
      ];
    case 'text':
      return [{ type: 'text', text: source.data }];
    case 'content':
      return typeof source.content === 'string'
        ? [{ type: 'text', text: source.content }]
        : source.content.flatMap((b, k) => inputParts(b, `${param}.source.content[${k}]`));
    default:
      throw new AdapterRequestError('document blocks need a base64 PDF or a text source', param);
  }
}

function unsupportedBlock(block: { type?: unknown }, param: string): AdapterRequestError {
  const type = String(block?.type);
  if (type.includes('audio')) return new AdapterRequestError('audio input is not supported on /v1/messages', param);
  return new AdapterRequestError(`content block type "${type}" is not supported here`, param);
}

function toFunctionTool(tool: AnthropicTool, i: number): FunctionTool {
  if (tool.type && tool.type !== 'custom') {
    throw new AdapterRequestError(`server tool "${tool.type}" is not supported by this gateway`, `tools[${i}]`);
  }
  if (typeof tool.name !== 'string') throw new AdapterRequestError('tools need a name', `tools[${i}].name`);
  return {
    type: 'function',
    function: {
      name: tool.name,
      ...(typeof tool.description === 'string' ? { description: tool.description } : {}),
      parameters: tool.input_schema ?? { type: 'object', properties: {} },
    },
  };
}

/**
 * Structured outputs: `output_config.format`, or the beta's `output_format` that older SDKs send. The
 * schema is not marked strict: OpenAI's strict mode refuses schemas Anthropic accepts.
 */
function toResponseFormat(req: AnthropicMessagesRequest): ResponseFormat | undefined {
  const config = req.output_config as { format?: unknown } | null | undefined;
  const [format, param] =
    config?.format != null ? [config.format, 'output_config.format'] : [req.output_format, 'output_format'];
  if (format == null) return undefined;
  const f = format as { type?: unknown; schema?: unknown };
  if (f.type !== 'json_schema') throw new AdapterRequestError('the output format type must be "json_schema"', param);
  if (!f.schema || typeof f.schema !== 'object' || Array.isArray(f.schema))
    throw new AdapterRequestError('a json_schema output format needs a schema object', `${param}.schema`);
  return { type: 'json_schema', json_schema: { name: 'output', schema: f.schema as Record<string, unknown> } };
}

function toToolChoice(choice: AnthropicToolChoice): ToolChoice {
  switch (choice.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      return { type: 'function', function: { name: choice.name } };
    default:
      throw new AdapterRequestError(
        `tool_choice type "${String((choice as { type?: unknown }).type)}" is not supported`,
        'tool_choice',
      );
  }
}
