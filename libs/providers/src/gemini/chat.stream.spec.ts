import { UpstreamStreamError } from '../errors';
import type { ChatCompletionChunk } from '../types';
import { UpstreamMalformedError } from '../types';
import { chatStreamMapper } from './chat.stream';
import { NOW_MS, sseEvents, streamFixture, testContext, validateOpenAI } from './test-util';

const deltas = (chunks: ChatCompletionChunk[]) => chunks.map((c) => c.choices[0]?.delta);
const finishes = (chunks: ChatCompletionChunk[]) =>
  chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason)).filter(Boolean);

describe('gemini chat streamMapper', () => {
  it('streams text in spec order: role, content deltas, finish, usage', () => {
    const chunks = streamFixture('stream-text.sse');
    expect(deltas(chunks)).toEqual([
      { role: 'assistant', content: '' },
      { content: 'The' },
      { content: ' capital of France' },
      { content: ' is Paris.' },
      {},
      undefined,
    ]);
    expect(chunks.map((c) => c.choices[0]?.finish_reason ?? null)).toEqual([null, null, null, null, 'stop', null]);
    const last = chunks[chunks.length - 1];
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 7, total_tokens: 16 });
  });

  it('gives every chunk one id, created, model and object', () => {
    const chunks = streamFixture('stream-text.sse');
    expect(new Set(chunks.map((c) => c.id))).toEqual(new Set(['chatcmpl-1']));
    for (const c of chunks) {
      expect(c).toMatchObject({
        object: 'chat.completion.chunk',
        created: Math.floor(NOW_MS / 1000),
        model: 'gemini-flash',
      });
    }
  });

  it('emits a whole function call as one tool_call delta and finishes with tool_calls', () => {
    const chunks = streamFixture('stream-function-call.sse');
    expect(deltas(chunks)[1]).toEqual({
      tool_calls: [
        {
          index: 0,
          id: 'call-2',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"location":"Boston, MA","unit":"celsius"}' },
          extra_content: { google: { thought_signature: 'CiQBVKhc7p3wq0GLdAnrnIM4nzL1f8e6rOEgpIUlG3iGJtxkxCw=' } },
        },
      ],
    });
    expect(finishes(chunks)).toEqual(['tool_calls']);
    expect(chunks[chunks.length - 1].usage).toMatchObject({
      completion_tokens: 74,
      completion_tokens_details: { reasoning_tokens: 54 },
    });
  });

  it('numbers parallel tool calls 0, 1 after the text', () => {
    const chunks = streamFixture('stream-parallel-function-calls.sse');
    const d = deltas(chunks);
    expect(d[1]).toEqual({ content: 'Checking both cities.' });
    expect(d.slice(2, 4).map((x) => x?.tool_calls?.map((t) => [t.index, t.function?.arguments]))).toEqual([
      [[0, '{"location":"Paris"}']],
      [[1, '{"location":"Tokyo"}']],
    ]);
    expect(new Set(d.slice(2, 4).map((x) => x?.tool_calls?.[0].id)).size).toBe(2);
    expect(finishes(chunks)).toEqual(['tool_calls']);
  });

  it('streams the first function call only when the client sent parallel_tool_calls: false', () => {
    const mapper = chatStreamMapper(testContext(), { model: 'm', parallelToolCalls: false });
    const chunks = [...sseEvents('stream-parallel-function-calls.sse').flatMap((e) => mapper.push(e)), ...mapper.end()];
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls.map((d) => [d.index, d.function?.name])).toEqual([[0, 'get_weather']]);
    expect(finishes(chunks)).toEqual(['tool_calls']);
  });

  it('maps MAX_TOKENS to length', () => {
    const chunks = streamFixture('stream-max-tokens.sse');
    expect(finishes(chunks)).toEqual(['length']);
    expect(chunks[chunks.length - 1].usage).toMatchObject({ prompt_tokens: 6, completion_tokens: 10 });
  });

  it('maps a SAFETY stop mid-answer to content_filter', () => {
    const chunks = streamFixture('stream-safety.sse');
    expect(deltas(chunks).slice(0, 2)).toEqual([
      { role: 'assistant', content: '' },
      { content: 'I can tell you that' },
    ]);
    expect(finishes(chunks)).toEqual(['content_filter']);
  });

  it('answers a blocked prompt with a role chunk and a content_filter finish', () => {
    const chunks = streamFixture('stream-prompt-blocked.sse');
    expect(deltas(chunks)).toEqual([{ role: 'assistant', content: '' }, {}, undefined]);
    expect(finishes(chunks)).toEqual(['content_filter']);
    expect(chunks[2].usage?.prompt_tokens).toBe(15);
  });

  it('leaves thought parts out and reports cached tokens in the usage chunk', () => {
    const chunks = streamFixture('stream-cached-usage.sse');
    expect(deltas(chunks).filter((d) => d?.content)).toEqual([{ content: 'Revenue grew 12%.' }]);
    expect(chunks[chunks.length - 1].usage).toMatchObject({
      prompt_tokens: 4213,
      completion_tokens: 194,
      prompt_tokens_details: { cached_tokens: 4096 },
    });
  });

  it('opens each candidate with its own role chunk', () => {
    const mapper = chatStreamMapper(testContext(), { model: 'm' });
    const chunks = mapper.push({
      data: JSON.stringify({
        candidates: [
          { content: { parts: [{ text: 'A' }] } },
          { content: { parts: [{ text: 'B' }] }, index: 1, finishReason: 'STOP' },
        ],
      }),
    });
    expect(chunks.map((c) => [c.choices[0].index, c.choices[0].delta, c.choices[0].finish_reason])).toEqual([
      [0, { role: 'assistant', content: '' }, null],
      [0, { content: 'A' }, null],
      [1, { role: 'assistant', content: '' }, null],
      [1, { content: 'B' }, null],
      [1, {}, 'stop'],
    ]);
    mapper.push({ data: JSON.stringify({ candidates: [{ content: { parts: [] }, finishReason: 'STOP' }] }) });
    expect(mapper.end()).toEqual([]);
  });

  it('calls a stream that ends cleanly before every candidate finished an upstream stream error', () => {
    const cut = chatStreamMapper(testContext(), { model: 'm' });
    sseEvents('stream-text.sse')
      .slice(0, 2)
      .forEach((e) => cut.push(e));
    expect(() => cut.end()).toThrow(UpstreamStreamError);
    expect(() => chatStreamMapper(testContext(), { model: 'm' }).end()).toThrow(/ended before the response/);
    const oneOfTwo = chatStreamMapper(testContext(), { model: 'm' });
    oneOfTwo.push({
      data: JSON.stringify({
        candidates: [{ content: { parts: [{ text: 'A' }] } }, { index: 1, finishReason: 'STOP' }],
      }),
    });
    expect(() => oneOfTwo.end()).toThrow(UpstreamStreamError);
  });

  it('throws UpstreamStreamError with a sanitized message on an error event', () => {
    const mapper = chatStreamMapper(testContext(), { model: 'm' });
    const [first, second] = sseEvents('stream-error.sse');
    expect(deltas(mapper.push(first))).toEqual([{ role: 'assistant', content: '' }, { content: 'Partial answer' }]);
    let caught: unknown;
    try {
      mapper.push(second);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(UpstreamStreamError);
    const message = (caught as Error).message;
    expect(message).toContain('INTERNAL');
    expect(message).not.toMatch(/10\.0\.3\.17|https?:|googleapis/);
  });

  it('throws UpstreamMalformedError on a non-JSON event and ignores empty ones', () => {
    const mapper = chatStreamMapper(testContext(), { model: 'm' });
    expect(mapper.push({ data: '' })).toEqual([]);
    expect(() => mapper.push({ data: '<html>' })).toThrow(UpstreamMalformedError);
    expect(() => mapper.push({ data: '{"candidates":"x"}' })).toThrow(UpstreamMalformedError);
  });

  (validateOpenAI ? it : it.skip)('produces chunks valid against CreateChatCompletionStreamResponse', () => {
    for (const name of [
      'stream-text.sse',
      'stream-function-call.sse',
      'stream-parallel-function-calls.sse',
      'stream-safety.sse',
    ]) {
      for (const chunk of streamFixture(name)) {
        expect([name, validateOpenAI?.('CreateChatCompletionStreamResponse', chunk)]).toEqual([name, []]);
      }
    }
  });
});
