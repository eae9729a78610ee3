import { MessageStream } from '@anthropic-ai/sdk/lib/MessageStream';
import { anthropicSse } from '../../../../test/fixtures/anthropic/load';
import { anthropicChat } from '../../../providers/src/anthropic';
import type { AnthropicStreamEvent } from '../../../providers/src/anthropic/types';
import type { AdapterContext, ChatCompletionChunk, ToolCallDelta } from '../../../providers/src/types';
import { chatChunksToMessageEvents } from './messages-stream';

function testCtx(): AdapterContext {
  let n = 0;
  return { now: () => 1_700_000_000_000, newId: (prefix) => `${prefix}_test${++n}` };
}

type Delta = ChatCompletionChunk['choices'][number]['delta'];
const chunk = (
  delta: Delta,
  finish: ChatCompletionChunk['choices'][number]['finish_reason'] = null,
): ChatCompletionChunk => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, delta, finish_reason: finish }],
});
const usageChunk = (prompt: number, completion: number, cached = 0): ChatCompletionChunk => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [],
  usage: {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached },
  },
});
const tool = (d: ToolCallDelta) => chunk({ tool_calls: [d] });

function run(chunks: ChatCompletionChunk[]): AnthropicStreamEvent[] {
  const mapper = chatChunksToMessageEvents('claude-alias', testCtx());
  return [...chunks.flatMap((c) => mapper.push(c)), ...mapper.end()];
}

/** What the official SDK accumulates from these events: it throws on an out-of-order sequence. */
async function sdkFinalMessage(events: AnthropicStreamEvent[]) {
  const bytes = new TextEncoder().encode(events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
  return MessageStream.fromReadableStream(body).finalMessage();
}

const textStream = [
  chunk({ role: 'assistant', content: '' }),
  chunk({ content: 'Hello' }),
  chunk({ content: ' there' }),
  chunk({}, 'stop'),
  usageChunk(120, 5, 100),
];

describe('chatChunksToMessageEvents: text', () => {
  const events = run(textStream);

  it('emits the exact Anthropic event sequence', () => {
    expect(events.map((e) => e.type)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
  });

  it('opens the message with an id from ctx, the model and zero usage', () => {
    expect(events[0]).toEqual({
      type: 'message_start',
      message: {
        id: 'msg_test1',
        type: 'message',
        role: 'assistant',
        model: 'claude-alias',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 0, output_tokens: 0 },
      },
    });
  });

  it('streams text as text_delta in block 0', () => {
    expect(events[2]).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    expect(events[3]).toEqual({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } });
    expect(events[5]).toEqual({ type: 'content_block_stop', index: 0 });
  });

  it('puts stop_reason and the usage chunk’s counts in message_delta', () => {
    expect(events[6]).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 5, input_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 100 },
    });
  });

  it('waits for the usage chunk before message_delta', () => {
    const mapper = chatChunksToMessageEvents('claude-alias', testCtx());
    const early = textStream.slice(0, 4).flatMap((c) => mapper.push(c));
    expect(early.map((e) => e.type)).not.toContain('message_delta');
    expect(mapper.push(textStream[4]).map((e) => e.type)).toEqual(['message_delta', 'message_stop']);
    expect(mapper.end()).toEqual([]);
  });

  it('is accepted by the official Anthropic SDK', async () => {
    const m = await sdkFinalMessage(events);
    expect(m.content).toEqual([expect.objectContaining({ type: 'text', text: 'Hello there' })]);
    expect(m.stop_reason).toBe('end_turn');
    expect(m.usage.output_tokens).toBe(5);
  });
});

describe('chatChunksToMessageEvents: tools and endings', () => {
  const toolStream = [
    chunk({ role: 'assistant', content: '' }),
    chunk({ content: 'Checking both.' }),
    tool({ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }),
    tool({ index: 0, function: { arguments: '{"city":' } }),
    tool({ index: 0, function: { arguments: '"Paris"}' } }),
    tool({ index: 1, id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{}' } }),
    chunk({}, 'tool_calls'),
    usageChunk(50, 20),
  ];

  it('gives each tool call its own tool_use block with id, name, input {} and input_json_delta', () => {
    const events = run(toolStream);
    const starts = events.filter((e) => e.type === 'content_block_start');
    expect(starts).toEqual([
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      {
        type: 'content_block_start',
        index: 1,
        content_block: { type: 'tool_use', id: 'call_a', name: 'get_weather', input: {} },
      },
      {
        type: 'content_block_start',
        index: 2,
        content_block: { type: 'tool_use', id: 'call_b', name: 'get_time', input: {} },
      },
    ]);
    const json = events.filter((e) => e.type === 'content_block_delta' && e.delta.type === 'input_json_delta');
    expect(json.map((e) => e.type === 'content_block_delta' && [e.index, e.delta])).toEqual([
      [1, { type: 'input_json_delta', partial_json: '{"city":' }],
      [1, { type: 'input_json_delta', partial_json: '"Paris"}' }],
      [2, { type: 'input_json_delta', partial_json: '{}' }],
    ]);
    expect(
      events.filter((e) => e.type === 'content_block_stop').map((e) => e.type === 'content_block_stop' && e.index),
    ).toEqual([0, 1, 2]);
    const delta = events.find((e) => e.type === 'message_delta');
    expect(delta?.type === 'message_delta' && delta.delta.stop_reason).toBe('tool_use');
  });

  it('is accepted by the official Anthropic SDK, which rebuilds the tool inputs', async () => {
    const m = await sdkFinalMessage(run(toolStream));
    expect(m.content.map((b) => (b.type === 'tool_use' ? [b.id, b.name, b.input] : b.type))).toEqual([
      'text',
      ['call_a', 'get_weather', { city: 'Paris' }],
      ['call_b', 'get_time', {}],
    ]);
  });

  it('closes with message_delta and message_stop at end() when no usage chunk comes', () => {
    const events = run([chunk({ role: 'assistant', content: '' }), chunk({ content: 'Cut' }), chunk({}, 'length')]);
    expect(events.slice(-3)).toEqual([
      { type: 'content_block_stop', index: 0 },
      { type: 'message_delta', delta: { stop_reason: 'max_tokens', stop_sequence: null }, usage: { output_tokens: 0 } },
      { type: 'message_stop' },
    ]);
  });

  it('finishes at once when usage rides on the finish chunk', () => {
    const mapper = chatChunksToMessageEvents('claude-alias', testCtx());
    mapper.push(chunk({ content: 'Hi' }));
    const last = mapper.push({ ...chunk({}, 'stop'), usage: usageChunk(10, 2).usage });
    expect(last.map((e) => e.type)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(mapper.push(chunk({ content: 'late' }))).toEqual([]);
  });

  it('still emits a whole message when the upstream sent nothing', () => {
    expect(run([]).map((e) => e.type)).toEqual(['message_start', 'ping', 'message_delta', 'message_stop']);
  });
});

describe('round trip: Anthropic SSE -> chat chunks -> Anthropic events', () => {
  // Pings and empty input_json_delta fragments carry nothing; ids are regenerated.
  const essential = (events: AnthropicStreamEvent[]) =>
    events
      .filter(
        (e) =>
          e.type !== 'ping' &&
          !(e.type === 'content_block_delta' && e.delta.type === 'input_json_delta' && e.delta.partial_json === ''),
      )
      .map((e) =>
        e.type === 'message_start'
          ? { type: e.type }
          : e.type === 'message_delta'
            ? { type: e.type, stop_reason: e.delta.stop_reason, output_tokens: e.usage.output_tokens }
            : e,
      );

  it.each(['stream-text.sse', 'stream-tool-use.sse', 'stream-parallel-tool-use.sse', 'stream-max-tokens.sse'])(
    '%s',
    (fixture) => {
      const sse = anthropicSse(fixture);
      const original = sse.map((e) => JSON.parse(e.data) as AnthropicStreamEvent);
      const upstream = anthropicChat.streamMapper(testCtx(), { model: 'claude-alias' });
      const chunks = [...sse.flatMap((e) => upstream.push(e)), ...upstream.end()];
      expect(essential(run(chunks))).toEqual(essential(original));
    },
  );
});

describe('message_start input tokens', () => {
  it('carries the counted prompt size when the upstream reports usage only at the end', () => {
    const ctx = { now: () => 0, newId: (p: string) => `${p}_1` };
    const m = chatChunksToMessageEvents('claude-x', ctx, 42);
    const events = m.push({
      id: 'c',
      object: 'chat.completion.chunk',
      created: 0,
      model: 'x',
      choices: [{ index: 0, delta: { role: 'assistant', content: 'hi' }, finish_reason: null }],
    });
    const start = events.find((e) => e.type === 'message_start') as
      { message: { usage: { input_tokens: number } } } | undefined;
    expect(start?.message.usage.input_tokens).toBe(42);
  });
});
