import { anthropicSse } from '../../../../test/fixtures/anthropic/load';
import type { AdapterContext, ChatCompletionChunk, SseEvent } from '../types';
import { UpstreamMalformedError } from '../types';
import { UpstreamStreamError } from '../errors';
import { anthropicChat } from './index';

function testCtx(): AdapterContext {
  let n = 0;
  return { now: () => 1_700_000_000_999, newId: (prefix) => `${prefix}-test${++n}` };
}
const meta = { model: 'claude-alias' };

function mapStream(events: SseEvent[]): ChatCompletionChunk[] {
  const mapper = anthropicChat.streamMapper(testCtx(), meta);
  return [...events.flatMap((e) => mapper.push(e)), ...mapper.end()];
}
const mapFixture = (name: string) => mapStream(anthropicSse(name));

const contentOf = (chunks: ChatCompletionChunk[]) => chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
const finishes = (chunks: ChatCompletionChunk[]) => chunks.filter((c) => c.choices[0]?.finish_reason);

describe('anthropic streamMapper: text', () => {
  const chunks = mapFixture('stream-text.sse');

  it('starts with the role chunk', () => {
    expect(chunks[0].choices[0]).toEqual({
      index: 0,
      delta: { role: 'assistant', content: '' },
      finish_reason: null,
      logprobs: null,
    });
  });

  it('streams text deltas as content', () => {
    expect(contentOf(chunks)).toBe('Hello! How can I help?');
    expect(chunks.slice(1, 4).map((c) => c.choices[0].delta)).toEqual([
      { content: 'Hello' },
      { content: '! How can' },
      { content: ' I help?' },
    ]);
  });

  it('sends one finish chunk with an empty delta, then one usage chunk, last', () => {
    expect(finishes(chunks)).toHaveLength(1);
    const finish = chunks[chunks.length - 2];
    expect(finish.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    const last = chunks[chunks.length - 1];
    expect(last.choices).toEqual([]);
    // input from message_start (with cache reads and writes), output from message_delta
    expect(last.usage).toMatchObject({
      prompt_tokens: 25 + 1800 + 10,
      completion_tokens: 15,
      total_tokens: 25 + 1800 + 10 + 15,
      prompt_tokens_details: { cached_tokens: 1800 },
    });
  });

  it('gives every chunk the same id, created and model', () => {
    expect(new Set(chunks.map((c) => c.id))).toEqual(new Set(['chatcmpl-test1']));
    expect(new Set(chunks.map((c) => c.created))).toEqual(new Set([1_700_000_000]));
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'claude-alias')).toBe(true);
  });
});

describe('anthropic streamMapper: tools', () => {
  it('streams a tool_use block as an announced tool call, then argument fragments with only the index', () => {
    const chunks = mapFixture('stream-tool-use.sse');
    expect(contentOf(chunks)).toBe("Okay, let's check the weather for San Francisco, CA:");
    const toolChunks = chunks.filter((c) => c.choices[0]?.delta.tool_calls);
    expect(toolChunks[0].choices[0].delta.tool_calls).toEqual([
      {
        index: 0,
        id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
        type: 'function',
        function: { name: 'get_weather', arguments: '' },
      },
    ]);
    const fragments = toolChunks.slice(1).map((c) => c.choices[0].delta.tool_calls?.[0]);
    expect(fragments.every((f) => f && Object.keys(f).sort().join() === 'function,index' && f.index === 0)).toBe(true);
    expect(JSON.parse(fragments.map((f) => f?.function?.arguments).join(''))).toEqual({
      location: 'San Francisco, CA',
      unit: 'fahrenheit',
    });
    expect(finishes(chunks).map((c) => c.choices[0].finish_reason)).toEqual(['tool_calls']);
    expect(chunks[chunks.length - 1].usage).toMatchObject({ prompt_tokens: 472, completion_tokens: 89 });
  });

  it('numbers parallel tool calls 0, 1 among tool calls, not by content block', () => {
    const chunks = mapFixture('stream-parallel-tool-use.sse');
    const calls = new Map<number, { id?: string; name?: string; args: string }>();
    for (const c of chunks) {
      for (const d of c.choices[0]?.delta.tool_calls ?? []) {
        const call = calls.get(d.index) ?? { args: '' };
        if (d.id) call.id = d.id;
        if (d.function?.name) call.name = d.function.name;
        call.args += d.function?.arguments ?? '';
        calls.set(d.index, call);
      }
    }
    expect([...calls.entries()].map(([i, c]) => [i, c.id, c.name, JSON.parse(c.args)])).toEqual([
      [0, 'toolu_01Weather', 'get_weather', { location: 'Paris' }],
      [1, 'toolu_01Time', 'get_time', { timezone: 'Europe/Paris' }],
    ]);
    // message_delta repeating the input counts keeps them
    expect(chunks[chunks.length - 1].usage).toMatchObject({ prompt_tokens: 600, completion_tokens: 120 });
  });
});

describe('anthropic streamMapper: stops, JSON mode, errors', () => {
  it('maps max_tokens to length', () => {
    expect(finishes(mapFixture('stream-max-tokens.sse')).map((c) => c.choices[0].finish_reason)).toEqual(['length']);
  });

  it('streams the JSON-mode tool input as content, finishing with stop and no tool calls', () => {
    const chunks = mapFixture('stream-json-mode.sse');
    expect(chunks.some((c) => c.choices[0]?.delta.tool_calls)).toBe(false);
    expect(JSON.parse(contentOf(chunks))).toEqual({ name: 'Ada Lovelace', born: 1815 });
    expect(finishes(chunks).map((c) => c.choices[0].finish_reason)).toEqual(['stop']);
  });

  it('throws UpstreamStreamError with a safe message on an error event, after the chunks before it', () => {
    const mapper = anthropicChat.streamMapper(testCtx(), meta);
    const events = anthropicSse('stream-error.sse');
    const before = events.slice(0, -1).flatMap((e) => mapper.push(e));
    expect(contentOf(before)).toBe('Partial answer');
    const error = (() => {
      try {
        mapper.push(events[events.length - 1]);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UpstreamStreamError);
    expect((error as Error).message).toBe('Overloaded');
  });

  it('throws UpstreamStreamError when the upstream stream ends without a stop reason', () => {
    const mapper = anthropicChat.streamMapper(testCtx(), meta);
    anthropicSse('stream-text.sse')
      .slice(0, 4)
      .forEach((e) => mapper.push(e));
    expect(() => mapper.end()).toThrow(UpstreamStreamError);
  });

  it('still ends with the usage chunk when message_stop is missing after message_delta', () => {
    const events = anthropicSse('stream-text.sse');
    const chunks = mapStream(events.slice(0, -1));
    expect(chunks[chunks.length - 1]).toMatchObject({ choices: [], usage: { completion_tokens: 15 } });
  });

  it('ignores pings, thinking blocks and unknown event types', () => {
    const chunks = mapStream([
      {
        event: 'message_start',
        data: JSON.stringify({ type: 'message_start', message: { usage: { input_tokens: 3, output_tokens: 1 } } }),
      },
      { event: 'ping', data: '{"type": "ping"}' },
      {
        data: JSON.stringify({
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'thinking', thinking: '' },
        }),
      },
      {
        data: JSON.stringify({
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'thinking_delta', thinking: 'hmm' },
        }),
      },
      {
        data: JSON.stringify({
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'signature_delta', signature: 'x' },
        }),
      },
      { data: JSON.stringify({ type: 'something_new', payload: 1 }) },
      { data: JSON.stringify({ type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } }) },
      { data: JSON.stringify({ type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'ok' } }) },
      {
        data: JSON.stringify({
          type: 'message_delta',
          delta: { stop_reason: 'end_turn' },
          usage: { output_tokens: 2 },
        }),
      },
      { data: JSON.stringify({ type: 'message_stop' }) },
    ]);
    expect(chunks.map((c) => c.choices[0]?.delta ?? 'usage')).toEqual([
      { role: 'assistant', content: '' },
      { content: 'ok' },
      {},
      'usage',
    ]);
  });

  it('throws UpstreamMalformedError on an event whose data is not JSON', () => {
    const mapper = anthropicChat.streamMapper(testCtx(), meta);
    expect(() => mapper.push({ event: 'message_start', data: 'not json' })).toThrow(UpstreamMalformedError);
  });
});
