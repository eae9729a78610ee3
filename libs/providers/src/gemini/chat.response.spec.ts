import { UpstreamMalformedError } from '../types';
import { chatFromUpstream, mapFinishReason } from './chat.response';
import { fixture, NOW_MS, testContext, validateOpenAI } from './test-util';

const meta = { model: 'gemini-flash' };
const fromFixture = (name: string) => chatFromUpstream(fixture(name), testContext(), meta);

describe('gemini chat fromUpstream', () => {
  it('maps a plain text answer with ids, time, model alias and usage', () => {
    const c = fromFixture('generate-text.json');
    expect(c).toMatchObject({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: Math.floor(NOW_MS / 1000),
      model: 'gemini-flash',
    });
    expect(c.choices).toEqual([
      {
        index: 0,
        message: { role: 'assistant', content: 'The capital of France is Paris.', refusal: null },
        finish_reason: 'stop',
        logprobs: null,
      },
    ]);
    expect(c.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 7, total_tokens: 16 });
  });

  it('reports no usage when usageMetadata has no counts (proto3 zeros aside), so the gateway counts', () => {
    const body = fixture('generate-text.json') as Record<string, unknown>;
    expect(chatFromUpstream({ ...body, usageMetadata: undefined }, testContext(), meta).usage).toBeUndefined();
    expect(chatFromUpstream({ ...body, usageMetadata: { totalTokenCount: 3 } }, testContext(), meta).usage).toBe(
      undefined,
    );
  });

  it('maps a function call to tool_calls with a gateway id, JSON arguments and finish_reason tool_calls', () => {
    const c = fromFixture('generate-function-call.json');
    const choice = c.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toEqual([
      {
        id: 'call-1',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"location":"Boston, MA","unit":"celsius"}' },
        extra_content: { google: { thought_signature: 'CiQBVKhc7p3wq0GLdAnrnIM4nzL1f8e6rOEgpIUlG3iGJtxkxCw=' } },
      },
    ]);
    expect(c.id).toBe('chatcmpl-2');
    // thinking tokens are output tokens
    expect(c.usage).toMatchObject({
      prompt_tokens: 74,
      completion_tokens: 74,
      total_tokens: 148,
      completion_tokens_details: { reasoning_tokens: 54 },
    });
  });

  it('keeps the first function call only when the client sent parallel_tool_calls: false', () => {
    const c = chatFromUpstream(fixture('generate-parallel-function-calls.json'), testContext(), {
      ...meta,
      parallelToolCalls: false,
    });
    expect(c.choices[0].message.tool_calls).toHaveLength(1);
    expect(c.choices[0].finish_reason).toBe('tool_calls');
  });

  it('maps parallel function calls to several tool_calls next to the text', () => {
    const choice = fromFixture('generate-parallel-function-calls.json').choices[0];
    expect(choice.message.content).toBe('Let me check both cities.');
    expect(choice.message.tool_calls?.map((t) => [t.id, t.function.name, t.function.arguments])).toEqual([
      ['call-1', 'get_weather', '{"location":"Paris"}'],
      ['call-2', 'get_weather', '{"location":"Tokyo"}'],
      ['call-3', 'get_time', '{}'],
    ]);
    expect(choice.finish_reason).toBe('tool_calls');
  });

  it('maps MAX_TOKENS to length', () => {
    const c = fromFixture('generate-max-tokens.json');
    expect(c.choices[0].finish_reason).toBe('length');
    expect(c.choices[0].message.content).toBe('Once upon a time, in a kingdom far');
  });

  it('maps a SAFETY-stopped candidate to content_filter with no content', () => {
    const c = fromFixture('generate-safety.json');
    expect(c.choices).toHaveLength(1);
    expect(c.choices[0]).toMatchObject({ index: 0, finish_reason: 'content_filter', message: { content: null } });
    expect(c.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 0, total_tokens: 12 });
  });

  it('answers a blocked prompt (promptFeedback.blockReason, no candidates) with one content_filter choice', () => {
    const c = fromFixture('generate-prompt-blocked.json');
    expect(c.choices).toEqual([
      {
        index: 0,
        message: { role: 'assistant', content: null, refusal: null },
        finish_reason: 'content_filter',
        logprobs: null,
      },
    ]);
    expect(c.usage?.prompt_tokens).toBe(15);
  });

  it.each([
    ['RECITATION', 'content_filter'],
    ['BLOCKLIST', 'content_filter'],
    ['PROHIBITED_CONTENT', 'content_filter'],
    ['SPII', 'content_filter'],
    ['STOP', 'stop'],
    ['OTHER', 'stop'],
    ['MAX_TOKENS', 'length'],
  ])('maps finishReason %s to %s', (reason, expected) => {
    expect(mapFinishReason(reason, false)).toBe(expected);
  });

  it('returns JSON-mode text as the message content', () => {
    const content = fromFixture('generate-json-mode.json').choices[0].message.content;
    expect(JSON.parse(content ?? '')).toEqual({ name: 'Ada Lovelace', born: 1815 });
  });

  it('reports cached tokens and leaves thought parts out of the content', () => {
    const c = fromFixture('generate-cached-usage.json');
    expect(c.choices[0].message.content).toBe('The report covers Q3 revenue growth of 12%.');
    expect(c.usage).toEqual({
      prompt_tokens: 4213,
      completion_tokens: 199,
      total_tokens: 4412,
      prompt_tokens_details: { cached_tokens: 4096 },
      completion_tokens_details: { reasoning_tokens: 188 },
    });
  });

  it('makes one choice per candidate, defaulting an omitted index to the position', () => {
    const c = fromFixture('generate-multiple-candidates.json');
    expect(c.choices.map((ch) => [ch.index, ch.message.content])).toEqual([
      [0, 'Hello!'],
      [1, 'Hi there!'],
    ]);
  });

  it.each([
    ['a string', 'oops'],
    ['null', null],
    ['an array', []],
    ['no candidates', { usageMetadata: { promptTokenCount: 1 } }],
    ['empty candidates', { candidates: [] }],
    ['candidates not an array', { candidates: {} }],
    ['parts not an array', { candidates: [{ content: { parts: 'x' } }] }],
    ['a non-string text', { candidates: [{ content: { parts: [{ text: 5 }] } }] }],
    ['a nameless functionCall', { candidates: [{ content: { parts: [{ functionCall: { args: {} } }] } }] }],
  ])('throws UpstreamMalformedError on %s', (_label, body) => {
    expect(() => chatFromUpstream(body, testContext(), meta)).toThrow(UpstreamMalformedError);
  });

  (validateOpenAI ? it : it.skip)('produces bodies valid against CreateChatCompletionResponse', () => {
    for (const name of [
      'generate-text.json',
      'generate-function-call.json',
      'generate-parallel-function-calls.json',
      'generate-safety.json',
      'generate-prompt-blocked.json',
      'generate-cached-usage.json',
    ]) {
      expect([name, validateOpenAI?.('CreateChatCompletionResponse', fromFixture(name))]).toEqual([name, []]);
    }
  });
});
