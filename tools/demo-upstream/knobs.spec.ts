import { once } from 'node:events';
import { request } from 'node:http';
import { startDemoUpstream } from './index';
import { postJson, sseJson } from './spec-helpers';
import type { DemoUpstream, RecordedRequest } from './types';

const AUTH = { authorization: 'Bearer sk-demo' };
const ask = (text: string, extra: Record<string, unknown> = {}) => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: text }],
  ...extra,
});
const words = (body: { choices: Array<{ message: { content: string } }> }) =>
  body.choices[0].message.content.split(' ').length;

/** A raw POST that keeps whatever arrived before the server dropped the connection. */
function rawPost(url: string, body: unknown): Promise<{ status: number; text: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...AUTH } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', (e) => resolve({ status: res.statusCode ?? 0, text, error: e.message }));
    });
    req.on('error', (e) => resolve({ status: 0, text: '', error: e.message }));
    req.end(JSON.stringify(body));
  });
}

describe('demo upstream: knobs', () => {
  let up: DemoUpstream;
  let chatUrl: string;
  beforeAll(async () => {
    up = await startDemoUpstream();
    chatUrl = `${up.url}/v1/chat/completions`;
  });
  afterAll(() => up.close());
  beforeEach(() => up.reset());

  it('fails the first fail_count requests of a directive, then answers', async () => {
    const body = ask('flaky [[demo: status=503, fail_count=1]]');
    const first = await postJson(chatUrl, body, AUTH);
    expect(first.status).toBe(503);
    expect(first.json().error).toMatchObject({ type: 'server_error', message: expect.stringContaining('503') });
    expect((await postJson(chatUrl, body, AUTH)).status).toBe(200);
    // another knob string has its own counter
    expect((await postJson(chatUrl, ask('[[demo: status=503,fail_count=1]]'), AUTH)).status).toBe(503);
  });

  it('takes knobs from a path prefix, so a base_url can be an always-failing provider', async () => {
    const base = `${up.url}/_k/status=503/v1`;
    for (let i = 0; i < 3; i++) expect((await postJson(`${base}/chat/completions`, ask('x'), AUTH)).status).toBe(503);
    const anthropic = await postJson(
      `${up.url}/_k/status=529/v1/messages`,
      { model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] },
      { 'x-api-key': 'k' },
    );
    expect(anthropic.status).toBe(529);
    expect(anthropic.json().error.type).toBe('overloaded_error');
    const gemini = await postJson(`${up.url}/_k/status=429/v1beta/models/g:generateContent?key=k`, {
      contents: [{ parts: [{ text: 'x' }] }],
    });
    expect(gemini.json().error).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED' });
    expect(up.requests[0].path).toBe('/_k/status=503/v1/chat/completions');
  });

  it('merges defaults < path prefix < directive', async () => {
    up.setDefaults({ tokens: 5 });
    expect(words((await postJson(chatUrl, ask('hi'), AUTH)).json())).toBe(5);
    const prefixed = `${up.url}/_k/tokens=7/v1/chat/completions`;
    expect(words((await postJson(prefixed, ask('hi'), AUTH)).json())).toBe(7);
    expect(words((await postJson(prefixed, ask('hi [[demo: tokens=3]]'), AUTH)).json())).toBe(3);
    expect(up.requests.at(-1)?.knobs).toEqual({ tokens: 3 });
  });

  it('is driven over HTTP too: /__demo/defaults, /__demo/requests, /__demo/reset', async () => {
    const set = await postJson(`${up.url}/__demo/defaults`, { tokens: 4, no_usage: true, junk: 1 });
    expect(set.json()).toEqual({ defaults: { tokens: 4, no_usage: true } });
    const body = (await postJson(chatUrl, ask('hi'), AUTH)).json();
    expect(words(body)).toBe(4);
    expect(body.usage).toBeUndefined();
    const listed = (await (await fetch(`${up.url}/__demo/requests`)).json()) as { data: RecordedRequest[] };
    expect(listed.data.map((r) => r.path)).toEqual(['/v1/chat/completions']);
    await postJson(`${up.url}/__demo/reset`, {});
    expect(up.requests).toHaveLength(0);
    expect(words((await postJson(chatUrl, ask('hi'), AUTH)).json())).toBe(12);
  });

  it('waits latency_ms before answering, and ttft_ms / tps in streams', async () => {
    let t = Date.now();
    await postJson(`${up.url}/_k/latency_ms=150/v1/chat/completions`, ask('slow'), AUTH);
    expect(Date.now() - t).toBeGreaterThanOrEqual(140);
    t = Date.now();
    const res = await postJson(chatUrl, ask('paced [[demo: ttft_ms=50, tps=100, tokens=11]]', { stream: true }), AUTH);
    expect(Date.now() - t).toBeGreaterThanOrEqual(140); // 50 ms + 10 gaps of 10 ms
    expect(sseJson(res.text)).toHaveLength(13);
  });

  it('drops the connection after drop_after content chunks, without calling it a client abort', async () => {
    const res = await rawPost(chatUrl, ask('[[demo: drop_after=3]]', { stream: true }));
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('[DONE]');
    const contents = sseJson<{ choices: Array<{ delta: { content?: string } }> }>(res.text)
      .map((c) => c.choices[0].delta.content)
      .filter((c) => c);
    expect(contents).toEqual(['Demo', ' reply:', ' alpha']); // a directive alone leaves nothing to echo
    expect(up.requests[0]).toMatchObject({ aborted: false, finished: false });
  });

  it("sends the provider's in-stream error event after error_after content chunks", async () => {
    const openai = await postJson(chatUrl, ask('[[demo: error_after=2]]', { stream: true }), AUTH);
    const events = sseJson<{ choices?: Array<{ delta: { content?: string } }>; error?: { message: string } }>(
      openai.text,
    );
    expect(events.filter((e) => e.choices?.[0].delta.content).map((e) => e.choices![0].delta.content)).toEqual([
      'Demo',
      ' reply:',
    ]);
    expect(events.at(-1)!.error).toMatchObject({ type: 'server_error', message: expect.stringContaining('after 2') });
    expect(openai.text).not.toContain('[DONE]');

    const anthropic = await postJson(
      `${up.url}/_k/error_after=0/v1/messages`,
      { model: 'c', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'x' }] },
      { 'x-api-key': 'k' },
    );
    const types = sseJson<{ type: string; error?: { type: string } }>(anthropic.text);
    // right after message_start: the block opened, nothing in it yet
    expect(types.map((e) => e.type)).toEqual(['message_start', 'content_block_start', 'ping', 'error']);
    expect(types.at(-1)!.error!.type).toBe('overloaded_error');

    const gemini = await postJson(`${up.url}/_k/error_after=1/v1beta/models/g:streamGenerateContent?alt=sse&key=k`, {
      contents: [{ parts: [{ text: 'x' }] }],
    });
    const chunks = sseJson<{ candidates?: unknown[]; error?: { status: string } }>(gemini.text);
    expect(chunks).toHaveLength(2);
    expect(chunks[1].error!.status).toBe('UNAVAILABLE');
    expect(up.requests.every((r) => r.finished && !r.aborted)).toBe(true);
  });

  it('ends a stream cleanly after end_after content chunks: no finish, no usage, no [DONE]', async () => {
    const res = await postJson(
      chatUrl,
      ask('[[demo: end_after=2]]', { stream: true, stream_options: { include_usage: true } }),
      AUTH,
    );
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('[DONE]');
    const chunks = sseJson<{ choices: Array<{ finish_reason: string | null }>; usage?: unknown }>(res.text);
    expect(chunks).toHaveLength(3); // the role chunk and two words
    expect(chunks.every((c) => c.choices[0].finish_reason === null && !c.usage)).toBe(true);
    expect(up.requests[0]).toMatchObject({ aborted: false, finished: true });
  });

  it('writes leaky error texts with leaky_error: the presented key, its own address, internal URLs', async () => {
    const res = await postJson(`${up.url}/_k/status=400,leaky_error/v1/chat/completions`, ask('x'), {
      authorization: 'Bearer route-key-1234',
    });
    expect(res.status).toBe(400);
    const message = res.json().error.message as string;
    const host = new URL(up.url).host;
    for (const leak of ['route-key-1234', host, `http://${host}/internal/auth`, 'vllm-gpu-3:8000', 'AKIA'])
      expect(message).toContain(leak);
    const stream = await postJson(
      `${up.url}/_k/leaky_error/v1/messages`,
      { model: 'c', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'x [[demo: error_after=1]]' }] },
      { 'x-api-key': 'anthropic-route-key' },
    );
    expect(stream.text).toContain('anthropic-route-key');
    // without the knob, the text says nothing about anyone
    const plain = await postJson(`${up.url}/_k/status=400/v1/chat/completions`, ask('x'), AUTH);
    expect(plain.json().error.message).toBe('Demo upstream: simulated error 400');
  });

  it('omits usage with no_usage, in JSON and in streams', async () => {
    const body = (await postJson(chatUrl, ask('[[demo: no_usage]]'), AUTH)).json();
    expect(body.usage).toBeUndefined();
    const stream = await postJson(
      chatUrl,
      ask('[[demo: no_usage=1]]', { stream: true, stream_options: { include_usage: true } }),
      AUTH,
    );
    const chunks = sseJson<{ choices: unknown[]; usage?: unknown }>(stream.text);
    expect(chunks.every((c) => c.choices.length > 0 && c.usage === undefined)).toBe(true);
    const anthropic = await postJson(
      `${up.url}/_k/no_usage/v1/messages`,
      { model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] },
      { 'x-api-key': 'k' },
    );
    expect(anthropic.json().usage).toBeUndefined();
  });

  it('answers malformed bodies and garbage stream events with malformed', async () => {
    const plain = await postJson(chatUrl, ask('[[demo: malformed]]'), AUTH);
    expect(plain.status).toBe(200);
    expect(() => JSON.parse(plain.text)).toThrow();
    const stream = await postJson(chatUrl, ask('[[demo: malformed]]', { stream: true }), AUTH);
    expect(stream.status).toBe(200);
    expect(() => sseJson(stream.text)).toThrow();
  });

  it('records a client abort of a hanging request and emits aborted', async () => {
    const controller = new AbortController();
    const arrived = once(up.events, 'request') as Promise<[RecordedRequest]>;
    const pending = fetch(chatUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...AUTH },
      body: JSON.stringify(ask('[[demo: hang]]')),
      signal: controller.signal,
    }).catch((e: unknown) => e);
    const [record] = await arrived;
    const aborted = once(up.events, 'aborted') as Promise<[RecordedRequest]>;
    controller.abort();
    const [gone] = await aborted;
    await pending;
    expect(gone.id).toBe(record.id);
    expect(up.requests[0]).toMatchObject({ aborted: true, finished: false, knobs: { hang: true } });
  });

  it('records a client that leaves mid-stream', async () => {
    const controller = new AbortController();
    const res = await fetch(chatUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...AUTH },
      body: JSON.stringify(ask('[[demo: tps=20, tokens=200]]', { stream: true })),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    const aborted = once(up.events, 'aborted');
    controller.abort();
    await aborted;
    expect(up.requests[0].aborted).toBe(true);
  });

  it('keeps only the last 1000 requests', async () => {
    for (let batch = 0; batch < 21; batch++) {
      await Promise.all(
        Array.from({ length: 50 }, () => fetch(`${up.url}/v1/models`, { headers: AUTH }).then((r) => r.text())),
      );
    }
    expect(up.requests).toHaveLength(1000);
    expect(up.requests[0].id).toBe(up.requests[999].id - 999);
  });

  it('closes with hanging requests and keep-alive sockets open', async () => {
    const other = await startDemoUpstream();
    await fetch(`${other.url}/v1/models`, { headers: AUTH }).then((r) => r.text()); // leaves a keep-alive socket
    const arrived = once(other.events, 'request');
    const hanging = fetch(`${other.url}/_k/hang/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...AUTH },
      body: JSON.stringify(ask('x')),
    }).then(
      () => 'answered',
      () => 'failed',
    );
    await arrived;
    await other.close();
    expect(await hanging).toBe('failed');
    expect(other.requests.at(-1)?.aborted).toBe(false);
  });
});
