// Routing against real failing upstreams (test/fixtures/catalogs/routing.yaml): fallbacks on 503, 429,
// timeouts, connect errors, malformed answers and stream errors before the first content, on every kind
// and on /v1/embeddings; priorities and weights; no fallback on the upstream's own 400; 502/504 when
// everything fails, with messages that never name the upstream (leaky upstream texts included);
// mid-stream drops and clean truncations charged for what was delivered; a vanished client aborts the
// upstream on every kind and capability; Gemini embeddings metered with the tokenizer.
import { ServerResponse } from 'node:http';
import { join } from 'node:path';
import OpenAI from 'openai';
import { countText } from '@switchyard/completions';
import { specErrors } from './helpers/sdk-setup';
import { AdminClient, createTenant, Tenant } from './helpers/admin-client';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, TestStack } from './helpers/test-stack';
import type { RecordedRequest } from '../../tools/demo-upstream';
import { waitFor } from './helpers/wait';

const CATALOG = join(__dirname, '../fixtures/catalogs/routing.yaml');
// wrapped and restored by the write-count test
const origWrite = ServerResponse.prototype.write as (...a: unknown[]) => unknown;
const origEnd = ServerResponse.prototype.end as (...a: unknown[]) => unknown;
const UPSTREAM_KEY = 'sk-upstream-openai-secret';
/** the key of the leaky providers: no sanitizer pattern recognises it, only the route's own redaction */
const ROUTE_KEY = 'route-key-plain-7f3a';

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
  ms: number;
}

/** Which dialect the demo upstream answered a path in. */
function seenProvider(path: string): string {
  return path.includes('/v1beta/') ? 'gemini' : path.includes('/v1/messages') ? 'anthropic' : 'openai';
}

/** 10^-9 currency units from a decimal string ("4.999970000" -> 4999970000n). */
function nano(amount: string): bigint {
  const [int, frac = ''] = amount.split('.');
  return BigInt(int) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9));
}

describe('routing: fallbacks, priorities, upstream failures', () => {
  let stack: TestStack;
  let t: Tenant;
  /** the official client, for the suites that read what an SDK user gets */
  let client: OpenAI;
  /** every error message a client saw, checked at the end for upstream secrets and addresses */
  const clientErrors: string[] = [];

  const chat = async (
    model: string,
    opts: { content?: string; stream?: boolean; requestId?: string } = {},
  ): Promise<Answer> => {
    const started = Date.now();
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${t.key}`,
        'content-type': 'application/json',
        ...(opts.requestId ? { 'x-request-id': opts.requestId } : {}),
      },
      body: JSON.stringify({
        model,
        stream: opts.stream ?? false,
        messages: [{ role: 'user', content: opts.content ?? `hello ${model}` }],
      }),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const a = { status: res.status, headers: res.headers, text, json, ms: Date.now() - started } as Answer;
    if (a.status >= 400 || /"error"/.test(text)) clientErrors.push(text);
    return a;
  };

  /** Upstream requests recorded since `mark` (a record id), in arrival order. */
  const since = (mark: number): RecordedRequest[] => stack.upstream.requests.filter((r) => r.id > mark);
  const mark = (): number => stack.upstream.requests.at(-1)?.id ?? 0;
  const upstreamModel = (r: RecordedRequest) => (r.body as { model?: string }).model;
  const wallet = async () =>
    (await t.agent.client.get<{ balance: string; held: string }>(`/admin/api/workspaces/${t.workspace.id}/wallet`))
      .body;
  /** The wallet once every charge is posted and the wallet lease released (held back to zero). */
  const settled = () =>
    waitFor(async () => {
      const w = await wallet();
      return nano(w.held) === 0n ? w : undefined;
    });

  beforeAll(async () => {
    stack = await startStack({ catalogFile: CATALOG });
    const admin = await AdminClient.login(stack.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    t = await createTenant(admin, { credit: '10.00', key: { rpm: 10_000 } });
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: t.key, maxRetries: 0 });
  });
  afterAll(() => stack.close());

  describe('fallback before the first byte', () => {
    it.each([
      ['503', 'primary-503', '/_k/status=503/v1/chat/completions'],
      ['429', 'primary-429', '/_k/status=429/v1/chat/completions'],
      ['a timeout', 'primary-timeout', '/_k/hang=1/v1/chat/completions'],
      ['a connect error', 'primary-connect', null],
      ['a malformed answer', 'primary-malformed', '/_k/malformed=1/v1/chat/completions'],
    ])(
      'on %s: 200 from the fallback with x-model-used, x-fallback-from, x-fallback-depth',
      async (_why, model, failedPath) => {
        const m = mark();
        const a = await chat(model);
        expect(a.status).toBe(200);
        expect(a.headers.get('x-model-used')).toBe('backup');
        expect(a.headers.get('x-fallback-from')).toBe(model);
        expect(a.headers.get('x-fallback-depth')).toBe('1');
        expect(a.json.choices[0].message.content).toContain(`Demo reply to "hello ${model}"`);
        const seen = since(m).map((r) => [r.path, upstreamModel(r)]);
        // the failing route first (a closed port records nothing), then the fallback's route
        expect(seen).toEqual([
          ...(failedPath ? [[failedPath, expect.any(String)]] : []),
          ['/v1/chat/completions', 'backup-upstream'],
        ]);
      },
    );

    it('a timeout gives up after the provider timeout_ms and aborts the hanging upstream request', async () => {
      const m = mark();
      const a = await chat('primary-timeout');
      expect(a.status).toBe(200);
      expect(a.ms).toBeGreaterThanOrEqual(280);
      expect(a.ms).toBeLessThan(3000);
      const hung = since(m).find((r) => r.path.startsWith('/_k/hang=1'))!;
      await waitFor(async () => hung.aborted, 2000);
    });

    it('the usage row names the model that served and the fallback depth, charged at its price', async () => {
      const a = await chat('primary-503', { requestId: 'fallback-usage-0001' });
      expect(a.status).toBe(200);
      const row = await waitFor(async () => {
        const r: Array<{
          model_requested: string;
          model_used: string;
          provider_id: string;
          fallback_depth: number;
          cost: string;
        }> = await stack.db.query(
          'SELECT model_requested, model_used, provider_id, fallback_depth, cost FROM usage_log WHERE request_id = $1',
          ['fallback-usage-0001'],
        );
        return r[0];
      });
      expect(row).toMatchObject({
        model_requested: 'primary-503',
        model_used: 'backup',
        provider_id: 'ok',
        fallback_depth: 1,
      });
      expect(nano(a.headers.get('x-credits-used')!)).toBe(BigInt(row.cost));
      expect(BigInt(row.cost)).toBeGreaterThan(0n);
    });

    it('two fallbacks deep: x-fallback-depth 2', async () => {
      const m = mark();
      const a = await chat('double');
      expect(a.status).toBe(200);
      expect(a.headers.get('x-model-used')).toBe('backup');
      expect(a.headers.get('x-fallback-from')).toBe('double');
      expect(a.headers.get('x-fallback-depth')).toBe('2');
      expect(since(m).map(upstreamModel)).toEqual(['double-upstream', 'also-fails-upstream', 'backup-upstream']);
    });

    it.each([
      ['503', 'primary-503'],
      ['a timeout', 'primary-timeout'],
      ['a connect error', 'primary-connect'],
      ['a malformed first event', 'primary-malformed'],
    ])('a stream that fails (%s) before its first chunk falls back too', async (_why, model) => {
      const a = await chat(model, { stream: true });
      expect(a.status).toBe(200);
      expect(a.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(a.headers.get('x-model-used')).toBe('backup');
      expect(a.headers.get('x-fallback-from')).toBe(model);
      expect(a.headers.get('x-fallback-depth')).toBe('1');
      expect(a.text).not.toContain('"error"');
      expect(a.text.trimEnd().endsWith('data: [DONE]')).toBe(true);
      const content = a.text
        .split('\n\n')
        .filter((f) => f.startsWith('data: {'))
        .map((f) => JSON.parse(f.slice(6)) as { choices: Array<{ delta: { content?: string } }> })
        .flatMap((c) => c.choices.map((ch) => ch.delta.content ?? ''))
        .join('');
      expect(content).toContain(`Demo reply to "hello ${model}"`);
    });

    it.each([
      ['an error event right after the role chunk', 'primary-stream-error', '/_k/error_after=0/v1/chat/completions'],
      [
        'an overloaded_error right after message_start',
        'primary-stream-error-anthropic',
        '/_k/error_after=0/v1/messages',
      ],
      ['an error event first', 'primary-stream-error-gemini', '/_k/error_after=0/v1beta/'],
      ['a clean end right after the role chunk', 'primary-stream-cut', '/_k/end_after=0/v1/chat/completions'],
    ])('a stream with %s has sent no answer yet: it falls back', async (_why, model, failedPath) => {
      const m = mark();
      const a = await chat(model, { stream: true });
      expect(a.status).toBe(200);
      expect(a.headers.get('x-model-used')).toBe('backup');
      expect(a.headers.get('x-fallback-from')).toBe(model);
      expect(a.text).not.toContain('"error"');
      expect(a.text.trimEnd().endsWith('data: [DONE]')).toBe(true);
      // one role chunk only: the failed route's was never sent
      expect(a.text.match(/"role":"assistant"/g)).toHaveLength(1);
      const seen = since(m);
      expect(seen).toHaveLength(2);
      expect(seen[0].path.startsWith(failedPath)).toBe(true);
      expect(seen[0].finished).toBe(true); // the failing upstream did send its event and end
      expect(upstreamModel(seen[1])).toBe('backup-upstream');
    });

    it.each([
      ['an overloaded_error right after message_start (native)', 'primary-stream-error-anthropic'],
      ['an error event right after the role chunk (converted)', 'primary-stream-error'],
    ])('a /v1/messages stream with %s falls back the same way', async (_why, model) => {
      const m = mark();
      const res = await fetch(`${stack.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': t.key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({
          model,
          max_tokens: 100,
          stream: true,
          messages: [{ role: 'user', content: `hello ${model}` }],
        }),
      });
      const text = await res.text();
      expect(res.status).toBe(200);
      expect(res.headers.get('x-model-used')).toBe('backup');
      expect(res.headers.get('x-fallback-from')).toBe(model);
      expect(text).not.toContain('event: error');
      // the failed route's message_start never reached the client
      expect(text.match(/event: message_start/g)).toHaveLength(1);
      expect(text).toContain('event: message_stop');
      const seen = since(m);
      expect(seen).toHaveLength(2);
      expect(upstreamModel(seen[1])).toBe('backup-upstream');
    });
  });

  describe('fallbacks on every kind and on /v1/embeddings, through the official client', () => {
    it.each([
      [
        'an overloaded anthropic route (529)',
        'primary-anthropic-529',
        'steady-anthropic',
        '/_k/status=529/v1/messages',
      ],
      ['an unavailable gemini route (503)', 'primary-gemini-503', 'steady-gemini', '/_k/status=503/v1beta/models/'],
    ])('%s falls back, streamed or not', async (_why, model, fallback, failedPath) => {
      const messages = [{ role: 'user' as const, content: `hello ${model}` }];
      let m = mark();
      const { data, response } = await client.chat.completions.create({ model, messages }).withResponse();
      expect(specErrors('CreateChatCompletionResponse', data)).toEqual([]);
      expect(data.model).toBe(model);
      expect(data.choices[0].message.content).toContain(`Demo reply to "hello ${model}"`);
      expect(response.headers.get('x-model-used')).toBe(fallback);
      expect(response.headers.get('x-fallback-from')).toBe(model);
      expect(response.headers.get('x-fallback-depth')).toBe('1');
      let seen = since(m);
      expect(seen).toHaveLength(2);
      expect(seen[0].path.startsWith(failedPath)).toBe(true);
      // the failing route and the fallback's both went through this kind's adapter
      expect(seen.map((r) => r.provider)).toEqual([seenProvider(failedPath), seenProvider(failedPath)]);

      m = mark();
      const { data: stream, response: streamed } = await client.chat.completions
        .create({ model, messages, stream: true })
        .withResponse();
      expect(streamed.headers.get('x-model-used')).toBe(fallback);
      expect(streamed.headers.get('x-fallback-from')).toBe(model);
      const chunks: OpenAI.ChatCompletionChunk[] = [];
      for await (const c of stream) chunks.push(c);
      for (const c of chunks) expect(specErrors('CreateChatCompletionStreamResponse', c)).toEqual([]);
      expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(data.choices[0].message.content);
      seen = since(m);
      expect(seen).toHaveLength(2);
      expect(seen[0].path.startsWith(failedPath)).toBe(true);
    });

    it.each([
      ['an openai', 'embed-primary-503', '/_k/status=503/v1/embeddings'],
      ['a gemini', 'embed-primary-503-gemini', '/_k/status=503/v1beta/models/gemini-embedding-001:batchEmbedContents'],
    ])('/v1/embeddings falls back from %s route that fails', async (_kind, model, failedPath) => {
      const m = mark();
      const { data, response } = await client.embeddings
        .create({ model, input: ['fall back please', 'twice'], encoding_format: 'float' })
        .withResponse();
      expect(specErrors('CreateEmbeddingResponse', data)).toEqual([]);
      expect(data.model).toBe(model);
      expect(data.data.map((d) => d.embedding.length)).toEqual([1536, 1536]);
      expect(response.headers.get('x-model-used')).toBe('embed-steady');
      expect(response.headers.get('x-fallback-from')).toBe(model);
      expect(response.headers.get('x-fallback-depth')).toBe('1');
      expect(nano(response.headers.get('x-credits-used')!)).toBe(20n * BigInt(data.usage.prompt_tokens));
      expect(since(m).map((r) => [r.path, r.provider])).toEqual([
        [failedPath, seenProvider(failedPath)],
        ['/v1/embeddings', 'openai'],
      ]);
    });
  });

  describe('route order', () => {
    it('routes are tried by priority (0, 1, 2), whatever their order in the file; no fallback headers within one model', async () => {
      const m = mark();
      const a = await chat('ordered');
      expect(a.status).toBe(200);
      expect(since(m).map((r) => [r.path, upstreamModel(r)])).toEqual([
        ['/_k/status=503/v1/chat/completions', 'first'],
        ['/_k/status=429/v1/chat/completions', 'second'],
        ['/v1/chat/completions', 'third'],
      ]);
      expect(a.headers.get('x-model-used')).toBe('ordered');
      expect(a.headers.get('x-fallback-from')).toBeNull();
      expect(a.headers.get('x-fallback-depth')).toBeNull();
    });

    it('weights spread load among routes of equal priority (3:1)', async () => {
      const m = mark();
      for (let i = 0; i < 40; i++) expect((await chat('weighted')).status).toBe(200);
      const models = since(m).map(upstreamModel);
      expect(models).toHaveLength(40);
      const heavy = models.filter((x) => x === 'heavy').length;
      const light = models.filter((x) => x === 'light').length;
      expect(heavy + light).toBe(40);
      expect(light).toBeGreaterThan(0);
      expect(heavy).toBeGreaterThan(light);
    });

    it('equal weights: either route may go first, and a failing one hands over to its sibling', async () => {
      const m = mark();
      for (let i = 0; i < 20; i++) {
        const a = await chat('spread');
        expect(a.status).toBe(200);
        expect(a.headers.get('x-fallback-from')).toBeNull();
      }
      const seen = since(m).map(upstreamModel);
      const okFirst = seen.filter((x, i) => x === 'spread-ok' && (i === 0 || seen[i - 1] === 'spread-ok')).length;
      const downFirst = seen.filter((x) => x === 'spread-down').length;
      expect(seen.filter((x) => x === 'spread-ok')).toHaveLength(20);
      expect(okFirst).toBeGreaterThan(0);
      expect(downFirst).toBeGreaterThan(0);
    });
  });

  describe('no fallback, and failures', () => {
    it("an upstream 400 does not fall back: 400 bad_request with the upstream's sanitized message", async () => {
      const before = await settled();
      const m = mark();
      const a = await chat('primary-400');
      expect(a.status).toBe(400);
      expect(a.json.error).toMatchObject({ code: 'bad_request', type: 'invalid_request_error' });
      expect(a.json.error.message).toContain('simulated error 400');
      expect(a.headers.get('x-model-used')).toBeNull();
      expect(since(m).map((r) => r.path)).toEqual(['/_k/status=400/v1/chat/completions']);
      // no tokens, no charge: the hold is released
      expect((await settled()).balance).toBe(before.balance);
    });

    it('an upstream refusing the gateway credentials (401) does not fall back: 502 with a generic message', async () => {
      const m = mark();
      const a = await chat('primary-401');
      expect(a.status).toBe(502);
      expect(a.json.error).toMatchObject({ code: 'upstream_error' });
      expect(a.json.error.message).toMatch(/credentials/);
      expect(a.json.error.message).not.toMatch(/sk-upstream|127\.0\.0\.1|_k/);
      // DESIGN.md: only connect errors, timeouts, 429 and 5xx try the next route or fallback
      expect(since(m).map(upstreamModel)).toEqual(['p401-upstream']);
    });

    it('every route failing: 502 upstream_error after trying all of them', async () => {
      const before = await settled();
      const m = mark();
      const a = await chat('all-fail');
      expect(a.status).toBe(502);
      expect(a.json.error).toMatchObject({ code: 'upstream_error', type: 'upstream_error' });
      expect(since(m).map(upstreamModel)).toEqual(['all-fail-a', 'all-fail-b', 'also-fails-upstream']);
      const s = await chat('all-fail', { stream: true });
      expect(s.status).toBe(502);
      expect(s.headers.get('content-type')).toMatch(/^application\/json/);
      expect(s.json.error.code).toBe('upstream_error');
      expect((await settled()).balance).toBe(before.balance);
    });

    it('a timeout as the last failure: 504 upstream_timeout', async () => {
      const a = await chat('timeout-last');
      expect(a.status).toBe(504);
      expect(a.json.error).toMatchObject({ code: 'upstream_timeout' });
      expect(a.ms).toBeGreaterThanOrEqual(280);
      const s = await chat('timeout-last', { stream: true });
      expect(s.status).toBe(504);
      expect(s.json.error.code).toBe('upstream_timeout');
    });

    it.each(['leaky-400', 'leaky-400-anthropic', 'leaky-400-gemini'])(
      "an upstream 400 whose text names its key, host and internal URLs (%s): the client gets the message's sense, none of them",
      async (model) => {
        const a = await chat(model);
        expect(a.status).toBe(400);
        expect(a.json.error.code).toBe('bad_request');
        expect(a.json.error.message).toContain('simulated error 400');
        // the demo did leak: the gateway is what stops it
        const sent = stack.upstream.requests.at(-1)!;
        expect(sent.knobs.leaky_error).toBe(true);
      },
    );

    it.each(['leaky-stream', 'leaky-stream-anthropic', 'leaky-stream-gemini'])(
      'a mid-stream error event with a leaky text (%s) reaches the client scrubbed',
      async (model) => {
        const a = await chat(model, { stream: true });
        expect(a.status).toBe(200);
        const last = a.text.trimEnd().split('\n\n').at(-1)!;
        const error = (JSON.parse(last.slice(6)) as { error: { code: string; message: string } }).error;
        expect(error.code).toBe('upstream_error');
        expect(error.message).toContain('simulated stream error');
      },
    );

    it('error messages never contain the upstream key, host, port or URL', async () => {
      const u = new URL(stack.upstream.url);
      expect(clientErrors.length).toBeGreaterThanOrEqual(11);
      expect(clientErrors.filter((t) => t.includes('simulated')).length).toBeGreaterThanOrEqual(6);
      for (const text of clientErrors) {
        expect(text).not.toContain(UPSTREAM_KEY);
        expect(text).not.toContain(ROUTE_KEY);
        expect(text).not.toMatch(/vllm-gpu-3|:8000|mycompany|AKIA|internal\/auth|\?key=/);
        expect(text).not.toContain(stack.upstream.url);
        expect(text).not.toContain(u.host);
        expect(text).not.toContain(u.hostname);
        expect(text).not.toMatch(new RegExp(`\\b${u.port}\\b`));
        expect(text).not.toMatch(/https?:\/\/|127\.0\.0\.1|localhost|:1\/|\/_k\/|ECONNREFUSED|sk-upstream/);
      }
    });
  });

  describe('streams that break, clients that leave', () => {
    it('a mid-stream drop ends the stream with an error event and charges what was delivered', async () => {
      const before = await settled();
      const requestId = 'mid-stream-drop-0001';
      const a = await chat('steady', { stream: true, content: 'cut me off [[demo: drop_after=3]]', requestId });
      expect(a.status).toBe(200); // headers went out with the first chunk
      const frames = a.text.split('\n\n').filter((f) => f.startsWith('data: '));
      const last = frames.at(-1)!;
      expect(a.text).not.toContain('[DONE]');
      expect(JSON.parse(last.slice(6))).toEqual({
        error: expect.objectContaining({ code: 'upstream_error', message: expect.any(String) }),
      });
      const delivered = frames
        .slice(0, -1)
        .map((f) => JSON.parse(f.slice(6)) as { choices: Array<{ delta: { content?: string } }> })
        .flatMap((c) => c.choices.map((ch) => ch.delta.content ?? ''))
        .join('');
      expect(delivered).toBe('Demo reply to');

      const row = await waitFor(async () => {
        const r: Array<{ output_tokens: number; cost: string; error_code: string | null }> = await stack.db.query(
          'SELECT output_tokens, cost, error_code FROM usage_log WHERE request_id = $1',
          [requestId],
        );
        return r[0];
      });
      expect(row.output_tokens).toBeGreaterThan(0);
      expect(BigInt(row.cost)).toBeGreaterThan(0n);
      expect(row.error_code).toBe('upstream_error');
      // everything posted once the wallet's lease is released (idle): nothing held, the cost paid
      const after = await waitFor(async () => {
        const w = await wallet();
        return nano(w.held) === 0n ? w : undefined;
      });
      expect(nano(before.balance) - nano(after.balance)).toBe(BigInt(row.cost));
    });

    it.each(['steady', 'steady-anthropic', 'steady-gemini'])(
      'what the upstream (%s) sends at once goes to the client at once: three writes of the response for a whole stream, every chunk in them',
      async (model) => {
        // the gateway runs in this process: count the writes of this request's response
        const requestId = `one-write-${model}`;
        const writes: string[] = [];
        const wrap = (orig: (...a: unknown[]) => unknown) =>
          function (this: ServerResponse, ...a: unknown[]) {
            if (this.req?.headers['x-request-id'] === requestId && a[0]) writes.push(String(a[0]));
            return orig.apply(this, a);
          };
        const write = jest.spyOn(ServerResponse.prototype, 'write').mockImplementation(wrap(origWrite) as never);
        const end = jest.spyOn(ServerResponse.prototype, 'end').mockImplementation(wrap(origEnd) as never);
        let a: Answer;
        try {
          // tps=0: the demo upstream sends the whole stream in one write
          a = await chat(model, { stream: true, content: 'all at once [[demo: tps=0]]', requestId });
        } finally {
          write.mockRestore();
          end.mockRestore();
        }
        expect(a.status).toBe(200);
        // the part up to the first content (the commit), the rest, then [DONE] with the end
        expect(writes.length).toBeLessThanOrEqual(3);
        expect(writes.join('')).toBe(a.text);
        const frames = a.text.split('\n\n').filter((f) => f.startsWith('data: {'));
        const content = frames
          .map((f) => JSON.parse(f.slice(6)) as { choices: Array<{ delta: { content?: string } }> })
          .flatMap((c) => c.choices.map((ch) => ch.delta.content ?? ''))
          .join('');
        // the demo's whole answer, 12 words, in those writes
        expect(content).toMatch(/^Demo reply to "all at once/);
        expect(content.split(' ').length).toBeGreaterThanOrEqual(12);
        expect(a.text.endsWith('data: [DONE]\n\n')).toBe(true);
      },
    );

    it.each(['steady', 'steady-anthropic', 'steady-gemini'])(
      'a stream the upstream ends cleanly but early (%s) is no answer: an error event, no [DONE], what was delivered charged',
      async (model) => {
        const requestId = `clean-cut-${model}`;
        const a = await chat(model, { stream: true, content: 'cut me short [[demo: end_after=3]]', requestId });
        expect(a.status).toBe(200);
        expect(a.text).not.toContain('[DONE]');
        const frames = a.text.split('\n\n').filter((f) => f.startsWith('data: '));
        const error = (JSON.parse(frames.at(-1)!.slice(6)) as { error: { code: string; message: string } }).error;
        expect(error).toMatchObject({ code: 'upstream_error', message: expect.stringMatching(/ended before/) });
        const chunks = frames.slice(0, -1).map(
          (f) =>
            JSON.parse(f.slice(6)) as {
              choices: Array<{ delta: { content?: string }; finish_reason: string | null }>;
            },
        );
        expect(chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? '')).join('')).toMatch(/^Demo reply/);
        expect(chunks.every((c) => c.choices.every((ch) => ch.finish_reason === null))).toBe(true);
        const row = await waitFor(async () => {
          const r: Array<{ output_tokens: number; cost: string; error_code: string | null }> = await stack.db.query(
            'SELECT output_tokens, cost, error_code FROM usage_log WHERE request_id = $1',
            [requestId],
          );
          return r[0];
        });
        expect(row.error_code).toBe('upstream_error');
        expect(row.output_tokens).toBeGreaterThan(0);
        expect(BigInt(row.cost)).toBeGreaterThan(0n);
      },
    );

    it('a client that disconnects mid-stream aborts the upstream request at once; the hold is settled', async () => {
      const before = await settled();
      const requestId = 'client-gone-0001';
      const aborted = new Promise<{ r: RecordedRequest; at: number }>((resolve) => {
        const on = (r: RecordedRequest) => {
          if ((r.body as { model?: string }).model !== 'steady-upstream') return;
          stack.upstream.events.off('aborted', on);
          resolve({ r, at: Date.now() });
        };
        stack.upstream.events.on('aborted', on);
      });
      const ac = new AbortController();
      const res = await fetch(`${stack.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json', 'x-request-id': requestId },
        body: JSON.stringify({
          model: 'steady',
          stream: true,
          messages: [{ role: 'user', content: 'long story [[demo: tps=5, tokens=100]]' }],
        }),
        signal: ac.signal,
      });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      let got = '';
      while ((got.match(/"content":"[^"]+"/g) ?? []).length < 3)
        got += new TextDecoder().decode((await reader.read()).value);
      const abortedAt = Date.now();
      ac.abort();
      let timer: NodeJS.Timeout | undefined;
      const seen = await Promise.race([aborted, new Promise<null>((r) => (timer = setTimeout(() => r(null), 1500)))]);
      clearTimeout(timer);
      expect(seen).not.toBeNull();
      expect(seen!.at - abortedAt).toBeLessThan(1000);
      expect(seen!.r.aborted).toBe(true);
      expect(seen!.r.finished).toBe(false);

      // the tokens produced are charged and no hold is left behind
      const row = await waitFor(async () => {
        const r: Array<{ status: number; output_tokens: number; cost: string }> = await stack.db.query(
          'SELECT status, output_tokens, cost FROM usage_log WHERE request_id = $1',
          [requestId],
        );
        return r[0];
      });
      expect(row.status).toBe(499);
      expect(row.output_tokens).toBeGreaterThanOrEqual(3);
      expect(row.output_tokens).toBeLessThan(100);
      expect(BigInt(row.cost)).toBeGreaterThan(0n);
      await waitFor(async () => {
        const h: Array<{ n: number }> = await stack.db.query('SELECT count(*)::int AS n FROM holds');
        return h[0].n === 0;
      }, 2000);
      // the wallet paid exactly what the usage log says
      const after = await wallet();
      expect(nano(after.held)).toBe(0n);
      expect(nano(before.balance) - nano(after.balance)).toBe(BigInt(row.cost));
    });
  });

  describe('a client that leaves aborts the upstream request at once, on every kind and capability', () => {
    /** The demo's record of the request whose body carries `marker`, on arrival and on abort. */
    const upstreamEvent = (event: 'request' | 'aborted', marker: string) =>
      new Promise<{ r: RecordedRequest; at: number }>((resolve) => {
        const on = (r: RecordedRequest) => {
          if (!JSON.stringify(r.body ?? '').includes(marker)) return;
          stack.upstream.events.off(event, on);
          resolve({ r, at: Date.now() });
        };
        stack.upstream.events.on(event, on);
      });

    it.each([
      ['chat stream', 'steady'],
      ['chat stream', 'steady-anthropic'],
      ['chat stream', 'steady-gemini'],
      ['chat', 'steady'],
      ['chat', 'steady-anthropic'],
      ['chat', 'steady-gemini'],
      ['embeddings', 'embed-steady'],
      ['embeddings', 'embed-gemini'],
    ])('%s on %s', async (what, model) => {
      const before = await settled();
      const marker = `leaving-${what.replace(' ', '-')}-${model}`;
      const arrived = upstreamEvent('request', marker);
      const aborted = upstreamEvent('aborted', marker);
      const ac = new AbortController();
      let pending: Promise<unknown> | undefined;
      if (what === 'chat stream') {
        const stream = await client.chat.completions.create(
          { model, stream: true, messages: [{ role: 'user', content: `${marker} [[demo: tps=5, tokens=100]]` }] },
          { signal: ac.signal },
        );
        // leaving the loop ends the SDK's request as well; ac.abort() below is then a no-op
        let words = 0;
        for await (const c of stream) if (c.choices[0]?.delta?.content && ++words === 3) break;
      } else {
        // the upstream never answers: only the client's leaving can end the request
        const text = `${marker} [[demo: hang]]`;
        pending = (
          what === 'chat'
            ? client.chat.completions.create(
                { model, messages: [{ role: 'user', content: text }] },
                { signal: ac.signal },
              )
            : client.embeddings.create({ model, input: text }, { signal: ac.signal })
        ).catch((e: unknown) => e);
        await arrived;
      }
      const leftAt = Date.now();
      ac.abort();
      let timer: NodeJS.Timeout | undefined;
      const seen = await Promise.race([aborted, new Promise<null>((r) => (timer = setTimeout(() => r(null), 1500)))]);
      clearTimeout(timer);
      expect(seen).not.toBeNull();
      expect(seen!.at - leftAt).toBeLessThan(1000);
      expect(seen!.r).toMatchObject({ aborted: true, finished: false });
      if (pending) expect(await pending).toBeInstanceOf(OpenAI.APIUserAbortError);

      // nothing stays held; a stream pays for the words it produced, a request that produced nothing pays nothing
      const after = await settled();
      if (what === 'chat stream') expect(nano(before.balance) - nano(after.balance)).toBeGreaterThan(0n);
      else expect(after.balance).toBe(before.balance);
    });
  });

  describe('embeddings', () => {
    it('a Gemini embedding reports no usage: the gateway counts with its tokenizer, not characters / 4', async () => {
      const input = 'The quick brown fox'; // 19 characters (an estimate of 5), 4 tokens
      const { data, response } = await client.embeddings
        .create({ model: 'embed-gemini', input, encoding_format: 'float' })
        .withResponse();
      expect(specErrors('CreateEmbeddingResponse', data)).toEqual([]);
      expect(stack.upstream.requests.at(-1)!.path).toContain(':batchEmbedContents');
      expect(data.data[0].embedding).toHaveLength(3072);
      expect(data.usage).toEqual({ prompt_tokens: countText(input), total_tokens: countText(input) });
      expect(data.usage.prompt_tokens).toBe(4);
      // 0.15 per Mtok = 150 units of 10^-9 per token
      expect(nano(response.headers.get('x-credits-used')!)).toBe(150n * 4n);

      const many = await client.embeddings.create({
        model: 'embed-gemini',
        input: ['first input here', 'and a second'],
        encoding_format: 'float',
      });
      expect(many.usage.prompt_tokens).toBe(countText('first input here') + countText('and a second'));
    });
  });
});
