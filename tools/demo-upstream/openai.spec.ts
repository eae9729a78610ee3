import OpenAI from 'openai';
import { startDemoUpstream } from './index';
import { validateOpenAI } from './openapi-validator';
import { postJson, sseJson } from './spec-helpers';
import type { DemoUpstream } from './types';

const AUTH = { authorization: 'Bearer sk-demo-openai' };
const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
      required: ['city'],
    },
  },
};
const timeTool = {
  type: 'function',
  function: { name: 'get_time', parameters: { type: 'object', properties: { tz: { type: 'string' } } } },
};

type Chunk = {
  choices: Array<{ index: number; delta: Record<string, any>; finish_reason: string | null }>;
  usage?: Record<string, number> | null;
};

describe('demo upstream: OpenAI format', () => {
  let up: DemoUpstream;
  let chatUrl: string;
  beforeAll(async () => {
    up = await startDemoUpstream({ port: 0 });
    chatUrl = `${up.url}/v1/chat/completions`;
  });
  afterAll(() => up.close());
  beforeEach(() => up.reset());

  const chat = (body: Record<string, unknown>) =>
    postJson(
      chatUrl,
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello there demo' }], ...body },
      AUTH,
    );

  it('answers a chat completion that matches the OpenAPI schema', async () => {
    const res = await chat({});
    expect(res.status).toBe(200);
    const body = res.json();
    expect(validateOpenAI('CreateChatCompletionResponse', body)).toEqual([]);
    expect(body.model).toBe('gpt-4o-mini');
    expect(body.choices[0].message.content).toMatch(/^Demo reply to "Hello there demo":/);
    expect(body.choices[0].message.content.split(' ')).toHaveLength(12);
    expect(body.choices[0].finish_reason).toBe('stop');
    expect(body.usage).toMatchObject({ completion_tokens: 12, total_tokens: body.usage.prompt_tokens + 12 });
    expect(up.requests[0]).toMatchObject({ provider: 'openai', path: '/v1/chat/completions', finished: true });
    expect(up.requests[0].headers.authorization).toBe('Bearer sk-demo-openai');
  });

  it('streams chunks in OpenAI order, with a usage chunk only when asked', async () => {
    const plain = await chat({ stream: true });
    expect(plain.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(plain.text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    const chunks = sseJson<Chunk>(plain.text);
    for (const c of chunks) expect(validateOpenAI('CreateChatCompletionStreamResponse', c)).toEqual([]);
    expect(chunks[0].choices[0].delta).toMatchObject({ role: 'assistant', content: '' });
    expect(chunks.at(-1)?.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    expect(chunks.some((c) => c.usage)).toBe(false);
    const text = chunks.map((c) => c.choices[0].delta.content ?? '').join('');
    expect(text).toBe((await chat({})).json().choices[0].message.content);

    const withUsage = sseJson<Chunk>((await chat({ stream: true, stream_options: { include_usage: true } })).text);
    const last = withUsage.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({ completion_tokens: 12 });
    expect(withUsage.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    for (const c of withUsage) expect(validateOpenAI('CreateChatCompletionStreamResponse', c)).toEqual([]);
  });

  it('calls the first tool, and every tool for a parallel request, streamed as OpenAI does', async () => {
    const one = (await chat({ tools: [weatherTool, timeTool] })).json();
    expect(validateOpenAI('CreateChatCompletionResponse', one)).toEqual([]);
    expect(one.choices[0].finish_reason).toBe('tool_calls');
    expect(one.choices[0].message.content).toBeNull();
    expect(one.choices[0].message.tool_calls).toHaveLength(1);
    expect(one.choices[0].message.tool_calls[0].function).toEqual({
      name: 'get_weather',
      arguments: '{"city":"demo","unit":"celsius"}',
    });

    const forced = (
      await chat({ tools: [weatherTool, timeTool], tool_choice: { type: 'function', function: { name: 'get_time' } } })
    ).json();
    expect(forced.choices[0].message.tool_calls[0].function.name).toBe('get_time');

    const messages = [{ role: 'user', content: 'Do both [[demo: parallel]]' }];
    const chunks = sseJson<Chunk>((await chat({ messages, tools: [weatherTool, timeTool], stream: true })).text);
    for (const c of chunks) expect(validateOpenAI('CreateChatCompletionStreamResponse', c)).toEqual([]);
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    const headers = deltas.filter((d) => d.id);
    expect(headers.map((d) => [d.index, d.type, d.function.name, d.function.arguments])).toEqual([
      [0, 'function', 'get_weather', ''],
      [1, 'function', 'get_time', ''],
    ]);
    const fragments = deltas.filter((d) => !d.id);
    expect(fragments.every((d) => Object.keys(d).sort().join() === 'function,index')).toBe(true);
    const args = (i: number) =>
      fragments
        .filter((d) => d.index === i)
        .map((d) => d.function.arguments)
        .join('');
    expect(JSON.parse(args(0))).toEqual({ city: 'demo', unit: 'celsius' });
    expect(JSON.parse(args(1))).toEqual({ tz: 'demo' });
    expect(chunks.at(-1)?.choices[0].finish_reason).toBe('tool_calls');
  });

  it('answers JSON mode with valid JSON, schema-shaped for json_schema', async () => {
    const obj = (await chat({ response_format: { type: 'json_object' } })).json();
    expect(JSON.parse(obj.choices[0].message.content)).toEqual({ demo: true, echo: 'Hello there demo' });
    const schema = {
      type: 'object',
      properties: { name: { type: 'string' }, age: { type: 'integer' } },
      required: ['name', 'age'],
    };
    const typed = (await chat({ response_format: { type: 'json_schema', json_schema: { name: 'p', schema } } })).json();
    expect(JSON.parse(typed.choices[0].message.content)).toEqual({ name: 'demo', age: 1 });
  });

  it('truncates to max_tokens with finish_reason length, and honours stop', async () => {
    const cut = (await chat({ max_completion_tokens: 4 })).json();
    expect(cut.choices[0]).toMatchObject({ finish_reason: 'length', message: { content: 'Demo reply to "Hello' } });
    expect(cut.usage.completion_tokens).toBe(4);
    const stopped = (await chat({ stop: ['bravo'] })).json();
    expect(stopped.choices[0].message.content).toBe('Demo reply to "Hello there demo": alpha ');
    expect(stopped.choices[0].finish_reason).toBe('stop');
  });

  it('produces n choices, in streams too', async () => {
    const body = (await chat({ n: 3 })).json();
    expect(body.choices.map((c: { index: number }) => c.index)).toEqual([0, 1, 2]);
    expect(body.usage.completion_tokens).toBe(36);
    const chunks = sseJson<Chunk>((await chat({ n: 2, stream: true })).text);
    const texts = [0, 1].map((i) =>
      chunks.flatMap((c) => c.choices.filter((ch) => ch.index === i).map((ch) => ch.delta.content ?? '')).join(''),
    );
    expect(texts).toEqual(body.choices.slice(0, 2).map((c: { message: { content: string } }) => c.message.content));
  });

  it('is read by the official SDK: streamed tool calls accumulate, base64 embeddings decode', async () => {
    const client = new OpenAI({ baseURL: `${up.url}/v1`, apiKey: 'sk-sdk', maxRetries: 0 });
    const messages = [{ role: 'user' as const, content: 'parallel please' }];
    const tools = [weatherTool, timeTool] as OpenAI.ChatCompletionTool[];
    const final = await client.chat.completions.stream({ model: 'm', messages, tools }).finalChatCompletion();
    const plain = await client.chat.completions.create({ model: 'm', messages, tools });
    const fns = (calls: unknown) =>
      (calls as Array<{ type: string; function: unknown }>).map((c) => [c.type, c.function]);
    expect(fns(final.choices[0].message.tool_calls)).toEqual(fns(plain.choices[0].message.tool_calls));
    expect(final.choices[0].message.tool_calls).toHaveLength(2);
    expect(final.choices[0].finish_reason).toBe('tool_calls');
    // the SDK asks for base64 by default and decodes it to floats
    const emb = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' });
    expect(emb.data[0].embedding).toHaveLength(1536);
    expect(up.requests.at(-1)?.body).toMatchObject({ encoding_format: 'base64' });
  });

  it('mentions images in the request', async () => {
    const content = [
      { type: 'text', text: 'What is this?' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
    ];
    const body = (await chat({ messages: [{ role: 'user', content }] })).json();
    expect(body.choices[0].message.content).toContain('I see 1 image(s).');
  });

  it('serves embeddings: default and requested dimensions, base64 float32', async () => {
    const url = `${up.url}/v1/embeddings`;
    const floats = (await postJson(url, { model: 'text-embedding-3-small', input: ['a', 'b'] }, AUTH)).json();
    expect(validateOpenAI('CreateEmbeddingResponse', floats)).toEqual([]);
    expect(floats.data.map((d: { embedding: number[] }) => d.embedding.length)).toEqual([1536, 1536]);
    expect(floats.model).toBe('text-embedding-3-small');
    const b64 = (
      await postJson(url, { model: 'x', input: 'a', dimensions: 64, encoding_format: 'base64' }, AUTH)
    ).json();
    // the spec types `embedding` as number[] only; base64 strings are what the API really sends here
    expect(typeof b64.data[0].embedding).toBe('string');
    const buf = Buffer.from(b64.data[0].embedding, 'base64');
    expect(buf.length).toBe(64 * 4);
    const small = (await postJson(url, { model: 'x', input: 'a', dimensions: 64 }, AUTH)).json();
    expect(buf.readFloatLE(0)).toBe(small.data[0].embedding[0]);
    expect((await postJson(url, { model: 'x', input: 'a' }, AUTH)).json().data[0].embedding).toHaveLength(256);
  });

  it('lists models', async () => {
    const res = await fetch(`${up.url}/v1/models`, { headers: AUTH });
    const body = (await res.json()) as { object: string; data: Array<{ object: string }> };
    expect(body.object).toBe('list');
    expect(body.data[0].object).toBe('model');
  });

  it('refuses missing credentials, bad JSON and unknown routes in the OpenAI error shape', async () => {
    const noKey = await postJson(chatUrl, { model: 'm', messages: [] });
    expect(noKey.status).toBe(401);
    expect(noKey.json().error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key', param: null });
    expect(validateOpenAI('ErrorResponse', noKey.json())).toEqual([]);
    const bad = await postJson(chatUrl, '{"model": ', AUTH);
    expect(bad.status).toBe(400);
    expect(bad.json().error.type).toBe('invalid_request_error');
    const missing = await postJson(chatUrl, { model: 'm' }, AUTH);
    expect(missing.json().error.param).toBe('messages');
    const unknown = await postJson(`${up.url}/v1/nope`, {}, AUTH);
    expect(unknown.status).toBe(404);
    expect(unknown.json().error.message).toContain('/v1/nope');
  });
});
