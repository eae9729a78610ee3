import { countPromptTokens, FILLER, planReply } from './content';
import { defaultDimensions, embed, toBase64 } from './embeddings';
import { FailCounters, parseKnobList, readDirective, splitKnobPrefix, stripDirectives } from './knobs';
import { sampleFromSchema } from './schema-sample';
import type { Conversation, ConvMessage } from './types';

const user = (text: string, images = 0): ConvMessage => ({ role: 'user', text, userText: text, images });
const conv = (messages: ConvMessage[], extra: Partial<Conversation> = {}): Conversation => ({
  messages,
  tools: [],
  toolChoice: 'auto',
  parallelToolCalls: true,
  stop: [],
  n: 1,
  extraPromptChars: 0,
  ...extra,
});

describe('knob parsing', () => {
  it('reads numbers and booleans, ignores unknown names and junk values', () => {
    expect(parseKnobList('status=503, fail_count=1,no_usage,hang=0,bogus=1,tokens=abc')).toEqual({
      status: 503,
      fail_count: 1,
      no_usage: true,
      hang: false,
    });
  });

  it('splits stacked path prefixes, later ones winning', () => {
    expect(splitKnobPrefix('/_k/status=503/_k/status=429,tokens=3/v1/chat/completions')).toEqual({
      path: '/v1/chat/completions',
      knobs: { status: 429, tokens: 3 },
      raw: 'status=503,status=429,tokens=3',
    });
    expect(splitKnobPrefix('/v1/models').path).toBe('/v1/models');
  });

  it('reads directives and strips them from the echo', () => {
    const text = 'Hello [[demo: tokens=4, parallel]] world';
    expect(readDirective(text)).toEqual({ knobs: { tokens: 4, parallel: true }, raw: 'tokens=4, parallel' });
    expect(stripDirectives(text)).toBe('Hello world');
  });

  it('fails the first fail_count requests of one key, then succeeds', () => {
    const counters = new FailCounters();
    const knobs = { status: 503, fail_count: 2 };
    expect([1, 2, 3].map(() => counters.shouldFail('k', knobs))).toEqual([true, true, false]);
    expect(counters.shouldFail('other', knobs)).toBe(true);
    expect(counters.shouldFail('k', { status: 500 })).toBe(true);
  });
});

describe('planReply', () => {
  it('echoes the first five words and pads with filler to exactly `tokens` words', () => {
    const plan = planReply(conv([user('What is the capital of France? [[demo: tokens=3]]')]), {});
    const choice = plan.choices[0];
    expect(choice.kind).toBe('text');
    if (choice.kind !== 'text') return;
    expect(choice.text).toBe('Demo reply to "What is the capital of": alpha bravo charlie delta');
    expect(choice.pieces).toHaveLength(12);
    expect(plan.completionTokens).toBe(12);
    expect(choice.text).not.toContain('[[demo');
  });

  it('is deterministic and honours the tokens knob', () => {
    const a = planReply(conv([user('same input')]), { tokens: 30 });
    const b = planReply(conv([user('same input')]), { tokens: 30 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.completionTokens).toBe(30);
  });

  it('mentions images and counts them in prompt tokens', () => {
    const c = conv([user('Describe', 2)]);
    const choice = planReply(c, { tokens: 20 }).choices[0];
    expect(choice.kind === 'text' && choice.text).toContain('I see 2 image(s).');
    expect(countPromptTokens(c)).toBe(Math.ceil('Describe'.length / 4) + 4 + 170);
  });

  it('answers a tool result with its first 40 characters', () => {
    const result = '{"temperature": 21, "unit": "celsius", "city": "Paris"}';
    const c = conv([user('weather?'), { role: 'tool', text: result, userText: '', images: 0, toolResult: result }], {
      tools: [{ name: 'get_weather', schema: {} }],
    });
    const choice = planReply(c, {}).choices[0];
    expect(choice.kind).toBe('text');
    expect(choice.kind === 'text' && choice.text.startsWith(`Tool result received: ${result.slice(0, 40)}`)).toBe(true);
  });

  it('cuts before a stop sequence, and truncates to max tokens with finish length', () => {
    const stopped = planReply(conv([user('hi')], { stop: ['charlie'] }), {}).choices[0];
    expect(stopped).toMatchObject({ finish: 'stop_sequence', stopSequence: 'charlie' });
    expect(stopped.kind === 'text' && stopped.text).toBe('Demo reply to "hi": alpha bravo ');
    const cut = planReply(conv([user('hi')], { maxTokens: 3 }), {}).choices[0];
    expect(cut).toMatchObject({ finish: 'length', text: 'Demo reply to' });
  });

  it('calls the first tool, a forced one, or all of them for "parallel"', () => {
    const tools = [
      { name: 'a', schema: { type: 'object', properties: { x: { type: 'string' } } } },
      { name: 'b', schema: { type: 'object', properties: { y: { type: 'integer' } } } },
    ];
    const names = (c: Conversation) => {
      const choice = planReply(c, {}).choices[0];
      return choice.kind === 'tools' ? choice.calls.map((k) => `${k.name}${k.args}`) : [];
    };
    expect(names(conv([user('go')], { tools }))).toEqual(['a{"x":"demo"}']);
    expect(names(conv([user('go')], { tools, toolChoice: 'named', toolNames: ['b'] }))).toEqual(['b{"y":1}']);
    expect(names(conv([user('run in parallel')], { tools }))).toEqual(['a{"x":"demo"}', 'b{"y":1}']);
    expect(names(conv([user('run in parallel')], { tools, parallelToolCalls: false }))).toHaveLength(1);
    expect(names(conv([user('go')], { tools, toolChoice: 'none' }))).toEqual([]);
  });

  it('produces n different choices', () => {
    const plan = planReply(conv([user('hi')], { n: 2 }), {});
    const texts = plan.choices.map((c) => (c.kind === 'text' ? c.text : ''));
    expect(texts[0]).not.toBe(texts[1]);
    expect(texts[1]).toContain(FILLER[1]);
    expect(plan.completionTokens).toBe(24);
  });
});

describe('sampleFromSchema', () => {
  it('fills every property by type, first enum values, one array item, nested objects and $refs', () => {
    const schema = {
      type: 'object',
      properties: {
        s: { type: 'string' },
        n: { type: 'number', minimum: 5 },
        b: { type: 'boolean' },
        e: { type: 'string', enum: ['x', 'y'] },
        a: { type: 'array', items: { type: 'integer' } },
        o: { $ref: '#/$defs/inner' },
        u: { anyOf: [{ type: 'null' }, { type: 'string' }] },
        g: { type: 'STRING', nullable: true },
      },
      required: ['s', 'extra'],
      $defs: { inner: { type: 'object', properties: { deep: { type: 'boolean' } } } },
    };
    expect(sampleFromSchema(schema)).toEqual({
      s: 'demo',
      n: 5,
      b: true,
      e: 'x',
      a: [1],
      o: { deep: true },
      u: 'demo',
      g: 'demo',
      extra: 'demo',
    });
  });
});

describe('embeddings', () => {
  it('are deterministic unit vectors, different per text', () => {
    const a = embed('hello', 64);
    expect(Array.from(embed('hello', 64))).toEqual(Array.from(a));
    expect(Array.from(embed('other', 64))).not.toEqual(Array.from(a));
    const norm = Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));
    expect(norm).toBeCloseTo(1, 5);
    expect(Buffer.from(toBase64(a), 'base64').readFloatLE(4)).toBe(a[1]);
  });

  it('know the default sizes of the usual models', () => {
    expect(defaultDimensions('text-embedding-3-small')).toBe(1536);
    expect(defaultDimensions('openai/text-embedding-3-large')).toBe(3072);
    expect(defaultDimensions('qwen3-vl-embedding-8b')).toBe(768);
    expect(defaultDimensions('Qwen/Qwen3-VL-Embedding-8B')).toBe(768);
    expect(defaultDimensions('anything-else')).toBe(256);
  });
});
