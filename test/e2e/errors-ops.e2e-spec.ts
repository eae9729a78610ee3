// Every bad input gets the contract's envelope (OpenAI's on /v1 and /admin/api, Anthropic's on
// /v1/messages) and an x-request-id; secrets never reach the logs; the ops endpoints answer; a graceful
// shutdown finishes the stream in flight, refuses new connections and keeps its usage row.
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { WalletLeasesService } from '@switchyard/wallets';
import { AdminClient, createTenant, Tenant } from './helpers/admin-client';
import { holdsOf, usageMismatches, walletOf } from './helpers/money';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, TestStack } from './helpers/test-stack';
import { waitFor } from './helpers/wait';

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A raw HTTP call (any body, any headers); every answer must carry an x-request-id. */
async function send(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const res = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: init.headers,
    body: init.body,
  });
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: the assertions below say so
  }
  expect({ url, status: res.status, requestId: res.headers.get('x-request-id') }).toEqual({
    url,
    status: res.status,
    requestId: expect.stringMatching(/^[A-Za-z0-9._-]{8,128}$/),
  });
  expect(res.headers.get('x-mikan-request-id')).toBe(res.headers.get('x-request-id')); // seed 000's header
  return { status: res.status, headers: res.headers, text, json };
}

/** The OpenAI envelope, exactly: {error: {message, type, param, code}} and nothing that looks like a trace. */
function expectOpenAIError(a: Answer, status: number, code: string, param?: string | null): void {
  expect({ status: a.status, contentType: a.headers.get('content-type') }).toEqual({
    status,
    contentType: expect.stringMatching(/^application\/json/),
  });
  expect(Object.keys(a.json)).toEqual(['error']);
  expect(Object.keys(a.json.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(a.json.error).toMatchObject({ message: expect.any(String), type: expect.any(String), code });
  if (param !== undefined) expect(a.json.error.param).toBe(param);
  else expect(a.json.error.param === null || typeof a.json.error.param === 'string').toBe(true);
  expectNoTrace(a.text);
}

function expectAnthropicError(a: Answer, status: number, type: string): void {
  expect(a.status).toBe(status);
  expect(a.json).toEqual({ type: 'error', error: { type, message: expect.any(String) } });
  expectNoTrace(a.text);
}

function expectNoTrace(text: string): void {
  expect(text).not.toMatch(/<html|<!DOCTYPE|\n\s+at |node_modules|\.ts:\d+|QueryFailedError|TypeError|SyntaxError/i);
}

describe('errors, logs, ops and graceful shutdown', () => {
  let stack: TestStack;
  let admin: AdminClient;
  let t: Tenant;
  /** secrets that earlier tests made sure reached an error path; the logs test greps for them too */
  const exposedSecrets: string[] = [];
  const chatUrl = () => `${stack.url}/v1/chat/completions`;
  const auth = () => ({ authorization: `Bearer ${t.key}`, 'content-type': 'application/json' });
  const chat = (body: unknown, headers: Record<string, string> = {}) =>
    send(chatUrl(), { headers: { ...auth(), ...headers }, body: JSON.stringify(body) });

  beforeAll(async () => {
    // a small body limit so that "too large" is cheap to send
    stack = await startStack({ env: { BODY_LIMIT: '1kb' } });
    admin = await AdminClient.login(stack.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    t = await createTenant(admin, { credit: '5.00', key: { rpm: 10_000 } });
  });
  afterAll(() => stack.close());

  describe('/v1 (OpenAI envelope)', () => {
    it('malformed JSON: 400 bad_request', async () => {
      const a = await send(chatUrl(), { headers: auth(), body: '{"model": "gpt-4o-mini", "messages": [' });
      expectOpenAIError(a, 400, 'bad_request');
      expect(a.json.error.type).toBe('invalid_request_error');
    });

    it('wrong types: 400 bad_request with param naming the field', async () => {
      const base = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ ...base, messages: 'x' }, 'messages'],
        [{ ...base, temperature: 'hot' }, 'temperature'],
        [{ ...base, max_tokens: -1 }, 'max_tokens'],
        [{ ...base, model: 42 }, 'model'],
        [{ ...base, stream: 'yes' }, 'stream'],
        [{ model: 'gpt-4o-mini' }, 'messages'],
      ];
      for (const [body, param] of cases) {
        const a = await chat(body);
        expectOpenAIError(a, 400, 'bad_request', param);
        expect(a.json.error.message).toContain(param);
      }
      const arr = await send(chatUrl(), { headers: auth(), body: '[1,2,3]' });
      expectOpenAIError(arr, 400, 'bad_request');
    });

    it('unknown model: 400 model_not_found', async () => {
      const a = await chat({ model: 'no-such-model-9000', messages: [{ role: 'user', content: 'hi' }] });
      expectOpenAIError(a, 400, 'model_not_found', 'model');
      expect(a.json.error.message).toContain('no-such-model-9000');
    });

    it('a body over BODY_LIMIT: 413 payload_too_large (JSON, never HTML)', async () => {
      const big = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(2048) }] });
      const a = await send(chatUrl(), { headers: auth(), body: big });
      expectOpenAIError(a, 413, 'payload_too_large');
      // the same size under the limit is fine on the same route
      const ok = await chat({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(500) }] });
      expect(ok.status).toBe(200);
      // admin routes share the limit and the envelope
      const adminBig = await send(`${stack.url}/admin/api/workspaces`, {
        headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'y'.repeat(2048) }),
      });
      expectOpenAIError(adminBig, 413, 'payload_too_large');
    });

    it('missing key: 401 missing_authorization; a malformed Authorization header: 401 invalid_api_key', async () => {
      const none = await send(chatUrl(), { headers: { 'content-type': 'application/json' }, body: '{}' });
      expectOpenAIError(none, 401, 'missing_authorization');
      const basic = await send(chatUrl(), {
        headers: { authorization: 'Basic Zm9vOmJhcg==', 'content-type': 'application/json' },
        body: '{}',
      });
      expectOpenAIError(basic, 401, 'invalid_api_key');
    });

    it('unknown routes: 404 not_found JSON on /v1, /api/v1, /admin/api and elsewhere', async () => {
      for (const path of ['/v1/xyz', '/api/v1/xyz', '/admin/api/xyz', '/nothing/here', '/v1/chat/completions/extra']) {
        const a = await send(stack.url + path, { headers: auth() });
        expectOpenAIError(a, 404, 'not_found');
        expect(a.json.error.type).toBe('not_found_error');
      }
      const post = await send(`${stack.url}/v1/xyz`, { headers: auth(), body: '{}' });
      expectOpenAIError(post, 404, 'not_found');
    });

    it('"loses nothing": refused requests hold no money, charge nothing and are in the usage log', async () => {
      const ids = ['bad-input-0001', 'bad-input-0002'];
      // a settled starting point: earlier requests' charges posted and the wallet lease released
      const before = (
        await waitFor(async () => {
          const w = (
            await admin.get<{ balance: string; held: string }>(`/admin/api/workspaces/${t.workspace.id}/wallet`)
          ).body;
          return w.held === '0.00' ? w : undefined;
        })
      ).balance;
      await chat({ model: 'gpt-4o-mini', messages: 'x' }, { 'x-request-id': ids[0] });
      await chat({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': ids[1] });
      const rows = await waitFor(async () => {
        const r: Array<{ request_id: string; status: number; error_code: string; cost: string }> = await stack.db.query(
          'SELECT request_id, status, error_code, cost FROM usage_log WHERE request_id = ANY($1) ORDER BY request_id',
          [ids],
        );
        return r.length === 2 ? r : undefined;
      });
      expect(rows).toEqual([
        { request_id: ids[0], status: 400, error_code: 'bad_request', cost: '0' },
        { request_id: ids[1], status: 400, error_code: 'model_not_found', cost: '0' },
      ]);
      const after = (
        await admin.get<{ balance: string; held: string }>(`/admin/api/workspaces/${t.workspace.id}/wallet`)
      ).body;
      expect(after.balance).toBe(before);
      expect(after.held).toMatch(/^0(\.0+)?$/);
    });
  });

  describe('/v1/messages (Anthropic envelope)', () => {
    const url = () => `${stack.url}/v1/messages`;
    it('missing key, malformed JSON, missing fields, unknown model, too large, unknown sub-route', async () => {
      expectAnthropicError(
        await send(url(), { headers: { 'content-type': 'application/json' }, body: '{}' }),
        401,
        'authentication_error',
      );
      expectAnthropicError(
        await send(url(), { headers: { 'x-api-key': t.key, 'content-type': 'application/json' }, body: '{"model":' }),
        400,
        'invalid_request_error',
      );
      expectAnthropicError(
        await send(url(), {
          headers: { 'x-api-key': t.key, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'hi' }] }),
        }),
        400,
        'invalid_request_error',
      );
      const unknown = await send(url(), {
        headers: { 'x-api-key': t.key, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'no-such-claude', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
      });
      expectAnthropicError(unknown, 400, 'invalid_request_error');
      expect(unknown.json.error.message).toContain('no-such-claude');
      const big = JSON.stringify({
        model: 'claude-haiku-4-5',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'x'.repeat(2048) }],
      });
      expectAnthropicError(
        await send(url(), { headers: { 'x-api-key': t.key, 'content-type': 'application/json' }, body: big }),
        413,
        'invalid_request_error',
      );
      expectAnthropicError(await send(`${url()}/xyz`, { headers: { 'x-api-key': t.key } }), 404, 'not_found_error');
      // and a good request works, so the above are not an artefact of the setup
      const ok = await send(url(), {
        headers: { 'x-api-key': t.key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({
          model: 'claude-haiku-4-5',
          max_tokens: 20,
          messages: [{ role: 'user', content: 'hi' }],
        }),
      });
      expect(ok.status).toBe(200);
      expect(ok.json.type).toBe('message');
    });
  });

  describe('x-request-id', () => {
    it('is on every response (the send() helper checks each one) and a valid incoming id is echoed', async () => {
      const echoed = await send(`${stack.url}/v1/models`, {
        headers: { ...auth(), 'x-request-id': 'client-trace-1234' },
      });
      expect(echoed.status).toBe(200);
      expect(echoed.headers.get('x-request-id')).toBe('client-trace-1234');
      const onError = await send(`${stack.url}/v1/xyz`, { headers: { 'x-request-id': 'client-trace-5678' } });
      expect(onError.headers.get('x-request-id')).toBe('client-trace-5678');
      const on413 = await send(chatUrl(), {
        headers: { ...auth(), 'x-request-id': 'client-trace-413x' },
        body: 'x'.repeat(2048),
      });
      expect(on413.status).toBe(413);
      expect(on413.headers.get('x-request-id')).toBe('client-trace-413x');
      // an id that could smuggle log lines or headers is replaced, not echoed
      const junk = await send(`${stack.url}/healthz`, { headers: { 'x-request-id': 'bad id {with} spaces' } });
      expect(junk.headers.get('x-request-id')).toMatch(UUID);
      const fresh = await send(`${stack.url}/healthz`);
      expect(fresh.headers.get('x-request-id')).toMatch(UUID);
    });
  });

  describe('an unexpected exception', () => {
    it('answers 500 internal_error in the envelope, with no stack trace or SQL, and logs it', async () => {
      // fresh keys: not in any process's key cache yet, so authenticating them reads the database
      const k1 = await t.agent.client.post<{ key: string }>(`/admin/api/workspaces/${t.workspace.id}/keys`, {
        name: 'cold 1',
      });
      const k2 = await t.agent.client.post<{ key: string }>(`/admin/api/workspaces/${t.workspace.id}/keys`, {
        name: 'cold 2',
      });
      await stack.db.query('ALTER TABLE workspaces RENAME TO workspaces_gone');
      let v1: Answer, msgs: Answer, adm: Answer;
      try {
        v1 = await send(chatUrl(), {
          headers: {
            authorization: `Bearer ${k1.body.key}`,
            'content-type': 'application/json',
            'x-request-id': 'boom-request-0001',
          },
          body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
        });
        msgs = await send(`${stack.url}/v1/messages`, {
          headers: { 'x-api-key': k2.body.key, 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'claude-haiku-4-5',
            max_tokens: 10,
            messages: [{ role: 'user', content: 'hi' }],
          }),
        });
        adm = await send(`${stack.url}/admin/api/workspaces`, { headers: { authorization: `Bearer ${admin.token}` } });
      } finally {
        await stack.db.query('ALTER TABLE workspaces_gone RENAME TO workspaces');
      }
      expectOpenAIError(v1, 500, 'internal_error', null);
      expect(v1.json.error.type).toBe('api_error');
      expect(v1.text).not.toMatch(/workspaces|relation|SELECT|api_keys/i);
      expectAnthropicError(msgs, 500, 'api_error');
      expect(msgs.text).not.toMatch(/workspaces|relation|SELECT/i);
      expectOpenAIError(adm, 500, 'internal_error', null);
      expect(adm.text).not.toMatch(/workspaces_?|relation|SELECT/i);
      // the details are for the operator: in the log, under the request id
      expect(stack.logs.some((l) => l.includes('boom-request-0001') && l.includes('unhandled error'))).toBe(true);
      // and the service is fine again once the table is back
      expect(
        (
          await send(chatUrl(), {
            headers: { authorization: `Bearer ${k1.body.key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
          })
        ).status,
      ).toBe(200);
    });
  });

  describe('an unhandled database error in the log', () => {
    it('keeps the message, code and stack, never the SQL, its parameters or the driver error', async () => {
      const cold = await t.agent.client.post<{ key: string }>(`/admin/api/workspaces/${t.workspace.id}/keys`, {
        name: 'cold for the log',
      });
      // the key check's query carries the key's hash as a parameter
      const hash = createHash('sha256').update(cold.body.key).digest('hex');
      exposedSecrets.push(hash);
      await stack.db.query('ALTER TABLE api_keys RENAME TO api_keys_gone');
      let a: Answer;
      try {
        a = await send(`${stack.url}/v1/models`, {
          headers: { authorization: `Bearer ${cold.body.key}`, 'x-request-id': 'db-error-log-0001' },
        });
      } finally {
        await stack.db.query('ALTER TABLE api_keys_gone RENAME TO api_keys');
      }
      expectOpenAIError(a, 500, 'internal_error', null);
      const line = stack.logs.find((l) => l.includes('db-error-log-0001') && l.includes('unhandled error'));
      expect(line).toBeDefined();
      const err = (JSON.parse(line!) as { err: Record<string, unknown> }).err;
      expect(err).toEqual({
        type: 'QueryFailedError',
        message: 'relation "api_keys" does not exist',
        code: '42P01',
        stack: expect.stringContaining('QueryFailedError'),
      });
      expect(line).not.toContain(hash);
      expect(line).not.toMatch(/key_hash|SELECT|"query"|"parameters"|driverError/);
    });
  });

  describe('bodies that are not what their Content-Encoding says', () => {
    it('answer 400 bad_request (not 500), and a real gzip body is read', async () => {
      const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'gzip' }] });
      for (const encoding of ['gzip', 'deflate', 'br']) {
        const a = await send(chatUrl(), { headers: { ...auth(), 'content-encoding': encoding }, body });
        expectOpenAIError(a, 400, 'bad_request', 'Content-Encoding');
      }
      const adm = await send(`${stack.url}/admin/api/workspaces`, {
        headers: {
          authorization: `Bearer ${admin.token}`,
          'content-type': 'application/json',
          'content-encoding': 'gzip',
        },
        body: '{"name":"x"}',
      });
      expectOpenAIError(adm, 400, 'bad_request', 'Content-Encoding');
      const res = await fetch(chatUrl(), {
        method: 'POST',
        headers: { ...auth(), 'content-encoding': 'gzip' },
        body: gzipSync(body),
      });
      expect(res.status).toBe(200);
      expect(stack.logs.some((l) => l.includes('unhandled error') && l.includes('Z_DATA_ERROR'))).toBe(false);
    });
  });

  describe('every /v1 request has its usage-log row', () => {
    it('malformed JSON, an oversized body and a body its encoding does not match included', async () => {
      const ids = ['parser-row-json-0001', 'parser-row-413-00001', 'parser-row-gzip-0001'];
      await send(chatUrl(), { headers: { ...auth(), 'x-request-id': ids[0] }, body: '{"model": ' });
      await send(chatUrl(), { headers: { ...auth(), 'x-request-id': ids[1] }, body: 'x'.repeat(4096) });
      await send(`${stack.url}/api/v1/embeddings`, {
        headers: { ...auth(), 'x-request-id': ids[2], 'content-encoding': 'gzip' },
        body: '{}',
      });
      const rows = await waitFor(async () => {
        const r: Array<{ request_id: string; status: number; error_code: string; cost: string }> = await stack.db.query(
          'SELECT request_id, status, error_code, cost FROM usage_log WHERE request_id = ANY($1) ORDER BY request_id',
          [ids],
        );
        return r.length === 3 ? r : undefined;
      });
      expect(rows).toEqual([
        { request_id: ids[1], status: 413, error_code: 'payload_too_large', cost: '0' },
        { request_id: ids[2], status: 400, error_code: 'bad_request', cost: '0' },
        { request_id: ids[0], status: 400, error_code: 'bad_request', cost: '0' },
      ]);
      // one row each, never two (the recorder is mounted once)
      const n: Array<{ n: number }> = await stack.db.query(
        'SELECT count(*)::int AS n FROM usage_log WHERE request_id = ANY($1)',
        [ids],
      );
      expect(n[0].n).toBe(3);
    });
  });

  describe('validation messages name the field at fault', () => {
    it('a message without content names messages[i].content; a mistyped number says it is not a number', async () => {
      const noContent = await chat({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }, { role: 'user' }],
      });
      expectOpenAIError(noContent, 400, 'bad_request', 'messages[1].content');
      const hot = await chat({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], temperature: 'a' });
      expectOpenAIError(hot, 400, 'bad_request', 'temperature');
      expect(hot.json.error.message).toBe('temperature must be a number');
      const tooHot = await chat({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], temperature: 3 });
      expectOpenAIError(tooHot, 400, 'bad_request', 'temperature');
      expect(tooHot.json.error.message).toMatch(/must not be greater than 2/);
      const tokens = await chat({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 'x' });
      expect(tokens.json.error.message).toBe('max_tokens must be an integer');
    });
  });

  describe('logs', () => {
    it('never contain keys, passwords, tokens, Authorization headers or upstream keys', async () => {
      const agentToken = await t.agent.client.post<{ token: string }>('/admin/api/tokens', { name: 'log test' });
      const wrongPassword = 'wrong-password-SECRET-42';
      await send(`${stack.url}/admin/api/auth/login`, {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: ADMIN_EMAIL, password: wrongPassword }),
      });
      await send(`${stack.url}/admin/api/auth/login`, {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
      });
      await send(`${stack.url}/admin/api/auth/login`, {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: t.agent.email, password: t.agent.password }),
      });
      await send(`${stack.url}/admin/api/workspaces`, {
        headers: { authorization: `Bearer ${agentToken.body.token}` },
      });
      await send(`${stack.url}/admin/api/workspaces`, {
        headers: { authorization: `Bearer ${agentToken.body.token}x` },
      });
      await send(`${stack.url}/v1/models?api_key=${t.key}`, { headers: { 'x-api-key': t.key } });
      const unknownKey = 'sk-sy-' + 'UnknownKeyForLogTest'.padEnd(40, 'Q');
      await send(`${stack.url}/v1/models`, { headers: { authorization: `Bearer ${unknownKey}` } });
      await send(`${stack.url}/v1/models`, { headers: { authorization: `Token ${t.key}` } });
      const msg = (text: string) =>
        JSON.stringify({ model: 'gpt-4o-mini', user: t.key, messages: [{ role: 'user', content: text }] });
      await send(chatUrl(), { headers: auth(), body: msg('log test plain') });
      await send(chatUrl(), { headers: auth(), body: msg('log test [[demo: status=500]]') }); // every route fails
      await send(chatUrl(), { headers: auth(), body: msg('log test [[demo: status=401]]') }); // upstream refuses the credentials
      await send(chatUrl(), {
        headers: auth(),
        body: JSON.stringify({
          model: 'gpt-4o-mini',
          stream: true,
          messages: [{ role: 'user', content: 'log stream' }],
        }),
      });
      await send(`${stack.url}/v1/messages`, {
        headers: { 'x-api-key': t.key, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'claude-haiku-4-5',
          max_tokens: 20,
          messages: [{ role: 'user', content: 'log test' }],
        }),
      });
      await send(chatUrl(), {
        headers: auth(),
        body: JSON.stringify({
          model: 'gemini-3-flash',
          messages: [{ role: 'user', content: 'log test [[demo: status=500]]' }],
        }),
      });
      await send(`${stack.url}/v1/embeddings`, {
        headers: auth(),
        body: JSON.stringify({ model: 'qwen3-vl-embedding-8b', input: 'log test' }),
      });
      await new Promise((r) => setTimeout(r, 200)); // access lines are written when responses close

      const secrets = [
        t.key,
        t.key.slice(6), // the random part alone
        unknownKey,
        ADMIN_PASSWORD,
        wrongPassword,
        t.agent.password,
        admin.token!,
        t.agent.client.token!,
        agentToken.body.token,
        'sk-upstream-openai-secret',
        'sk-ant-upstream-secret',
        'AIza-upstream-gemini-secret',
        'sk-upstream-deepseek-secret',
        'upstream-qwen-secret',
        ...exposedSecrets,
      ];
      const all = stack.logs.join('');
      expect(stack.logs.length).toBeGreaterThan(20); // the logs are really captured
      expect(all).toContain('"req_id"');
      const found = secrets.filter((s) => all.includes(s));
      expect(found).toEqual([]);
      expect(all).not.toMatch(/Bearer\s+\S{8,}/);
    });
  });

  describe('ops', () => {
    it('/healthz and /readyz (postgres and redis ok)', async () => {
      const h = await send(`${stack.url}/healthz`);
      expect(h.status).toBe(200);
      const r = await send(`${stack.url}/readyz`);
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ status: 'ok', checks: { postgres: 'ok', redis: 'ok' } });
    });

    it('/metrics has http_requests_total and http_request_duration_seconds with route labels', async () => {
      await chat({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'for metrics' }] });
      const m = await send(`${stack.url}/metrics`);
      expect(m.status).toBe(200);
      expect(m.headers.get('content-type')).toMatch(/^text\/plain/);
      const lines = m.text.split('\n');
      const counter = lines.find(
        (l) =>
          l.startsWith('http_requests_total{') &&
          l.includes('route="/v1/chat/completions"') &&
          l.includes('status="200"') &&
          l.includes('method="POST"'),
      );
      expect(counter).toBeDefined();
      expect(Number(counter!.split(' ').pop())).toBeGreaterThanOrEqual(1);
      expect(
        lines.some(
          (l) => l.startsWith('http_request_duration_seconds_bucket{') && l.includes('route="/v1/chat/completions"'),
        ),
      ).toBe(true);
      expect(
        lines.some((l) => l.startsWith('http_requests_total{') && l.includes('route="/admin/api/workspaces"')),
      ).toBe(true);
      // ids stay out of the labels (bounded cardinality)
      expect(m.text).not.toContain(t.workspace.id);
      expect(m.text).not.toContain('route="/v1/xyz"');
    });

    it('/docs serves HTML and /docs/openapi.json lists /v1 and /admin/api routes', async () => {
      const html = await send(`${stack.url}/docs`);
      expect(html.status).toBe(200);
      expect(html.headers.get('content-type')).toMatch(/text\/html/);
      expect(html.text).toMatch(/swagger/i);
      const doc = await send(`${stack.url}/docs/openapi.json`);
      expect(doc.status).toBe(200);
      const paths = Object.keys(doc.json.paths);
      expect(paths).toEqual(
        expect.arrayContaining([
          '/v1/chat/completions',
          '/v1/messages',
          '/v1/models',
          '/admin/api/workspaces',
          '/admin/api/auth/login',
          '/admin/api/agents',
        ]),
      );
    });
  });

  describe('graceful shutdown', () => {
    it('finishes the stream in flight, refuses new connections, keeps its usage row and posts its charge', async () => {
      // this process posts and releases its wallet leases only when it stops: nothing else would, meanwhile
      const peer = await stack.startPeer({ LEASE_FLUSH_MS: '60000', LEASE_IDLE_MS: '3600000' });
      const requestId = 'shutdown-stream-0001';
      const res = await fetch(`${peer.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { ...auth(), 'x-request-id': requestId },
        body: JSON.stringify({
          model: 'gpt-4o-mini',
          stream: true,
          messages: [{ role: 'user', content: 'slow one [[demo: tps=20, tokens=40]]' }],
        }),
      });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      const first = await reader.read();
      text += decoder.decode(first.value, { stream: true });
      const leases = peer.app.get(WalletLeasesService).snapshot();
      expect(leases.map((l) => l.workspaceId)).toEqual([t.workspace.id]);
      const wallet = await walletOf(stack.db, 'workspace', t.workspace.id);
      expect(wallet.held).toBeGreaterThan(0n);

      // a connection opened ahead of need that never sends a request (HTTP client pools, browsers and
      // load balancers do this) must not hold the shutdown for the whole grace period (5 s here)
      const preconnected = connect(peer.port, '127.0.0.1');
      await new Promise((r) => preconnected.once('connect', r));
      const preconnectedClosed = new Promise((r) => preconnected.once('close', r));
      preconnected.on('error', () => undefined);

      const stopping = peer.shutdown('test: SIGTERM');
      const stoppedAt = { t: 0 };
      void stopping.then(() => (stoppedAt.t = Date.now()));
      // the listener is closed at once: a new connection is refused while the stream goes on
      await new Promise((r) => setTimeout(r, 50));
      const refused = await new Promise<string>((resolve) => {
        const s = connect(peer.port, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          resolve('connected');
        });
        s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
      expect(refused).toBe('ECONNREFUSED');

      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      const finishedAt = Date.now();
      expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
      const words = text
        .split('\n\n')
        .filter((f) => f.startsWith('data: {'))
        .map((f) => JSON.parse(f.slice(6)) as { choices: Array<{ delta: { content?: string } }> })
        .flatMap((c) => c.choices.map((ch) => ch.delta.content ?? ''))
        .join('')
        .trim()
        .split(/\s+/);
      expect(words.length).toBe(40);

      await stopping;
      expect(stoppedAt.t).toBeGreaterThanOrEqual(finishedAt - 5); // shutdown waited for the stream...
      expect(stoppedAt.t - finishedAt).toBeLessThan(1500); // ...and for nothing else
      await preconnectedClosed;
      await expect(fetch(`${peer.url}/healthz`)).rejects.toThrow();

      // flushed before the pools closed: the row is there right away, with the hold settled
      const rows: Array<{ status: number; output_tokens: number; cost: string; stream: boolean }> =
        await stack.db.query('SELECT status, output_tokens, cost, stream FROM usage_log WHERE request_id = $1', [
          requestId,
        ]);
      expect(rows).toEqual([
        { status: 200, output_tokens: 40, cost: expect.stringMatching(/^[1-9]\d*$/), stream: true },
      ]);
      // its charge was posted before the pools closed (the ledger's usage postings are the usage rows'
      // costs), and its lease released: nothing held, no hold row left
      expect(await usageMismatches(stack.db, t.workspace.id)).toEqual([]);
      expect(
        await stack.db.query('SELECT id FROM holds WHERE id = ANY($1::uuid[])', [leases.map((l) => l.holdId)]),
      ).toEqual([]);
      expect(await walletOf(stack.db, 'workspace', t.workspace.id)).toMatchObject({ held: 0n });
      expect(await holdsOf(stack.db, wallet.id)).toBe(0);
      // the main process never noticed
      expect((await send(`${stack.url}/healthz`)).status).toBe(200);
    }, 15_000);
  });
});
