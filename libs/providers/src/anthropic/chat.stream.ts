// Anthropic stream events -> OpenAI chat.completion.chunk objects, in OpenAI's order: role delta,
// content / tool_call deltas, one chunk with finish_reason, then one usage chunk with `choices: []` (when the
// upstream reported usage).
import type {
  AdapterContext,
  ChatCompletionChunk,
  ChatResultMeta,
  ChatStreamMapper,
  FinishReason,
  SseEvent,
  ToolCallDelta,
} from '../types';
import { UpstreamMalformedError } from '../types';
import { UpstreamStreamError } from '../errors';
import { sanitizeMessage } from '../sanitize';
import { type AnthropicTokenCounts, isRecord, toFinishReason, toUsage } from './chat.response';
import { JSON_MODE_TOOL_NAME } from './json-mode';
import type { AnthropicStopReason } from './types';

type Delta = ChatCompletionChunk['choices'][number]['delta'];

export function streamMapper(ctx: AdapterContext, meta: ChatResultMeta): ChatStreamMapper {
  // every chunk of one stream shares id and created, as OpenAI's do
  const id = ctx.newId('chatcmpl');
  const created = Math.floor(ctx.now() / 1000);
  const counts: AnthropicTokenCounts = {};
  /** Anthropic content block index -> OpenAI tool call index (0-based among tool calls) */
  const toolIndexByBlock = new Map<number, number>();
  /** blocks of the JSON-mode tool, whose input is streamed as content */
  const jsonBlocks = new Set<number>();
  let started = false;
  let finished = false;
  let done = false;

  const chunk = (delta: Delta, finishReason: FinishReason | null = null): ChatCompletionChunk => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model: meta.model,
    choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
  });
  const toolDelta = (d: ToolCallDelta): ChatCompletionChunk => chunk({ tool_calls: [d] });

  /** The role chunk comes first even if an upstream skips message_start. */
  const start = (): ChatCompletionChunk[] => {
    if (started) return [];
    started = true;
    return [chunk({ role: 'assistant', content: '' })];
  };
  const finish = (reason: FinishReason): ChatCompletionChunk[] => {
    if (finished) return [];
    finished = true;
    return [...start(), chunk({}, reason)];
  };
  /** The stream's last chunk: usage, when the upstream reported it (else the gateway counts). */
  const usageChunk = (): ChatCompletionChunk[] => {
    done = true;
    const usage = toUsage(counts);
    return usage ? [{ id, object: 'chat.completion.chunk', created, model: meta.model, choices: [], usage }] : [];
  };
  const recordUsage = (u: unknown): void => {
    if (!isRecord(u)) return;
    for (const key of [
      'input_tokens',
      'output_tokens',
      'cache_read_input_tokens',
      'cache_creation_input_tokens',
    ] as const) {
      const v = u[key];
      if (typeof v === 'number') counts[key] = v;
    }
  };

  function onBlockStart(index: number, block: Record<string, unknown>): ChatCompletionChunk[] {
    const out = start();
    if (block.type === 'text' && typeof block.text === 'string' && block.text !== '')
      out.push(chunk({ content: block.text }));
    if (block.type !== 'tool_use') return out; // thinking and server-tool blocks have no OpenAI counterpart
    if (block.name === JSON_MODE_TOOL_NAME) {
      // Forced tool use means Anthropic writes no text before it, so the content stream is the JSON alone.
      jsonBlocks.add(index);
      return out;
    }
    const toolIndex = toolIndexByBlock.size;
    toolIndexByBlock.set(index, toolIndex);
    out.push(
      toolDelta({
        index: toolIndex,
        id: String(block.id),
        type: 'function',
        function: { name: String(block.name), arguments: '' },
      }),
    );
    // Anthropic starts with input {} and streams the JSON; a compatible server may send it whole here
    if (isRecord(block.input) && Object.keys(block.input).length > 0) {
      out.push(toolDelta({ index: toolIndex, function: { arguments: JSON.stringify(block.input) } }));
    }
    return out;
  }

  function onBlockDelta(index: number, delta: Record<string, unknown>): ChatCompletionChunk[] {
    const out = start();
    if (delta.type === 'text_delta' && typeof delta.text === 'string' && delta.text !== '') {
      out.push(chunk({ content: delta.text }));
    } else if (
      delta.type === 'input_json_delta' &&
      typeof delta.partial_json === 'string' &&
      delta.partial_json !== ''
    ) {
      const toolIndex = toolIndexByBlock.get(index);
      if (jsonBlocks.has(index)) out.push(chunk({ content: delta.partial_json }));
      else if (toolIndex !== undefined)
        out.push(toolDelta({ index: toolIndex, function: { arguments: delta.partial_json } }));
    }
    return out;
  }

  function push(event: SseEvent): ChatCompletionChunk[] {
    if (done) return [];
    const data = parseData(event.data);
    const type = typeof data.type === 'string' ? data.type : event.event;
    switch (type) {
      case 'message_start':
        if (isRecord(data.message)) recordUsage(data.message.usage);
        return start();
      case 'content_block_start':
        return isRecord(data.content_block) ? onBlockStart(Number(data.index), data.content_block) : [];
      case 'content_block_delta':
        return isRecord(data.delta) ? onBlockDelta(Number(data.index), data.delta) : [];
      case 'message_delta': {
        recordUsage(data.usage);
        const reason = isRecord(data.delta) ? data.delta.stop_reason : undefined;
        if (typeof reason !== 'string') return [];
        return finish(toFinishReason(reason as AnthropicStopReason, toolIndexByBlock.size > 0));
      }
      case 'message_stop':
        return [...finish(toolIndexByBlock.size > 0 ? 'tool_calls' : 'stop'), ...usageChunk()];
      case 'error': {
        const err = isRecord(data.error) ? data.error : {};
        const message = typeof err.message === 'string' ? sanitizeMessage(err.message) : '';
        throw new UpstreamStreamError(message || 'the upstream provider reported an error during the stream');
      }
      default:
        // ping, content_block_stop, and event types Anthropic may add later carry nothing for the client
        return [];
    }
  }

  function end(): ChatCompletionChunk[] {
    if (done) return [];
    // Without a stop reason the answer was cut off: the gateway must end the client's stream with an error.
    if (!finished) throw new UpstreamStreamError('the upstream stream ended before the response was complete');
    return usageChunk();
  }

  return { push, end };
}

function parseData(data: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    throw new UpstreamMalformedError('the upstream sent a stream event that is not JSON');
  }
  if (!isRecord(value)) throw new UpstreamMalformedError('the upstream sent a stream event that is not an object');
  return value;
}
