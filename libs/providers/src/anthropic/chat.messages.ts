// OpenAI chat messages -> Anthropic `system` + alternating user/assistant turns.
import type { ChatMessage, ContentPart, TextPart, ToolCall } from '../types';
import { AdapterRequestError } from '../errors';
import type {
  AnthropicContentBlockParam,
  AnthropicDocumentBlock,
  AnthropicImageBlock,
  AnthropicImageMediaType,
  AnthropicMessageParam,
  AnthropicTextBlock,
  AnthropicToolResultBlock,
} from './types';

const IMAGE_MEDIA_TYPES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

interface Turn {
  role: 'user' | 'assistant';
  blocks: AnthropicContentBlockParam[];
}

export interface AnthropicConversation {
  system?: AnthropicTextBlock[];
  messages: AnthropicMessageParam[];
}

export function toAnthropicConversation(messages: ChatMessage[]): AnthropicConversation {
  const system: AnthropicTextBlock[] = [];
  const turns: Turn[] = [];
  messages.forEach((m, i) => {
    const param = `messages[${i}].content`;
    switch (m.role) {
      case 'system':
      case 'developer':
        // Anthropic has one top-level system prompt: every system/developer message joins it, in order.
        system.push(...textBlocks(m.content));
        return;
      case 'user':
        turns.push({ role: 'user', blocks: userBlocks(m.content, param) });
        return;
      case 'assistant':
        turns.push({
          role: 'assistant',
          blocks: [...textBlocks(m.content ?? ''), ...(m.tool_calls ?? []).map(toolUseBlock)],
        });
        return;
      case 'tool':
        turns.push({ role: 'user', blocks: [toolResultBlock(m.tool_call_id, m.content)] });
        return;
      default:
        throw new AdapterRequestError(
          `message role "${(m as { role: string }).role}" is not supported`,
          `messages[${i}].role`,
        );
    }
  });
  return { ...(system.length > 0 ? { system } : {}), messages: mergeTurns(turns) };
}

/** Anthropic requires strict user/assistant alternation: consecutive same-role turns become one. */
function mergeTurns(turns: Turn[]): AnthropicMessageParam[] {
  const merged: Turn[] = [];
  for (const t of turns) {
    if (t.blocks.length === 0) continue; // Anthropic refuses empty turns and empty text blocks
    const last = merged[merged.length - 1];
    if (last && last.role === t.role) last.blocks.push(...t.blocks);
    else merged.push({ role: t.role, blocks: [...t.blocks] });
  }
  return merged.map((t) => ({ role: t.role, content: turnContent(t) }));
}

function turnContent(t: Turn): string | AnthropicContentBlockParam[] {
  const blocks =
    t.role === 'user'
      ? // tool_result blocks must come first in a user turn; a stable partition keeps the rest in order
        [...t.blocks.filter((b) => b.type === 'tool_result'), ...t.blocks.filter((b) => b.type !== 'tool_result')]
      : t.blocks;
  const only = blocks[0];
  return blocks.length === 1 && only.type === 'text' && !only.cache_control ? only.text : blocks;
}

function textBlocks(content: string | TextPart[]): AnthropicTextBlock[] {
  const parts = typeof content === 'string' ? [{ type: 'text' as const, text: content }] : content;
  return parts.filter((p) => p.type === 'text' && p.text !== '').map((p) => ({ type: 'text', text: p.text }));
}

function userBlocks(content: string | ContentPart[], param: string): AnthropicContentBlockParam[] {
  if (typeof content === 'string') return textBlocks(content);
  return content.flatMap((part): AnthropicContentBlockParam[] => {
    switch (part.type) {
      case 'text':
        return part.text === '' ? [] : [{ type: 'text', text: part.text }];
      case 'image_url':
        return [imageBlock(part.image_url?.url, param)];
      case 'input_audio':
        throw new AdapterRequestError('audio input is not supported by this model', param);
      case 'file':
        return [documentBlock(part.file ?? {}, param)];
      default:
        throw new AdapterRequestError(
          `content part type "${(part as { type: string }).type}" is not supported by this model`,
          param,
        );
    }
  });
}

function imageBlock(url: string | undefined, param: string): AnthropicImageBlock {
  if (typeof url !== 'string') throw new AdapterRequestError('image_url.url is required', param);
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  const data = parseDataUrl(url);
  if (!data) throw new AdapterRequestError('image_url.url must be an http(s) URL or a base64 data URL', param);
  if (!IMAGE_MEDIA_TYPES.has(data.mediaType)) {
    throw new AdapterRequestError(
      `image type ${data.mediaType} is not supported by this model (use jpeg, png, gif or webp)`,
      param,
    );
  }
  return {
    type: 'image',
    source: { type: 'base64', media_type: data.mediaType as AnthropicImageMediaType, data: data.base64 },
  };
}

function documentBlock(
  file: { file_id?: string; file_data?: string; filename?: string },
  param: string,
): AnthropicDocumentBlock {
  if (typeof file.file_data !== 'string') {
    // file_id parts are expected to be inlined by the gateway (as file_data) before the adapter runs
    throw new AdapterRequestError('file parts must carry file_data for this model', param);
  }
  // OpenAI documents file_data as base64; SDKs send it as a data URL. Bare base64 is a PDF (OpenAI's only file input).
  const data = parseDataUrl(file.file_data) ?? { mediaType: 'application/pdf', base64: file.file_data };
  const title = file.filename ? { title: file.filename } : {};
  if (data.mediaType === 'application/pdf') {
    return { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: data.base64 }, ...title };
  }
  if (data.mediaType === 'text/plain') {
    const text = Buffer.from(data.base64, 'base64').toString('utf8');
    return { type: 'document', source: { type: 'text', media_type: 'text/plain', data: text }, ...title };
  }
  throw new AdapterRequestError(
    `file type ${data.mediaType} is not supported by this model (use PDF or plain text)`,
    param,
  );
}

/** `data:<type>[;params];base64,<data>` without running a regex over a payload of megabytes. */
export function parseDataUrl(url: string): { mediaType: string; base64: string } | undefined {
  if (!url.startsWith('data:')) return undefined;
  const comma = url.indexOf(',');
  if (comma < 0) return undefined;
  const header = url.slice(5, comma).split(';');
  if (header[header.length - 1]?.toLowerCase() !== 'base64') return undefined;
  return { mediaType: (header[0] ?? '').trim().toLowerCase(), base64: url.slice(comma + 1) };
}

function toolUseBlock(call: ToolCall): AnthropicContentBlockParam {
  return { type: 'tool_use', id: call.id, name: call.function.name, input: parseArguments(call.function.arguments) };
}

/** Tool arguments are a JSON object string; anything else (invalid JSON, arrays) becomes {} as Anthropic needs an object. */
export function parseArguments(args: string | undefined): Record<string, unknown> {
  if (!args) return {};
  try {
    const value: unknown = JSON.parse(args);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

function toolResultBlock(toolCallId: string, content: string | TextPart[]): AnthropicToolResultBlock {
  if (typeof content === 'string') return { type: 'tool_result', tool_use_id: toolCallId, content };
  const blocks = textBlocks(content);
  return { type: 'tool_result', tool_use_id: toolCallId, ...(blocks.length > 0 ? { content: blocks } : {}) };
}
