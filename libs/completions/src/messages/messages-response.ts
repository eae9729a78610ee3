// /v1/messages edge, outbound: the internal OpenAI chat.completion -> an Anthropic message.
import type {
  AdapterContext,
  AnthropicContentBlock,
  AnthropicMessage,
  AnthropicStopReason,
  AnthropicUsage,
  ChatCompletion,
  FinishReason,
} from './anthropic-types';
import { parseToolArguments } from './anthropic-types';

/** Whether a stop sequence matched is not knowable from OpenAI's 'stop', so it is always end_turn. */
export function toAnthropicStopReason(
  reason: FinishReason | null | undefined,
  hasToolCalls: boolean,
): AnthropicStopReason {
  if (hasToolCalls) return 'tool_use'; // some upstreams say 'stop' after tool calls
  switch (reason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

/**
 * OpenAI's prompt_tokens include cached tokens; Anthropic's input_tokens exclude cache reads and writes.
 * `cache_creation_tokens` is what the Anthropic adapter keeps of cache writes (see its chat.response.ts).
 */
export function toAnthropicUsage(usage: ChatCompletion['usage'] | null | undefined): AnthropicUsage {
  const details = usage?.prompt_tokens_details;
  const cacheRead = count(details?.cached_tokens);
  const cacheWrite = count(details?.cache_creation_tokens);
  return {
    input_tokens: Math.max(0, count(usage?.prompt_tokens) - cacheRead - cacheWrite),
    output_tokens: count(usage?.completion_tokens),
    cache_creation_input_tokens: cacheWrite,
    cache_read_input_tokens: cacheRead,
  };
}

function count(n: unknown): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0;
}

/** Tool arguments as Anthropic's `input` object: invalid JSON or non-objects become {}. */
export const parseToolInput = parseToolArguments;

export function chatCompletionToMessage(c: ChatCompletion, model: string, ctx: AdapterContext): AnthropicMessage {
  const choice = c.choices[0];
  const message = choice?.message;
  const content: AnthropicContentBlock[] = [];
  // Anthropic refuses empty text blocks when a client sends the message back, so none is produced
  if (typeof message?.content === 'string' && message.content !== '')
    content.push({ type: 'text', text: message.content });
  else if (typeof message?.refusal === 'string' && message.refusal !== '')
    content.push({ type: 'text', text: message.refusal });
  const toolCalls = message?.tool_calls ?? [];
  for (const call of toolCalls) {
    content.push({
      type: 'tool_use',
      id: call.id,
      name: call.function.name,
      input: parseToolInput(call.function.arguments),
    });
  }
  const refused = typeof message?.refusal === 'string' && message.refusal !== '';
  return {
    id: ctx.newId('msg'),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: refused ? 'refusal' : toAnthropicStopReason(choice?.finish_reason, toolCalls.length > 0),
    stop_sequence: null,
    usage: toAnthropicUsage(c.usage),
  };
}
