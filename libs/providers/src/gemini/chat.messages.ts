// OpenAI chat messages as Gemini `contents` and `systemInstruction`.
import { AdapterRequestError } from '../errors';
import type { ChatMessage, ContentPart, ToolCall } from '../types';
import { audioMimeType, fileToPart, urlToPart } from './media';
import type { GeminiContent, GeminiPart, GeminiRole } from './types';
import { isRecord } from './upstream';

/**
 * Gemini 3 rejects a replayed model turn whose first functionCall part has no thoughtSignature. Clients that
 * kept our `extra_content.google.thought_signature` send it back; for the others Google documents this value
 * to skip the check.
 */
export const SKIP_THOUGHT_SIGNATURE = 'skip_thought_signature_validator';

/** A tool call as Google's OpenAI-compatible endpoint writes it: the signature rides in extra_content. */
export interface ToolCallWithSignature extends ToolCall {
  extra_content?: { google?: { thought_signature?: string } };
}

export interface GeminiConversation {
  contents: GeminiContent[];
  systemInstruction?: GeminiContent;
}

export function toGeminiConversation(messages: ChatMessage[]): GeminiConversation {
  if (!Array.isArray(messages)) throw new AdapterRequestError('messages must be an array', 'messages');
  const system: GeminiPart[] = [];
  const contents: GeminiContent[] = [];
  const toolNames = new Map<string, string>();

  const push = (role: GeminiRole, parts: GeminiPart[]): void => {
    if (parts.length === 0) return;
    const last = contents[contents.length - 1];
    // Gemini wants alternating turns; parallel tool results must also share one user turn.
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };

  messages.forEach((message, i) => {
    const param = `messages[${i}]`;
    switch (message.role) {
      case 'system':
      case 'developer':
        // Gemini has one system instruction: system messages anywhere in the conversation are gathered there.
        system.push(...textParts(message.content, `${param}.content`));
        break;
      case 'user':
        push('user', userParts(message.content, `${param}.content`));
        break;
      case 'assistant': {
        const parts = message.content == null ? [] : textParts(message.content, `${param}.content`);
        (message.tool_calls ?? []).forEach((call, j) => {
          toolNames.set(call.id, call.function.name);
          parts.push(functionCallPart(call, `${param}.tool_calls[${j}]`));
        });
        push('model', parts);
        break;
      }
      case 'tool': {
        const name = toolNames.get(message.tool_call_id);
        if (!name) {
          throw new AdapterRequestError('tool message answers no earlier assistant tool call', `${param}.tool_call_id`);
        }
        const text = textParts(message.content, `${param}.content`)
          .map((p) => p.text ?? '')
          .join('');
        push('user', [{ functionResponse: { name, response: toResponseObject(text) } }]);
        break;
      }
      default:
        throw new AdapterRequestError(`unsupported message role`, `${param}.role`);
    }
  });

  if (contents.length === 0) {
    throw new AdapterRequestError('messages must contain at least one user or assistant message', 'messages');
  }
  for (const turn of contents) {
    const firstCall = turn.role === 'model' ? turn.parts.find((p) => p.functionCall) : undefined;
    if (firstCall && !firstCall.thoughtSignature) firstCall.thoughtSignature = SKIP_THOUGHT_SIGNATURE;
  }
  return system.length > 0 ? { contents, systemInstruction: { parts: system } } : { contents };
}

/** Text-only content (system, assistant, tool); empty strings are dropped because Gemini refuses empty text. */
function textParts(content: unknown, param: string): GeminiPart[] {
  if (typeof content === 'string') return content.length > 0 ? [{ text: content }] : [];
  if (!Array.isArray(content)) throw new AdapterRequestError('content must be a string or an array', param);
  return content.flatMap((part: unknown, j): GeminiPart[] => {
    if (!isRecord(part) || part.type !== 'text' || typeof part.text !== 'string') {
      throw new AdapterRequestError('only text content parts are supported here', `${param}[${j}]`);
    }
    return part.text.length > 0 ? [{ text: part.text }] : [];
  });
}

function userParts(content: string | ContentPart[], param: string): GeminiPart[] {
  if (typeof content === 'string') return content.length > 0 ? [{ text: content }] : [];
  if (!Array.isArray(content)) throw new AdapterRequestError('content must be a string or an array', param);
  return content.flatMap((part, j): GeminiPart[] => {
    const p = `${param}[${j}]`;
    switch (part.type) {
      case 'text':
        return part.text.length > 0 ? [{ text: part.text }] : [];
      case 'image_url':
        return [urlToPart(part.image_url.url, `${p}.image_url.url`, 'image/jpeg')];
      case 'input_audio':
        // Gemini understands audio natively: the clip goes inline with its mime type.
        return [{ inlineData: { mimeType: audioMimeType(part.input_audio.format), data: part.input_audio.data } }];
      case 'file':
        return [fileToPart(part.file, p)];
      default:
        throw new AdapterRequestError('unsupported content part type', `${p}.type`);
    }
  });
}

function functionCallPart(call: ToolCallWithSignature, param: string): GeminiPart {
  if (call.type !== 'function' || typeof call.function?.name !== 'string') {
    throw new AdapterRequestError('only function tool calls are supported', param);
  }
  const raw: unknown = call.function.arguments;
  let args: unknown = {};
  if (typeof raw === 'string' && raw.trim() !== '') {
    try {
      args = JSON.parse(raw);
    } catch {
      throw new AdapterRequestError('tool call arguments are not valid JSON', `${param}.function.arguments`);
    }
  }
  if (!isRecord(args)) {
    throw new AdapterRequestError('tool call arguments must be a JSON object', `${param}.function.arguments`);
  }
  const part: GeminiPart = { functionCall: { name: call.function.name, args } };
  const signature = call.extra_content?.google?.thought_signature;
  if (typeof signature === 'string' && signature.length > 0) part.thoughtSignature = signature;
  return part;
}

/** functionResponse.response is a protobuf Struct: JSON objects pass, anything else is wrapped as {result}. */
function toResponseObject(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    return isRecord(parsed) ? parsed : { result: parsed };
  } catch {
    return { result: text };
  }
}
