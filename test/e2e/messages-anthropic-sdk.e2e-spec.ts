// /v1/messages (Anthropic's Messages API) through the official `@anthropic-ai/sdk`, in front of each
// upstream kind: an anthropic upstream gets the request as sent (near-passthrough); for openai and
// gemini upstreams it converts to the internal chat shape and back to an Anthropic message or stream.
import Anthropic from '@anthropic-ai/sdk';
import { startStack, TestStack } from './helpers/test-stack';
import type { RecordedRequest } from '../../tools/demo-upstream';
import { AdminClient } from './helpers/admin-client';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './helpers/test-stack';
import { CHAT_KINDS, lastUpstream, nanos, PRICE_NANOS_PER_TOKEN, sdkTenant } from './helpers/sdk-setup';
import { waitFor } from './helpers/wait';

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

/** The `provider/model` id of each kind's model (owned_by/id): unlike the plain alias, never the upstream's id. */
const PROVIDER_MODEL_IDS: Record<string, { id: string; upstream: string }> = {
  openai: { id: 'openai/gpt-4o-mini', upstream: 'gpt-4o-mini' },
  anthropic: { id: 'anthropic/claude-sonnet-4-6', upstream: 'claude-sonnet-4-6' },
  gemini: { id: 'google/gemini-3-flash', upstream: 'gemini-3-flash-preview' },
};

/** Blocks and fields only Anthropic speaks: a server tool, its use and result, a search result, cache_control, thinking. */
const SERVER_TOOL_PARAMS = {
  max_tokens: 2048,
  system: [{ type: 'text', text: 'Cite your sources.', cache_control: { type: 'ephemeral' } }],
  thinking: { type: 'enabled', budget_tokens: 1024 },
  tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 2 }],
  messages: [
    {
      role: 'user',
      content: [
        {
          type: 'search_result',
          source: 'https://docs.test/foxes',
          title: 'Fox facts',
          content: [{ type: 'text', text: 'Foxes jump over lazy dogs.' }],
          citations: { enabled: true },
        },
        { type: 'text', text: 'What do foxes do?' },
      ],
    },
    {
      role: 'assistant',
      content: [
        { type: 'server_tool_use', id: 'srvtoolu_01', name: 'web_search', input: { query: 'foxes' } },
        {
          type: 'web_search_tool_result',
          tool_use_id: 'srvtoolu_01',
          content: [
            {
              type: 'web_search_result',
              url: 'https://docs.test/foxes',
              title: 'Fox facts',
              encrypted_content: 'ZW5jcnlwdGVk',
              page_age: null,
            },
          ],
        },
        { type: 'text', text: 'Foxes jump.' },
      ],
    },
    { role: 'user', content: 'And what do dogs do?' },
  ],
} as unknown as Omit<Anthropic.MessageCreateParamsNonStreaming, 'model'>;

const CITY_SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string' }, population: { type: 'integer' } },
  required: ['city', 'population'],
  additionalProperties: false,
};

/** Reads a raw event stream to its end, or to the error the SDK throws for an `error` event. */
async function drain(stream: AsyncIterable<Anthropic.RawMessageStreamEvent>) {
  const events: Anthropic.RawMessageStreamEvent[] = [];
  try {
    for await (const ev of stream) events.push(ev);
  } catch (e) {
    return { events, error: e };
  }
  return { events, error: undefined };
}

function deltaText(events: Anthropic.RawMessageStreamEvent[]): string {
  return events
    .map((e) => (e.type === 'content_block_delta' && e.delta.type === 'text_delta' ? e.delta.text : ''))
    .join('');
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

/** The event names of a raw SSE body (the SDK drops pings before a client sees them). */
function eventNames(sse: string): string[] {
  return sse
    .split('\n')
    .filter((l) => l.startsWith('event: '))
    .map((l) => l.slice(7).trim());
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

  describe.each(CHAT_KINDS)('$kind kind: the wire beyond the basics', ({ kind, model }) => {
    const named = PROVIDER_MODEL_IDS[kind];

    it('answers with the provider/model id the client sent, while the upstream gets its own model id', async () => {
      const { data: m, response } = await client.messages
        .create({ model: named.id, max_tokens: 64, messages: [{ role: 'user', content: 'Which model are you?' }] })
        .withResponse();
      const up = lastUpstream(stack);
      expect(up.provider).toBe(kind);
      // the upstream answered with its own id (the demo echoes what it got): the gateway rewrote it
      if (kind === 'gemini') expect(up.path).toContain(`/models/${named.upstream}:`);
      else expect(up.body.model).toBe(named.upstream);
      expect(m.model).toBe(named.id);
      expect(response.headers.get('x-model-used')).toBe(model);

      const stream = client.messages.stream({
        model: named.id,
        max_tokens: 64,
        messages: [{ role: 'user', content: 'Which model streams?' }],
      });
      const { events } = await drain(stream);
      expect((events[0] as Anthropic.RawMessageStartEvent).message.model).toBe(named.id);
      expect((await stream.finalMessage()).model).toBe(named.id);
    });

    // The gateway's promise on every /v1/messages stream, whatever the upstream kind: a `ping` after
    // message_start and before the first content delta, as Anthropic sends it (an anthropic upstream's
    // own pings are forwarded in place; a converted stream sends one right after message_start).
    it('sends a ping after message_start and before the first content delta', async () => {
      const res = await fetch(`${stack.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': key, 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({ model, max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'Ping me' }] }),
      });
      expect(res.status).toBe(200);
      const names = eventNames(await res.text());
      expect(names[0]).toBe('message_start');
      const ping = names.indexOf('ping');
      expect(ping).toBeGreaterThan(0);
      expect(ping).toBeLessThan(names.indexOf('content_block_delta'));
      expect(names.at(-1)).toBe('message_stop');
    });

    it('ends a stream the upstream cut with an Anthropic error event, and charges what was delivered', async () => {
      const { data: stream, response } = await client.messages
        .create({
          model,
          max_tokens: 256,
          stream: true,
          messages: [{ role: 'user', content: 'Cut me off [[demo: drop_after=3]]' }],
        })
        .withResponse();
      const { events, error } = await drain(stream);
      expect(error).toBeInstanceOf(Anthropic.APIError);
      const e = error as InstanceType<typeof Anthropic.APIError>;
      expect(e.error).toEqual({ type: 'error', error: { type: 'api_error', message: expect.any(String) } });
      expect(JSON.stringify(e.error)).not.toMatch(/127\.0\.0\.1|https?:\/\/|sk-/);
      expect(events[0].type).toBe('message_start');
      expect(events.map((ev) => ev.type)).not.toContain('message_stop');
      expect(deltaText(events)).toBe('Demo reply to');

      const requestId = response.headers.get('x-request-id')!;
      const row = await waitFor(async () => {
        const rows: Array<{ input_tokens: number; output_tokens: number; cost: string; error_code: string }> =
          await stack.db.query(
            'SELECT input_tokens, output_tokens, cost::text, error_code FROM usage_log WHERE request_id = $1',
            [requestId],
          );
        return rows[0];
      });
      expect(row.error_code).toBe('upstream_error');
      expect(row.output_tokens).toBe(3); // "Demo reply to", not the placeholder message_start carries
      const price = PRICE_NANOS_PER_TOKEN[model];
      expect(BigInt(row.cost)).toBe(price.input * BigInt(row.input_tokens) + price.output * 3n);
    });

    it('answers JSON for a structured output format (output_config.format)', async () => {
      const m = await client.messages.create({
        model,
        max_tokens: 256,
        messages: [{ role: 'user', content: 'The largest city of France, as JSON' }],
        output_config: { format: { type: 'json_schema', schema: CITY_SCHEMA } },
      });
      expect(JSON.parse(textOf(m))).toEqual({ city: 'demo', population: 1 });
      const body = lastUpstream(stack).body;
      if (kind === 'anthropic')
        expect(body.output_config).toEqual({ format: { type: 'json_schema', schema: CITY_SCHEMA } });
      if (kind === 'openai')
        expect(body.response_format).toEqual({
          type: 'json_schema',
          json_schema: { name: 'output', schema: CITY_SCHEMA },
        });
      if (kind === 'gemini') {
        expect(body.generationConfig.responseMimeType).toBe('application/json');
        expect(body.generationConfig.responseJsonSchema).toMatchObject({ required: ['city', 'population'] });
      }
    });

    it('takes the beta output_format (with its anthropic-beta header) the same way', async () => {
      const res = await fetch(`${stack.url}/v1/messages`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-api-key': key,
          'anthropic-version': '2023-06-01',
          'anthropic-beta': 'structured-outputs-2025-11-13',
        },
        body: JSON.stringify({
          model,
          max_tokens: 256,
          messages: [{ role: 'user', content: 'The largest city of Spain, as JSON' }],
          output_format: { type: 'json_schema', schema: CITY_SCHEMA },
        }),
      });
      expect(res.status).toBe(200);
      const m = (await res.json()) as Anthropic.Message;
      expect(JSON.parse(textOf(m))).toEqual({ city: 'demo', population: 1 });
      const up = lastUpstream(stack);
      if (kind === 'anthropic') {
        expect(up.body.output_format).toEqual({ type: 'json_schema', schema: CITY_SCHEMA });
        expect(up.headers['anthropic-beta']).toBe('structured-outputs-2025-11-13');
      }
      if (kind === 'openai') expect(up.body.response_format.json_schema.schema).toEqual(CITY_SCHEMA);
    });

    // anthropic: server tools, server_tool_use, search_result, cache_control and thinking reach it as sent;
    // the other kinds cannot express them: 400 without calling the upstream
    it('passes Anthropic-only blocks and server tools through to an anthropic upstream, 400 elsewhere', async () => {
      const before = stack.upstream.requests.length;
      const sent = client.messages.create({ ...SERVER_TOOL_PARAMS, model });
      if (kind !== 'anthropic') {
        const e = await apiError(sent);
        expect(e.status).toBe(400);
        expect(e.error).toMatchObject({
          type: 'error',
          error: { type: 'invalid_request_error', message: expect.stringMatching(/search_result|web_search/) },
        });
        expect(stack.upstream.requests.length).toBe(before);
        return;
      }
      const m = await sent;
      expect(m.type).toBe('message');
      const body = lastUpstream(stack).body;
      for (const field of ['system', 'thinking', 'tools', 'messages'] as const)
        expect(body[field]).toEqual((SERVER_TOOL_PARAMS as unknown as Record<string, unknown>)[field]);

      const { events, error } = await drain(
        await client.messages.create({ ...SERVER_TOOL_PARAMS, model, stream: true }),
      );
      expect(error).toBeUndefined();
      expect(events.at(-1)?.type).toBe('message_stop');
      expect(lastUpstream(stack).body.messages).toEqual(SERVER_TOOL_PARAMS.messages);
    });

    it('counts a request without usage from the upstream with the tokenizer, and charges it', async () => {
      const params = {
        model,
        max_tokens: 256,
        messages: [{ role: 'user' as const, content: 'Count me myself [[demo: no_usage]]' }],
      };
      const { data: m, response } = await client.messages.create(params).withResponse();
      expect(m.usage.input_tokens).toBeGreaterThan(0);
      expect(m.usage.output_tokens).toBeGreaterThan(0);
      const price = PRICE_NANOS_PER_TOKEN[model];
      const cost = price.input * BigInt(m.usage.input_tokens) + price.output * BigInt(m.usage.output_tokens);
      expect(nanos(response.headers.get('x-credits-used')!)).toBe(cost);

      const { data: stream, response: streamed } = await client.messages
        .create({ ...params, stream: true })
        .withResponse();
      const { events, error } = await drain(stream);
      expect(error).toBeUndefined();
      const start = events[0] as Anthropic.RawMessageStartEvent;
      const delta = events.at(-2) as Anthropic.RawMessageDeltaEvent;
      expect(start.message.usage.input_tokens).toBe(m.usage.input_tokens);
      expect(delta.usage.output_tokens).toBe(m.usage.output_tokens);
      const row = await waitFor(async () => {
        const rows: Array<{ input_tokens: number; output_tokens: number; cost: string }> = await stack.db.query(
          'SELECT input_tokens, output_tokens, cost::text FROM usage_log WHERE request_id = $1',
          [streamed.headers.get('x-request-id')],
        );
        return rows[0];
      });
      expect(row).toEqual({
        input_tokens: m.usage.input_tokens,
        output_tokens: m.usage.output_tokens,
        cost: cost.toString(),
      });
    });
  });

  describe('count_tokens and its upstream call', () => {
    it.each(['claude-sonnet-4-6', 'gemini-3-flash'])(
      '%s: a client that leaves closes the upstream count request at once',
      async (model) => {
        const arrived = new Promise<RecordedRequest>((resolve) => {
          const on = (r: RecordedRequest) => {
            if (!/count_?tokens/i.test(r.path)) return;
            stack.upstream.events.off('request', on);
            resolve(r);
          };
          stack.upstream.events.on('request', on);
        });
        const ac = new AbortController();
        const counting = client.messages
          .countTokens(
            { model, messages: [{ role: 'user', content: 'Count slowly [[demo: hang]]' }] },
            { signal: ac.signal },
          )
          .catch((e: unknown) => e);
        const upstream = await arrived;
        ac.abort();
        expect(await counting).toBeInstanceOf(Error);
        // without the link the upstream call would stay open until the provider's 300 s timeout
        await waitFor(async () => upstream.aborted, 2000);
      },
    );

    it('passes an Anthropic count request through as sent (server tools included)', async () => {
      const { max_tokens: _, ...params } = { ...SERVER_TOOL_PARAMS, model: 'claude-sonnet-4-6' };
      const count = await client.messages.countTokens(params as Anthropic.MessageCountTokensParams);
      expect(count.input_tokens).toBeGreaterThan(0);
      const up = lastUpstream(stack);
      expect(up.path).toBe('/v1/messages/count_tokens');
      expect(up.body.tools).toEqual(SERVER_TOOL_PARAMS.tools);
      expect(up.body.messages).toEqual(SERVER_TOOL_PARAMS.messages);
    });
  });

  describe('models whose routes mix upstream kinds (made through the admin API)', () => {
    let admin: AdminClient;

    beforeAll(async () => {
      admin = await AdminClient.login(stack.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      const provider = await admin.post('/admin/api/providers', {
        id: 'anthropic-quick',
        kind: 'anthropic',
        base_url: stack.upstream.url,
        api_key: 'sk-ant-quick',
        timeout_ms: 300,
      });
      expect(provider.status).toBe(201);
      const price = { input_per_mtok: '3.00', output_per_mtok: '15.00' };
      for (const m of [
        {
          id: 'mixed-claude',
          routes: [
            { provider: 'openai', model: 'gpt-4o-mini', priority: 0 },
            { provider: 'anthropic', model: 'claude-sonnet-4-6', priority: 1 },
          ],
        },
        { id: 'quick-claude', routes: [{ provider: 'anthropic-quick', model: 'claude-sonnet-4-6' }] },
      ]) {
        const r = await admin.post('/admin/api/models', { ...m, kind: 'chat', owned_by: 'e2e', price });
        expect(r.status).toBe(201);
      }
      await waitFor(
        async () => (await fetch(`${stack.url}/v1/models/quick-claude`, { headers: { 'x-api-key': key } })).ok,
      );
      await waitFor(
        async () => (await fetch(`${stack.url}/v1/models/mixed-claude`, { headers: { 'x-api-key': key } })).ok,
      );
    });

    it('converts only for the route that needs it: a server tool skips the openai route for the anthropic one', async () => {
      const plain = await client.messages.create({
        model: 'mixed-claude',
        max_tokens: 64,
        messages: [{ role: 'user', content: 'Plain text first' }],
      });
      expect(plain.type).toBe('message');
      expect(lastUpstream(stack).provider).toBe('openai');

      const { data: m, response } = await client.messages
        .create({ ...SERVER_TOOL_PARAMS, model: 'mixed-claude' })
        .withResponse();
      expect(m.type).toBe('message');
      expect(response.headers.get('x-model-used')).toBe('mixed-claude');
      const up = lastUpstream(stack);
      expect(up.provider).toBe('anthropic');
      expect(up.body.tools).toEqual(SERVER_TOOL_PARAMS.tools);
    });

    it('counts locally when the upstream count does not come within the provider timeout', async () => {
      const started = Date.now();
      const count = await client.messages.countTokens({
        model: 'quick-claude',
        messages: [{ role: 'user', content: 'Count me when the upstream hangs [[demo: hang]]' }],
      });
      expect(count.input_tokens).toBeGreaterThan(0);
      expect(Date.now() - started).toBeLessThan(3000);
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
