// /v1/messages edge, streaming: internal OpenAI chunks -> Anthropic's event sequence
// (message_start, ping, content_block_start/delta/stop per block, message_delta, message_stop).
import type {
  AdapterContext,
  AnthropicStreamEvent,
  ChatCompletion,
  ChatCompletionChunk,
  FinishReason,
} from './anthropic-types';
import { toAnthropicStopReason, toAnthropicUsage } from './messages-response';

export interface MessageEventsMapper {
  push(chunk: ChatCompletionChunk): AnthropicStreamEvent[];
  /** once the upstream stream ended; closes whatever is open */
  end(): AnthropicStreamEvent[];
}

type Usage = NonNullable<ChatCompletion['usage']>;

/**
 * `inputTokens`: the prompt's size as counted before the call, for message_start (Anthropic reports it
 * there, and clients such as coding agents read it); message_delta carries the upstream's own count.
 */
export function chatChunksToMessageEvents(model: string, ctx: AdapterContext, inputTokens = 0): MessageEventsMapper {
  const id = ctx.newId('msg');
  let started = false;
  let done = false;
  let nextBlock = 0;
  /** the Anthropic block receiving deltas; Anthropic blocks never interleave, so one is open at a time */
  let open: { index: number; kind: 'text' | 'tool_use' } | undefined;
  /** OpenAI tool call index -> Anthropic block index */
  const toolBlocks = new Map<number, number>();
  let finishReason: FinishReason | undefined;
  let usage: Usage | undefined;

  const start = (): AnthropicStreamEvent[] => {
    if (started) return [];
    started = true;
    const known = toAnthropicUsage(usage);
    return [
      {
        type: 'message_start',
        message: {
          id,
          type: 'message',
          role: 'assistant',
          model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: known.input_tokens || inputTokens, output_tokens: 0 },
        },
      },
      { type: 'ping' },
    ];
  };
  const close = (out: AnthropicStreamEvent[]): void => {
    if (open) out.push({ type: 'content_block_stop', index: open.index });
    open = undefined;
  };
  const openBlock = (out: AnthropicStreamEvent[], kind: 'text' | 'tool_use'): number => {
    close(out);
    open = { index: nextBlock++, kind };
    return open.index;
  };
  const finish = (out: AnthropicStreamEvent[]): void => {
    close(out);
    const u = toAnthropicUsage(usage);
    out.push(
      {
        type: 'message_delta',
        delta: { stop_reason: toAnthropicStopReason(finishReason, toolBlocks.size > 0), stop_sequence: null },
        usage: usage
          ? {
              output_tokens: u.output_tokens,
              input_tokens: u.input_tokens,
              cache_creation_input_tokens: u.cache_creation_input_tokens,
              cache_read_input_tokens: u.cache_read_input_tokens,
            }
          : { output_tokens: 0 },
      },
      { type: 'message_stop' },
    );
    done = true;
  };

  function push(chunk: ChatCompletionChunk): AnthropicStreamEvent[] {
    if (done) return [];
    if (chunk.usage) usage = chunk.usage;
    const out = start();
    const choice = chunk.choices?.find((c) => c.index === 0);
    const delta = choice?.delta ?? {};

    const text = typeof delta.content === 'string' && delta.content !== '' ? delta.content : delta.refusal;
    if (typeof text === 'string' && text !== '') {
      let index = open?.kind === 'text' ? open.index : undefined;
      if (index === undefined) {
        index = openBlock(out, 'text');
        out.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      }
      out.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } });
    }

    for (const call of delta.tool_calls ?? []) {
      let index = toolBlocks.get(call.index);
      if (index === undefined) {
        index = openBlock(out, 'tool_use');
        toolBlocks.set(call.index, index);
        out.push({
          type: 'content_block_start',
          index,
          content_block: {
            type: 'tool_use',
            id: call.id ?? ctx.newId('toolu'),
            name: call.function?.name ?? '',
            input: {},
          },
        });
      }
      // Arguments of an earlier call after another started (rare upstreams interleave) still go to its own index.
      const args = call.function?.arguments;
      if (args)
        out.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: args } });
    }

    if (choice?.finish_reason) {
      finishReason = choice.finish_reason;
      close(out);
    }
    // message_delta carries usage, which OpenAI streams send after the finish chunk: wait for it (or end()).
    if (finishReason && chunk.usage) finish(out);
    return out;
  }

  function end(): AnthropicStreamEvent[] {
    if (done) return [];
    const out = start();
    finish(out);
    return out;
  }

  return { push, end };
}
