import Anthropic from '@anthropic-ai/sdk';
import { startDemoUpstream } from './index';
import { parseSse, postJson } from './spec-helpers';
import type { DemoUpstream } from './types';

const HEADERS = { 'x-api-key': 'sk-ant-demo', 'anthropic-version': '2023-06-01' };
const tools = [
  {
    name: 'get_weather',
    description: 'weather',
    input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
  { name: 'get_time', input_schema: { type: 'object', properties: { tz: { type: 'string' } } } },
];

describe('demo upstream: Anthropic format', () => {
  let up: DemoUpstream;
  let url: string;
  beforeAll(async () => {
    up = await startDemoUpstream();
    url = `${up.url}/v1/messages`;
  });
  afterAll(() => up.close());
  beforeEach(() => up.reset());

  const send = (body: Record<string, unknown>, headers: Record<string, string> = HEADERS) =>
    postJson(
      url,
      {
        model: 'claude-sonnet-4-5',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'Hi Claude, how are you?' }],
        ...body,
      },
      headers,
    );

  it('answers a message in the Messages API shape', async () => {
    const res = await send({ system: [{ type: 'text', text: 'Be brief.' }] });
    expect(res.status).toBe(200);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    const body = res.json();
    expect(body).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { output_tokens: 12, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    });
    expect(body.id).toMatch(/^msg_/);
    expect(body.content).toEqual([
      { type: 'text', text: expect.stringMatching(/^Demo reply to "Hi Claude, how are you\?":/) },
    ]);
    expect(body.usage.input_tokens).toBeGreaterThan(0);
    expect(up.requests[0].headers['anthropic-version']).toBe('2023-06-01');
    expect(up.requests[0].provider).toBe('anthropic');
  });

  it('streams the exact event sequence', async () => {
    const res = await send({ stream: true });
    const events = parseSse(res.text);
    const names = events.map((e) => e.event);
    expect(names.slice(0, 3)).toEqual(['message_start', 'content_block_start', 'ping']);
    expect(names.slice(3, 15)).toEqual(Array(12).fill('content_block_delta'));
    expect(names.slice(15)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    const data = events.map((e) => JSON.parse(e.data) as Record<string, any>);
    expect(data.every((d, i) => d.type === names[i])).toBe(true);
    expect(data[0].message).toMatchObject({ content: [], stop_reason: null, usage: { output_tokens: 1 } });
    expect(data[1]).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    expect(data[3].delta.type).toBe('text_delta');
    expect(data[16]).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 12 },
    });
    const text = data
      .slice(3, 15)
      .map((d) => d.delta.text as string)
      .join('');
    expect(text).toBe((await send({})).json().content[0].text);
  });

  it('is read by the official SDK, stream and non-stream', async () => {
    const client = new Anthropic({ baseURL: up.url, apiKey: 'sk-ant-sdk', maxRetries: 0 });
    const params = {
      model: 'claude-haiku-4-5',
      max_tokens: 50,
      messages: [{ role: 'user' as const, content: 'SDK check' }],
    };
    const msg = await client.messages.create(params);
    const streamed = await client.messages.stream(params).finalMessage();
    expect(streamed.content).toEqual(msg.content);
    expect(streamed.usage.output_tokens).toBe(msg.usage.output_tokens);
    const counted = await client.messages.countTokens({ model: params.model, messages: params.messages });
    expect(counted.input_tokens).toBe(msg.usage.input_tokens);
  });

  it('uses tools: tool_use blocks, input_json_delta fragments, parallel calls', async () => {
    const one = (await send({ tools })).json();
    expect(one.stop_reason).toBe('tool_use');
    expect(one.content).toEqual([
      { type: 'tool_use', id: expect.stringMatching(/^toolu_/), name: 'get_weather', input: { city: 'demo' } },
    ]);

    const forced = (await send({ tools, tool_choice: { type: 'tool', name: 'get_time' } })).json();
    expect(forced.content[0].name).toBe('get_time');
    expect((await send({ tools, tool_choice: { type: 'none' } })).json().content[0].type).toBe('text');

    const messages = [{ role: 'user', content: 'Call them in parallel' }];
    const events = parseSse((await send({ tools, messages, stream: true })).text).map((e) => JSON.parse(e.data));
    const starts = events.filter((e) => e.type === 'content_block_start');
    expect(starts.map((e) => [e.index, e.content_block.type, e.content_block.name])).toEqual([
      [0, 'tool_use', 'get_weather'],
      [1, 'tool_use', 'get_time'],
    ]);
    const json = (i: number) =>
      events
        .filter((e) => e.type === 'content_block_delta' && e.index === i)
        .map((e) => (e.delta.type === 'input_json_delta' ? e.delta.partial_json : '?'))
        .join('');
    expect(JSON.parse(json(0))).toEqual({ city: 'demo' });
    expect(JSON.parse(json(1))).toEqual({ tz: 'demo' });
    expect(events.find((e) => e.type === 'message_delta').delta.stop_reason).toBe('tool_use');
  });

  it('answers structured outputs (output_config.format, or the beta output_format) with JSON text', async () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    for (const body of [
      { output_config: { format: { type: 'json_schema', schema } } },
      { output_format: { type: 'json_schema', schema } },
    ]) {
      const m = (await send(body)).json();
      expect(m.stop_reason).toBe('end_turn');
      expect(JSON.parse(m.content[0].text)).toEqual({ city: 'demo' });
    }
  });

  it('answers a tool_result turn and counts images', async () => {
    const messages = [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
        ],
      },
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'Sunny and 21 degrees' }] },
    ];
    const body = (await send({ tools, messages, max_tokens: 30 })).json();
    expect(body.content[0].text).toMatch(/^Tool result received: Sunny and 21 degrees/);
    expect(body.stop_reason).toBe('end_turn');
    const withImage = (await send({ messages: messages.slice(0, 1) })).json();
    expect(withImage.content[0].text).toContain('I see 1 image(s).');
  });

  it('truncates at max_tokens and stops at stop_sequences', async () => {
    const cut = (await send({ max_tokens: 2 })).json();
    expect(cut).toMatchObject({
      stop_reason: 'max_tokens',
      content: [{ text: 'Demo reply' }],
      usage: { output_tokens: 2 },
    });
    const stopped = (await send({ stop_sequences: ['bravo'] })).json();
    expect(stopped).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'bravo' });
    expect(stopped.content[0].text.endsWith('alpha ')).toBe(true);
  });

  it('requires max_tokens and a key, in the Anthropic error shape', async () => {
    const noMax = await postJson(url, { model: 'c', messages: [{ role: 'user', content: 'x' }] }, HEADERS);
    expect(noMax.status).toBe(400);
    expect(noMax.json()).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: expect.any(String) },
    });
    const noKey = await send({}, { 'anthropic-version': '2023-06-01' });
    expect(noKey.status).toBe(401);
    expect(noKey.json().error.type).toBe('authentication_error');
    const badJson = await postJson(url, 'not json', HEADERS);
    expect(badJson.status).toBe(400);
    expect(badJson.json().type).toBe('error');
  });

  it('lists models in the Anthropic shape when called with Anthropic headers', async () => {
    const body = (await (await fetch(`${up.url}/v1/models`, { headers: HEADERS })).json()) as Record<string, any>;
    expect(body.data[0]).toMatchObject({ type: 'model', id: 'claude-sonnet-4-5' });
    expect(body.has_more).toBe(false);
  });
});
