// Sizes of an Anthropic request and answer read straight from the wire shape, without converting it to
// the chat shape (which refuses what only Anthropic speaks: server tools, search results...). Used for
// the hold's worst case, for requests whose Anthropic upstream reported no usage, and for local
// count_tokens. Never throws: an unknown block counts as its JSON text.
import { estimateChatInputTokens } from '@switchyard/pipeline';
import type { AnthropicMessagesRequest, ChatMessage, ChatRequest, ContentPart } from './anthropic-types';
import { countChatInput, countText } from '../token-count';

type Block = Record<string, unknown>;

const IMAGE: ContentPart = { type: 'image_url', image_url: { url: '' } };

/** The request as the estimators read it: one message per turn, text parts, and a placeholder per image. */
export function sizingView(req: AnthropicMessagesRequest): ChatRequest {
  const messages: ChatMessage[] = [];
  const system = typeof req.system === 'string' ? req.system : partsOf(req.system);
  if (system.length) messages.push({ role: 'user', content: system });
  for (const m of Array.isArray(req.messages) ? req.messages : []) {
    messages.push({ role: 'user', content: typeof m?.content === 'string' ? m.content : partsOf(m?.content) });
  }
  const view: ChatRequest = { model: req.model, messages };
  if (Array.isArray(req.tools) && req.tools.length) view.tools = req.tools as unknown as ChatRequest['tools'];
  const format = outputFormat(req);
  if (format) view.response_format = { type: 'json_schema', json_schema: { name: 'output', schema: format } };
  return view;
}

/** Input tokens for the hold: pessimistic, no tokenizer. */
export function estimateMessagesInputTokens(req: AnthropicMessagesRequest): number {
  return estimateChatInputTokens(sizingView(req));
}

/** Input tokens counted with the tokenizer. */
export function countMessagesInput(req: AnthropicMessagesRequest): number {
  const view = sizingView(req);
  const format = view.response_format?.type === 'json_schema' ? view.response_format.json_schema.schema : undefined;
  return countChatInput(view) + (format ? countText(JSON.stringify(format)) : 0);
}

/** Output tokens of an Anthropic message's content, counted with the tokenizer. */
export function countMessageOutput(content: unknown): number {
  const parts = partsOf(content);
  return parts.reduce((n, p) => n + (p.type === 'text' ? countText(p.text) : 0), 0);
}

function outputFormat(req: AnthropicMessagesRequest): Record<string, unknown> | undefined {
  const config = req.output_config as { format?: unknown } | undefined;
  const f = (config?.format ?? req.output_format) as { schema?: unknown } | null | undefined;
  return f && typeof f.schema === 'object' && f.schema !== null ? (f.schema as Record<string, unknown>) : undefined;
}

function partsOf(blocks: unknown): ContentPart[] {
  if (!Array.isArray(blocks)) return [];
  const out: ContentPart[] = [];
  for (const b of blocks as unknown[]) {
    if (b && typeof b === 'object') out.push(...blockParts(b as Block));
  }
  return out;
}

function text(s: unknown): ContentPart[] {
  return typeof s === 'string' && s !== '' ? [{ type: 'text', text: s }] : [];
}

function blockParts(b: Block): ContentPart[] {
  switch (b.type) {
    case 'text':
      return text(b.text);
    case 'image':
      return [IMAGE];
    case 'document': {
      const s = (b.source ?? {}) as Block;
      if (s.type === 'text') return text(s.data);
      if (s.type === 'content') return typeof s.content === 'string' ? text(s.content) : partsOf(s.content);
      return [IMAGE]; // a PDF, by base64, URL or file: sized like an image page
    }
    case 'tool_use':
    case 'server_tool_use':
      return text(`${String(b.name ?? '')}${JSON.stringify(b.input ?? {})}`);
    case 'tool_result':
      return typeof b.content === 'string' ? text(b.content) : partsOf(b.content);
    case 'search_result':
      return [...text(b.title), ...text(b.source), ...partsOf(b.content)];
    case 'thinking':
      return text(b.thinking);
    case 'redacted_thinking':
      return [];
    default:
      // web_search_tool_result and whatever Anthropic adds next: its JSON is a generous size
      return text(JSON.stringify(b));
  }
}
