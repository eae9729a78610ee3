import { anthropicJson } from '../../../../test/fixtures/anthropic/load';
import type { AdapterContext } from '../types';
import { UpstreamMalformedError } from '../types';
import { anthropicChat } from './index';

function testCtx(): AdapterContext {
  let n = 0;
  return { now: () => 1_700_000_000_999, newId: (prefix) => `${prefix}-test${++n}` };
}
const meta = { model: 'claude-alias' };
const fromFixture = (name: string) => anthropicChat.fromUpstream(anthropicJson(name), testCtx(), meta);

describe('anthropic fromUpstream', () => {
  it('maps a text message: id, created, model, joined text, stop', () => {
    const c = fromFixture('message-text.json');
    expect(c).toMatchObject({
      id: 'chatcmpl-test1',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'claude-alias',
    });
    expect(c.choices).toHaveLength(1);
    expect(c.choices[0].message).toEqual({
      role: 'assistant',
      content: 'Hello! How can I help you today?',
      refusal: null,
    });
    expect(c.choices[0].finish_reason).toBe('stop');
  });

  it('reports no usage when the upstream sent none or only part of it (the gateway counts instead)', () => {
    const body = anthropicJson('message-text.json') as Record<string, unknown>;
    expect(anthropicChat.fromUpstream({ ...body, usage: undefined }, testCtx(), meta).usage).toBeUndefined();
    expect(anthropicChat.fromUpstream({ ...body, usage: { output_tokens: 9 } }, testCtx(), meta).usage).toBeUndefined();
  });

  it('counts cache reads and writes as prompt tokens, and reads as cached_tokens', () => {
    const { usage } = fromFixture('message-text.json');
    expect(usage).toMatchObject({
      prompt_tokens: 12 + 2048 + 100,
      completion_tokens: 9,
      total_tokens: 12 + 2048 + 100 + 9,
      prompt_tokens_details: { cached_tokens: 2048, cache_creation_tokens: 100 },
    });
  });

  it('maps stop_sequence to stop', () => {
    expect(fromFixture('message-stop-sequence.json').choices[0].finish_reason).toBe('stop');
  });

  it('maps max_tokens to length', () => {
    const c = fromFixture('message-max-tokens.json');
    expect(c.choices[0].finish_reason).toBe('length');
    expect(c.choices[0].message.content).toBe('Once upon a time, in a land far');
  });

  it('maps refusal to content_filter', () => {
    expect(fromFixture('message-refusal.json').choices[0].finish_reason).toBe('content_filter');
  });

  it('maps tool_use to tool_calls with JSON-stringified arguments, keeping the text', () => {
    const c = fromFixture('message-tool-use.json');
    expect(c.choices[0].finish_reason).toBe('tool_calls');
    expect(c.choices[0].message.content).toBe("I'll check the weather in San Francisco.");
    expect(c.choices[0].message.tool_calls).toEqual([
      {
        id: 'toolu_01A09q90qw90lq917835lq9',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}' },
      },
    ]);
    expect(c.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
  });

  it('maps parallel tool_use blocks in order, with null content', () => {
    const c = fromFixture('message-parallel-tool-use.json');
    expect(c.choices[0].message.content).toBeNull();
    expect(
      c.choices[0].message.tool_calls?.map((t) => [t.id, t.function.name, JSON.parse(t.function.arguments)]),
    ).toEqual([
      ['toolu_01Weather', 'get_weather', { location: 'Paris' }],
      ['toolu_01Time', 'get_time', { timezone: 'Europe/Paris' }],
    ]);
  });

  it('turns the JSON-mode tool input into content with finish_reason stop', () => {
    const c = fromFixture('message-json-mode.json');
    expect(c.choices[0].finish_reason).toBe('stop');
    expect(c.choices[0].message.tool_calls).toBeUndefined();
    expect(JSON.parse(c.choices[0].message.content ?? '')).toEqual({
      name: 'Ada Lovelace',
      born: 1815,
      fields: ['mathematics', 'computing'],
    });
  });

  it('in JSON mode, drops text around the answer so that content parses', () => {
    const body = {
      ...anthropicJson<Record<string, unknown>>('message-json-mode.json'),
      content: [
        { type: 'text', text: 'Here is the JSON:' },
        { type: 'tool_use', id: 't', name: 'switchyard_json_response', input: { ok: true } },
      ],
    };
    expect(anthropicChat.fromUpstream(body, testCtx(), meta).choices[0].message.content).toBe('{"ok":true}');
  });

  it('skips thinking blocks', () => {
    const body = {
      ...anthropicJson<Record<string, unknown>>('message-text.json'),
      content: [
        { type: 'thinking', thinking: 'Let me think', signature: 'sig' },
        { type: 'text', text: 'Answer' },
      ],
    };
    expect(anthropicChat.fromUpstream(body, testCtx(), meta).choices[0].message.content).toBe('Answer');
  });

  it.each([
    ['null', null],
    ['a string', 'Internal Server Error'],
    ['an error envelope', { type: 'error', error: { type: 'api_error', message: 'boom' } }],
    ['a message without content', { type: 'message', role: 'assistant' }],
    ['a tool_use without id', { type: 'message', content: [{ type: 'tool_use', name: 'x', input: {} }] }],
    ['a text block without text', { type: 'message', content: [{ type: 'text' }] }],
  ])('throws UpstreamMalformedError on %s', (_label, junk) => {
    expect(() => anthropicChat.fromUpstream(junk, testCtx(), meta)).toThrow(UpstreamMalformedError);
  });
});
