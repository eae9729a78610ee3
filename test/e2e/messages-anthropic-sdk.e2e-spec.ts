// /v1/messages (Anthropic's Messages API) through the official `@anthropic-ai/sdk`, in front of each
// upstream kind: the request converts to the internal chat shape, goes to an openai, anthropic or
// gemini upstream, and comes back as an Anthropic message or event stream.
import Anthropic from '@anthropic-ai/sdk';
import { startStack, TestStack } from './helpers/test-stack';
import { CHAT_KINDS, lastUpstream, nanos, PRICE_NANOS_PER_TOKEN, sdkTenant } from './helpers/sdk-setup';

const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

const WEATHER: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Current weather in a city',
  input_schema: {
    type: 'object',
    properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
    required: ['city', 'unit'],
  },
};

async function apiError(p: Promise<unknown>): Promise<InstanceType<typeof Anthropic.APIError>> {
  try {
    await p;
  } catch (e) {
    if (e instanceof Anthropic.APIError) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}

function textOf(m: Anthropic.Message): string {
  return m.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
}

/** Checks the order Anthropic streams in: message_start, blocks (start, deltas, stop) one at a time, message_delta, message_stop. */
function expectAnthropicOrder(events: Anthropic.RawMessageStreamEvent[]): void {
  const types = events.map((e) => e.type as string);
  expect(types[0]).toBe('message_start');
  expect(types.at(-1)).toBe('message_stop');
  expect(types.at(-2)).toBe('message_delta');
  expect(types.filter((t) => t === 'message_start' || t === 'message_delta' || t === 'message_stop')).toEqual([
    'message_start',
    'message_delta',
    'message_stop',
  ]);
  let open: number | undefined;
  let next = 0;
  for (const e of events.slice(1, -2)) {
    switch (e.type) {
      case 'content_block_start':
        expect(open).toBeUndefined();
        expect(e.index).toBe(next);
        open = e.index;
        break;
      case 'content_block_delta':
        expect(e.index).toBe(open);
        break;
      case 'content_block_stop':
        expect(e.index).toBe(open);
        open = undefined;
        next++;
        break;
      default:
        expect(e.type as string).toBe('ping');
    }
  }
  expect(open).toBeUndefined();
  expect(next).toBeGreaterThan(0);
}

describe('/v1/messages through the Anthropic SDK', () => {
  let stack: TestStack;
  let key: string;
  let client: Anthropic;

  beforeAll(async () => {
    stack = await startStack();
    key = (await sdkTenant(stack)).key;
    client = new Anthropic({ baseURL: stack.url, apiKey: key, maxRetries: 0 });
  });
  afterAll(() => stack.close());

  describe.each(CHAT_KINDS)('$kind kind ($model)', ({ kind, model }) => {
    it('creates a message: text, end_turn, usage, the alias as model, cost headers', async () => {
      const { data: m, response } = await client.messages
        .create({
          model,
          max_tokens: 256,
          messages: [{ role: 'user', content: 'What is the capital of France today?' }],
        })
        .withResponse();
      expect(lastUpstream(stack).provider).toBe(kind);
      expect(m.type).toBe('message');
      expect(m.role).toBe('assistant');
      expect(m.id).toMatch(/^msg_/);
      expect(m.model).toBe(model);
      expect(m.content).toHaveLength(1);
      expect(m.content[0].type).toBe('text');
      expect(textOf(m)).toMatch(/^Demo reply to "What is the capital of": alpha bravo/);
      expect(m.stop_reason).toBe('end_turn');
      expect(m.stop_sequence).toBeNull();
      expect(m.usage.input_tokens).toBeGreaterThan(0);
      expect(m.usage.output_tokens).toBe(12);
      expect(response.headers.get('x-request-id')).toBeTruthy();
      expect(response.headers.get('x-model-used')).toBe(model);
      const price = PRICE_NANOS_PER_TOKEN[model];
      expect(nanos(response.headers.get('x-credits-used')!)).toBe(
        price.input * BigInt(m.usage.input_tokens) + price.output * 12n,
      );
    });

    it('streams events in Anthropic order, and finalMessage() has the same text as the JSON answer', async () => {
      const params = {
        model,
        max_tokens: 256,
        messages: [{ role: 'user' as const, content: 'Stream me a short answer' }],
      };
      const json = await client.messages.create(params);
      const stream = client.messages.stream(params);
      const events: Anthropic.RawMessageStreamEvent[] = [];
      for await (const ev of stream) events.push(ev);
      const final = await stream.finalMessage();
      expect(lastUpstream(stack).provider).toBe(kind);
      expectAnthropicOrder(events);
      const start = events[0] as Anthropic.RawMessageStartEvent;
      expect(start.message.model).toBe(model);
      expect(start.message.id).toMatch(/^msg_/);
      const deltas = events.filter((e): e is Anthropic.RawContentBlockDeltaEvent => e.type === 'content_block_delta');
      expect(deltas.length).toBeGreaterThan(1);
      expect(deltas.every((d) => d.delta.type === 'text_delta')).toBe(true);
      expect(textOf(final)).toBe(textOf(json));
      expect(final.stop_reason).toBe('end_turn');
      expect(final.usage.output_tokens).toBe(12);
      expect(final.usage.input_tokens).toBe(json.usage.input_tokens);
      const md = events.at(-2) as Anthropic.RawMessageDeltaEvent;
      expect(md.delta.stop_reason).toBe('end_turn');
      expect(md.usage.output_tokens).toBe(12);
    });

    it('round-trips a tool: tool_use with the input object, then a tool_result answered in text', async () => {
      const question: Anthropic.MessageParam = { role: 'user', content: 'What is the weather in Paris?' };
      const m = await client.messages.create({ model, max_tokens: 256, tools: [WEATHER], messages: [question] });
      expect(m.stop_reason).toBe('tool_use');
      const uses = m.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
      expect(uses).toHaveLength(1);
      expect(uses[0].name).toBe('get_weather');
      expect(uses[0].id).toBeTruthy();
      expect(uses[0].input).toEqual({ city: 'demo', unit: 'celsius' });

      const answer = await client.messages.create({
        model,
        max_tokens: 256,
        tools: [WEATHER],
        messages: [
          question,
          { role: 'assistant', content: m.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: uses[0].id, content: 'Sunny, 21 degrees' }] },
        ],
      });
      expect(answer.stop_reason).toBe('end_turn');
      expect(answer.content.every((b) => b.type === 'text')).toBe(true);
      // Gemini's functionResponse takes an object, so a text result reaches it wrapped ({"result": ...})
      expect(textOf(answer)).toMatch(
        kind === 'gemini'
          ? /^Tool result received: \{"result":"Sunny, 21 degrees"\}/
          : /^Tool result received: Sunny, 21 degrees/,
      );
    });

    it('streams a tool_use block whose input_json_delta parts add up to the input', async () => {
      const stream = client.messages.stream({
        model,
        max_tokens: 256,
        tools: [WEATHER],
        messages: [{ role: 'user', content: 'Weather in Rome?' }],
      });
      const events: Anthropic.RawMessageStreamEvent[] = [];
      for await (const ev of stream) events.push(ev);
      const final = await stream.finalMessage();
      expectAnthropicOrder(events);
      const starts = events.filter((e): e is Anthropic.RawContentBlockStartEvent => e.type === 'content_block_start');
      expect(starts.some((s) => s.content_block.type === 'tool_use')).toBe(true);
      const jsonDeltas = events.filter((e) => e.type === 'content_block_delta' && e.delta.type === 'input_json_delta');
      expect(jsonDeltas.length).toBeGreaterThan(0);
      expect(final.stop_reason).toBe('tool_use');
      const use = final.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
      expect(use.name).toBe('get_weather');
      expect(use.input).toEqual({ city: 'demo', unit: 'celsius' });
    });

    it('sees a base64 image block', async () => {
      const m = await client.messages.create({
        model,
        max_tokens: 256,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_BASE64 } },
              { type: 'text', text: 'What is in this picture?' },
            ],
          },
        ],
      });
      expect(textOf(m)).toContain('Demo reply to "What is in this picture?":');
      expect(textOf(m)).toContain('I see 1 image(s).');
      expect(JSON.stringify(lastUpstream(stack).body)).toContain(PNG_BASE64);
    });

    it('passes the system prompt to the upstream as instructions', async () => {
      const m = await client.messages.create({
        model,
        max_tokens: 256,
        system: 'You are a terse assistant.',
        messages: [{ role: 'user', content: 'Hello with a system prompt' }],
      });
      expect(textOf(m)).toMatch(/^Demo reply to "Hello with a system prompt":/);
      const body = lastUpstream(stack).body;
      if (kind === 'openai')
        expect(body.messages[0]).toMatchObject({ role: 'system', content: 'You are a terse assistant.' });
      if (kind === 'anthropic') expect(JSON.stringify(body.system)).toContain('You are a terse assistant.');
      if (kind === 'gemini') expect(JSON.stringify(body.systemInstruction)).toContain('You are a terse assistant.');
    });

    it('stops at max_tokens with stop_reason max_tokens', async () => {
      const m = await client.messages.create({
        model,
        max_tokens: 3,
        messages: [{ role: 'user', content: 'Tell me a long story' }],
      });
      expect(m.stop_reason).toBe('max_tokens');
      expect(textOf(m)).toBe('Demo reply to');
      expect(m.usage.output_tokens).toBe(3);
    });

    it('counts tokens with messages.countTokens', async () => {
      const messages: Anthropic.MessageParam[] = [
        { role: 'user', content: 'How many tokens is this message exactly?' },
      ];
      const count = await client.messages.countTokens({ model, messages });
      expect(count.input_tokens).toBeGreaterThan(0);
      const longer = await client.messages.countTokens({
        model,
        system: 'A system prompt that adds some tokens to the count.',
        messages,
      });
      expect(longer.input_tokens).toBeGreaterThan(count.input_tokens);
      if (kind !== 'openai') {
        // anthropic and gemini count natively upstream: the same number the upstream then bills
        const m = await client.messages.create({ model, max_tokens: 16, messages });
        expect(count.input_tokens).toBe(m.usage.input_tokens);
      }
    });
  });

  describe('errors in the Anthropic envelope', () => {
    it('answers an unknown model with 400 invalid_request_error', async () => {
      const e = await apiError(
        client.messages.create({
          model: 'claude-does-not-exist',
          max_tokens: 16,
          messages: [{ role: 'user', content: 'Hi' }],
        }),
      );
      expect(e.status).toBe(400);
      expect(e.error).toEqual({
        type: 'error',
        error: { type: 'invalid_request_error', message: expect.stringContaining('claude-does-not-exist') },
      });
      expect(e.type).toBe('invalid_request_error');
    });

    it('answers a missing max_tokens with 400 invalid_request_error', async () => {
      const e = await apiError(
        client.messages.create({
          model: 'claude-sonnet-4-6',
          messages: [{ role: 'user', content: 'Hi' }],
        } as unknown as Anthropic.MessageCreateParamsNonStreaming),
      );
      expect(e.status).toBe(400);
      expect(e.error).toMatchObject({
        type: 'error',
        error: { type: 'invalid_request_error', message: expect.stringContaining('max_tokens') },
      });
    });

    it('answers a streamed request for an unknown model with the envelope before any event', async () => {
      const stream = client.messages.stream({
        model: 'nope-model',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'Hi' }],
      });
      const e = await apiError(stream.finalMessage());
      expect(e.status).toBe(400);
      expect(e.type).toBe('invalid_request_error');
    });

    it('answers a bad key with 401 authentication_error', async () => {
      const bad = new Anthropic({ baseURL: stack.url, apiKey: 'sk-sy-notakeyatallnotakeyatallnotakey', maxRetries: 0 });
      const e = await apiError(
        bad.messages.create({
          model: 'claude-sonnet-4-6',
          max_tokens: 16,
          messages: [{ role: 'user', content: 'Hi' }],
        }),
      );
      expect(e.status).toBe(401);
      expect(e.error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    });

    it('answers count_tokens for an unknown model with 400 invalid_request_error', async () => {
      const e = await apiError(
        client.messages.countTokens({ model: 'nope-model', messages: [{ role: 'user', content: 'Hi' }] }),
      );
      expect(e.status).toBe(400);
      expect(e.error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    });
  });
});
