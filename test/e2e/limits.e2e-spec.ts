// Rate limits and quotas as a client meets them through /v1 (DESIGN.md "Errors", seeds 003 and 004):
// the key's rpm (a sliding window: at most `rpm` requests in any minute), the X-RateLimit-* headers,
// one limit across gateway processes, every authenticated route counted once, tpm, daily caps,
// workspace caps, admin changes applied within seconds, the per-IP safety net (X-Forwarded-For only
// from trusted proxies), the admin login throttle and the LIMITS_ON_REDIS_FAILURE policy when Redis
// goes away at run time. Most requests here are small chat completions.
import { TcpProxy } from '../helpers/tcp-proxy';
import { AdminClient, createTenant, Tenant } from './helpers/admin-client';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, TestStack } from './helpers/test-stack';

type Peer = Awaited<ReturnType<TestStack['startPeer']>>;

interface Res {
  status: number;
  headers: Headers;
  body: any;
  ms: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

async function call(
  base: string,
  path: string,
  key: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Res> {
  const t = performance.now();
  const res = await fetch(base + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // SSE or empty
  }
  return { status: res.status, headers: res.headers, body: parsed, ms: performance.now() - t };
}

/** A cheap chat completion (a few tokens in and out). */
function chat(base: string, key: string, content = 'hi', headers: Record<string, string> = {}): Promise<Res> {
  return call(
    base,
    '/v1/chat/completions',
    key,
    { model: 'gpt-4o-mini', messages: [{ role: 'user', content }], max_tokens: 8 },
    headers,
  );
}

/** What every limited response carries, and what a 429 adds (seed 003). */
function expectRateHeaders(r: Res, amounts = false): { limit: number; remaining: number; reset: number } {
  const limit = r.headers.get('x-ratelimit-limit');
  const remaining = r.headers.get('x-ratelimit-remaining');
  const reset = r.headers.get('x-ratelimit-reset');
  // counts; a daily spend cap reports currency amounts (decimal strings)
  const format = amounts ? /^\d+\.\d+$/ : /^\d+$/;
  expect(limit).toMatch(format);
  expect(remaining).toMatch(format);
  expect(reset).toMatch(ISO_8601);
  expect(Number.isNaN(Date.parse(reset!))).toBe(false);
  return { limit: Number(limit), remaining: Number(remaining), reset: Date.parse(reset!) };
}

function expect429(
  r: Res,
  code: 'rate_limit_exceeded' | 'token_quota_exhausted' | 'daily_limit_reached',
  amounts = false,
): number {
  expect(r.status).toBe(429);
  expect(r.body).toEqual({ error: { message: expect.any(String), type: expect.any(String), param: null, code } });
  const retryAfter = r.headers.get('retry-after');
  expect(retryAfter).toMatch(/^\d+$/);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  const h = expectRateHeaders(r, amounts);
  expect(h.remaining).toBe(0);
  expect(h.reset).toBeGreaterThan(Date.now() - 1000);
  return Number(retryAfter);
}

/** Repeats `probe` every 100 ms until `done` holds; how long it took (ms), or Infinity after `maxMs`. */
async function timeUntil(
  probe: () => Promise<Res>,
  done: (r: Res) => boolean,
  maxMs = 12_000,
): Promise<{ ms: number; last: Res }> {
  const t = performance.now();
  let last = await probe();
  while (!done(last)) {
    if (performance.now() - t > maxMs) return { ms: Infinity, last };
    await sleep(100);
    last = await probe();
  }
  return { ms: performance.now() - t, last };
}

async function newKey(t: Tenant, settings: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
  const r = await t.agent.client.post<{ id: string; key: string }>(`/admin/api/workspaces/${t.workspace.id}/keys`, {
    name: 'extra',
    ...settings,
  });
  expect(r.status).toBe(201);
  return r.body;
}

/**
 * Tenants for one stack: one agent (admin sign-ins are throttled at 10 a minute per IP), then a fresh
 * funded workspace and key under it for each call.
 */
function tenantsOf(admin: AdminClient): (key?: Record<string, unknown>) => Promise<Tenant> {
  let agent: Tenant | undefined;
  return async (key = {}) => {
    if (!agent) return (agent = await createTenant(admin, { key }));
    const ws = await agent.agent.client.post<{ id: string }>('/admin/api/workspaces', { name: `ws ${Date.now()}` });
    expect(ws.status).toBe(201);
    expect(
      (await admin.post(`/admin/api/workspaces/${ws.body.id}/wallet/recharges`, { amount: '10.00', note: 'e2e' }))
        .status,
    ).toBe(201);
    const t = { ...agent, workspace: { id: ws.body.id } };
    const k = await newKey(t, key);
    return { ...t, key: k.key, keyId: k.id };
  };
}

async function metricValue(base: string, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('limits through /v1', () => {
  let stack: TestStack;
  let admin: AdminClient;
  let tenant: ReturnType<typeof tenantsOf>;
  let peer: Peer;

  beforeAll(async () => {
    stack = await startStack();
    admin = await AdminClient.login(stack.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    tenant = tenantsOf(admin);
    peer = await stack.startPeer();
  });
  afterAll(() => stack.close());

  it('refuses the 61st request within a minute on a default key with 429 rate_limit_exceeded', async () => {
    const t = await tenant();
    const burst = await Promise.all(Array.from({ length: 60 }, () => chat(stack.url, t.key)));
    expect(burst.map((r) => r.status)).toEqual(Array(60).fill(200));
    expect(burst.every((r) => r.headers.get('x-ratelimit-limit') === '60')).toBe(true);
    const upstreamBefore = stack.upstream.requests.at(-1)?.id;
    // however long the 60 took (well under a minute), no place comes back before they leave the window
    const last = await chat(stack.url, t.key);
    const retryAfter = expect429(last, 'rate_limit_exceeded');
    expect(retryAfter).toBeGreaterThan(50);
    expect(retryAfter).toBeLessThanOrEqual(61);
    expect(last.headers.get('x-ratelimit-limit')).toBe('60');
    expect(last.body.error.message).toMatch(/60 requests per minute/);
    // a refused request is not served: nothing reached the upstream for it, and the key stays refused
    expect(stack.upstream.requests.at(-1)?.id).toBe(upstreamBefore);
    expect((await chat(stack.url, t.key)).status).toBe(429);
  });

  it('sends X-RateLimit-Limit, a decreasing X-RateLimit-Remaining and a future ISO X-RateLimit-Reset on every limited response', async () => {
    const t = await tenant({ rpm: 10 });
    const responses: Res[] = [
      await chat(stack.url, t.key),
      await call(stack.url, '/v1/chat/completions', t.key, {
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 8,
        stream: true,
      }),
      await call(stack.url, '/v1/messages', t.key, {
        model: 'claude-haiku-4-5',
        max_tokens: 8,
        messages: [{ role: 'user', content: 'hi' }],
      }),
      await call(stack.url, '/v1/embeddings', t.key, { model: 'text-embedding-3-small', input: 'hi' }),
      await chat(peer.url, t.key),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const now = Date.now();
    const seen = responses.map((r) => expectRateHeaders(r));
    expect(seen.map((h) => h.limit)).toEqual([10, 10, 10, 10, 10]);
    // one place per request, whichever endpoint and process (6 s per place come back: none here)
    expect(seen.map((h) => h.remaining)).toEqual([9, 8, 7, 6, 5]);
    for (const h of seen) expect(h.reset).toBeGreaterThan(now);
    // full again a minute after the latest request
    expect(seen[4].reset).toBeGreaterThanOrEqual(seen[0].reset);
    for (const h of seen) expect(h.reset).toBeLessThanOrEqual(now + 62_000);
  });

  it('slides in real time: places come back a minute after the requests that used them, not at a minute boundary', async () => {
    const t = await tenant({ rpm: 4 });
    expect((await chat(stack.url, t.key)).status).toBe(200);
    expect((await chat(stack.url, t.key)).status).toBe(200);
    // both were counted before this instant: they leave the window within 61 s of it
    const t2 = performance.now();
    await sleep(3000);
    expect((await chat(stack.url, t.key)).status).toBe(200);
    expect((await chat(stack.url, t.key)).status).toBe(200);
    const refused = await chat(stack.url, t.key);
    const retryAfter = expect429(refused, 'rate_limit_exceeded');
    // the first two leave the window a minute (and at most a second) after they came
    expect(retryAfter).toBeGreaterThanOrEqual(55);
    expect(retryAfter).toBeLessThanOrEqual(59);
    await sleep(t2 + 61_300 - performance.now());
    // a fixed-minute window would have given all four back at a minute boundary, a token bucket one
    // every 15 s (four by now): a sliding window gives back exactly the two that left it
    const after = [await chat(stack.url, t.key), await chat(stack.url, t.key), await chat(stack.url, t.key)];
    expect(after.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(after[1].headers.get('x-ratelimit-remaining')).toBe('0');
  }, 90_000);

  it('two gateway processes sharing one Redis enforce one limit', async () => {
    const t = await tenant({ rpm: 10 });
    const byProcess = { main: 0, peer: 0 };
    const remaining: string[] = [];
    for (let i = 0; i < 20; i++) {
      const onPeer = i % 2 === 1;
      const r = await chat(onPeer ? peer.url : stack.url, t.key);
      if (r.status === 200) {
        byProcess[onPeer ? 'peer' : 'main']++;
        remaining.push(r.headers.get('x-ratelimit-remaining')!);
      } else {
        expect429(r, 'rate_limit_exceeded');
      }
    }
    // each process alone would let 10 through (20 in all)
    expect(byProcess.main + byProcess.peer).toBe(10);
    expect(byProcess).toEqual({ main: 5, peer: 5 });
    expect(remaining).toEqual(['9', '8', '7', '6', '5', '4', '3', '2', '1', '0']);
  });

  it('refuses a key past its tpm with 429 token_quota_exhausted, and only that key', async () => {
    const t = await tenant({ tpm: 40 });
    const other = await newKey(t);
    const first = await call(stack.url, '/v1/chat/completions', t.key, {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'count to fifty [[demo: tokens=50]]' }],
      max_tokens: 60,
    });
    expect(first.status).toBe(200);
    expect(first.body.usage.total_tokens).toBeGreaterThanOrEqual(40);
    // tokens are known after the response; they are added as the request settles
    const { ms, last } = await timeUntil(
      () => chat(stack.url, t.key),
      (r) => r.status !== 200,
      3000,
    );
    expect(ms).toBeLessThan(3000);
    const retryAfter = expect429(last, 'token_quota_exhausted');
    expect(retryAfter).toBeLessThanOrEqual(120);
    expect(last.body.error.message).toMatch(/40 tokens per minute/);
    expect(last.headers.get('x-ratelimit-limit')).toBe('40');
    // tpm is the key's own: another key of the workspace is served
    expect((await chat(stack.url, other.key)).status).toBe(200);
  });

  it('refuses the request past daily_requests with 429 daily_limit_reached until UTC midnight', async () => {
    const t = await tenant({ daily_requests: 3 });
    for (let i = 0; i < 3; i++) expect((await chat(i % 2 ? peer.url : stack.url, t.key)).status).toBe(200);
    const refused = await chat(stack.url, t.key);
    const retryAfter = expect429(refused, 'daily_limit_reached');
    const now = new Date();
    const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
    expect(Math.abs(Date.now() + retryAfter * 1000 - midnight)).toBeLessThan(5000);
    expect(refused.headers.get('x-ratelimit-limit')).toBe('3');
    expect(new Date(refused.headers.get('x-ratelimit-reset')!).getTime()).toBe(midnight);
    expect((await chat(peer.url, t.key)).status).toBe(429);
  });

  it('refuses with daily_limit_reached once the daily spend is used up', async () => {
    const t = await tenant({ daily_spend: '0.000001' });
    const first = await chat(stack.url, t.key);
    expect(first.status).toBe(200);
    expect(Number(first.headers.get('x-credits-used'))).toBeGreaterThan(0.000001);
    const { ms, last } = await timeUntil(
      () => chat(stack.url, t.key),
      (r) => r.status !== 200,
      3000,
    );
    expect(ms).toBeLessThan(3000);
    expect429(last, 'daily_limit_reached', true);
    expect(last.body.error.message).toMatch(/per day/);
    expect(Number(last.headers.get('x-ratelimit-limit'))).toBe(0.000001);
  });

  it("binds every key of a workspace to the workspace's caps", async () => {
    const t = await tenant();
    const second = await newKey(t);
    const ws = await t.agent.client.patch(`/admin/api/workspaces/${t.workspace.id}`, { rpm: 4, daily_requests: 100 });
    expect(ws.status).toBe(200);
    const statuses: number[] = [];
    const served: Res[] = [];
    let refused: Res | undefined;
    for (let i = 0; i < 8; i++) {
      const r = await chat(stack.url, i % 2 ? second.key : t.key);
      statuses.push(r.status);
      if (r.status === 200) served.push(r);
      else refused ??= r;
    }
    // each key has 60 of its own; together they get the workspace's 4
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429, 429, 429]);
    // and the headers say so while they are served: a client throttling on X-RateLimit-Remaining (seed
    // 003) must see the limit that binds, not its key's 60
    expect(served.map((r) => r.headers.get('x-ratelimit-limit'))).toEqual(['4', '4', '4', '4']);
    expect(served.map((r) => r.headers.get('x-ratelimit-remaining'))).toEqual(['3', '2', '1', '0']);
    expect429(refused!, 'rate_limit_exceeded');
    expect(refused!.headers.get('x-ratelimit-limit')).toBe('4');
    expect(refused!.body.error.message).toMatch(/workspace/);
    // another workspace is untouched
    const other = await tenant();
    expect((await chat(stack.url, other.key)).status).toBe(200);
  });

  it('applies limits changed through the admin API within seconds, on every process', async () => {
    const t = await tenant({ rpm: 2 });
    expect((await chat(stack.url, t.key)).status).toBe(200);
    expect((await chat(peer.url, t.key)).status).toBe(200);
    // both processes now hold the key's context in their caches (10 s TTL)
    expect((await chat(stack.url, t.key)).status).toBe(429);
    expect((await chat(peer.url, t.key)).status).toBe(429);

    // raise the key's rpm
    expect((await t.agent.client.patch(`/admin/api/keys/${t.keyId}`, { rpm: 1000 })).status).toBe(200);
    for (const base of [peer.url, stack.url]) {
      const raised = await timeUntil(
        () => chat(base, t.key),
        (r) => r.status === 200,
      );
      expect(raised.ms).toBeLessThan(3000);
      expect(raised.last.headers.get('x-ratelimit-limit')).toBe('1000');
    }

    // set a workspace cap: a fresh key's 1000 no longer matter (the first key still pays, at its new
    // rate, for the minute it used up at rpm 2)
    const fresh = await newKey(t, { rpm: 1000 });
    expect((await chat(stack.url, fresh.key)).status).toBe(200);
    expect((await chat(peer.url, fresh.key)).status).toBe(200);
    expect((await t.agent.client.patch(`/admin/api/workspaces/${t.workspace.id}`, { rpm: 3 })).status).toBe(200);
    const capped = await timeUntil(
      () => chat(peer.url, fresh.key),
      (r) => r.status === 429,
    );
    expect(capped.ms).toBeLessThan(3000);
    expect429(capped.last, 'rate_limit_exceeded');
    expect(capped.last.headers.get('x-ratelimit-limit')).toBe('3');
    expect(capped.last.body.error.message).toMatch(/workspace/);
    expect((await chat(stack.url, fresh.key)).status).toBe(429);

    // null removes the cap
    const patched = await t.agent.client.patch<{ rpm: unknown }>(`/admin/api/workspaces/${t.workspace.id}`, {
      rpm: null,
    });
    expect(patched.status).toBe(200);
    expect(patched.body.rpm).toBeNull();
    for (const base of [peer.url, stack.url]) {
      const freed = await timeUntil(
        () => chat(base, fresh.key),
        (r) => r.status === 200,
      );
      expect(freed.ms).toBeLessThan(3000);
    }

    // and a key cap removed with null falls back to the deployment default (60), not to no limit
    expect((await t.agent.client.patch(`/admin/api/keys/${t.keyId}`, { rpm: null })).status).toBe(200);
    const back = await timeUntil(
      () => chat(peer.url, t.key),
      (r) => r.headers.get('x-ratelimit-limit') === '60',
    );
    expect(back.ms).toBeLessThan(3000);
  });

  it('counts every authenticated /v1 request once against rpm, whatever the route, and even when it fails before admission', async () => {
    const t = await tenant({ rpm: 12, allowlist: ['gpt-4o-mini', 'claude-haiku-4-5', 'text-embedding-3-small'] });
    const hi = [{ role: 'user', content: 'hi' }];
    const steps: Array<[string, () => Promise<Res>, number]> = [
      ['models', () => call(stack.url, '/v1/models', t.key), 200],
      ['one model', () => call(stack.url, '/v1/models/gpt-4o-mini', t.key), 200],
      ['usage', () => call(stack.url, '/v1/usage', t.key), 200],
      ['credits', () => call(stack.url, '/v1/extras/credits', t.key), 200],
      [
        'count_tokens',
        () => call(stack.url, '/v1/messages/count_tokens', t.key, { model: 'claude-haiku-4-5', messages: hi }),
        200,
      ],
      ['chat', () => chat(stack.url, t.key), 200],
      ['chat without messages', () => call(stack.url, '/v1/chat/completions', t.key, { model: 'gpt-4o-mini' }), 400],
      [
        'chat, model not allowed',
        () => call(stack.url, '/v1/chat/completions', t.key, { model: 'gpt-4o', messages: hi }),
        403,
      ],
      ['models again', () => call(stack.url, '/v1/models', t.key), 200],
      [
        'messages',
        () => call(stack.url, '/v1/messages', t.key, { model: 'claude-haiku-4-5', max_tokens: 8, messages: hi }),
        200,
      ],
      [
        'embeddings',
        () => call(stack.url, '/v1/embeddings', t.key, { model: 'text-embedding-3-small', input: 'hi' }),
        200,
      ],
      ['unknown model', () => call(stack.url, '/v1/models/no-such-model', t.key), 400],
    ];
    const remaining: Record<string, string | null> = {};
    for (const [name, send, status] of steps) {
      const r = await send();
      expect([name, r.status]).toEqual([name, status]);
      remaining[name] = r.headers.get('x-ratelimit-remaining');
    }
    // routes that do not admit are checked by the guard, and say so in their headers (error or not)
    expect(remaining).toMatchObject({
      models: '11',
      'one model': '10',
      usage: '9',
      credits: '8',
      count_tokens: '7',
      chat: '6',
      // the 400 and the 403 counted once each, after their response
      'models again': '3',
      messages: '2',
      embeddings: '1',
      'unknown model': '0',
    });
    const refused = await call(stack.url, '/v1/models', t.key);
    expect429(refused, 'rate_limit_exceeded');
    expect429(await chat(stack.url, t.key), 'rate_limit_exceeded');
  });

  it('a request refused for funds (402) carries the rate headers and gives back the tokens it reserved', async () => {
    const t = await createTenant(admin, { credit: '0', key: { rpm: 50, tpm: 1000 } });
    const big = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 900 };
    const refused: Res[] = [];
    for (let i = 0; i < 3; i++) refused.push(await call(stack.url, '/v1/chat/completions', t.key, big));
    // each reserved ~900 tokens of the key's 1000 per minute at its check: kept, the 2nd or 3rd would be 429
    for (const r of refused) {
      expect(r.status).toBe(402);
      expect(r.body.error.code).toBe('insufficient_balance');
      const h = expectRateHeaders(r);
      expect(h.limit).toBe(50);
    }
    // the rpm places stay used (a client without funds must not hammer for free)
    expect(refused.map((r) => r.headers.get('x-ratelimit-remaining'))).toEqual(['49', '48', '47']);
    expect(
      (await admin.post(`/admin/api/workspaces/${t.workspace.id}/wallet/recharges`, { amount: '5.00', note: 'e2e' }))
        .status,
    ).toBe(201);
    expect((await call(stack.url, '/v1/chat/completions', t.key, big)).status).toBe(200);
  });

  it("workspace tpm, daily requests and daily spend set through the admin API bind the workspace's keys, and null removes them within seconds", async () => {
    const t = await tenant();
    const second = await newKey(t);
    const ws = `/admin/api/workspaces/${t.workspace.id}`;
    const patch = async (body: Record<string, unknown>) => {
      const r = await t.agent.client.patch<Record<string, unknown>>(ws, body);
      expect(r.status).toBe(200);
      return r.body;
    };
    const refusedWithin = (key: string, code: Parameters<typeof expect429>[1]) =>
      timeUntil(
        () => chat(stack.url, key),
        (r) => r.status === 429 && r.body?.error?.code === code,
        4000,
      );
    const servedWithin = (key: string) =>
      timeUntil(
        () => chat(stack.url, key),
        (r) => r.status === 200,
        4000,
      );

    // tokens per minute: one request of the first key fills it for both
    expect(await patch({ tpm: 30 })).toMatchObject({ tpm: 30 });
    const tpmHit = await refusedWithin(t.key, 'token_quota_exhausted');
    expect(tpmHit.ms).toBeLessThan(4000);
    expect429(tpmHit.last, 'token_quota_exhausted');
    expect(tpmHit.last.headers.get('x-ratelimit-limit')).toBe('30');
    expect(tpmHit.last.body.error.message).toMatch(/workspace allows 30 tokens per minute/);
    expect429(await chat(stack.url, second.key), 'token_quota_exhausted');
    expect(await patch({ tpm: null })).toMatchObject({ tpm: null });
    expect((await servedWithin(second.key)).ms).toBeLessThan(4000);

    // daily requests: counted from when the cap is set, so two more today
    expect(await patch({ daily_requests: 2 })).toMatchObject({ daily_requests: 2 });
    const dayHit = await refusedWithin(second.key, 'daily_limit_reached');
    expect(dayHit.ms).toBeLessThan(4000);
    expect429(dayHit.last, 'daily_limit_reached');
    expect(dayHit.last.headers.get('x-ratelimit-limit')).toBe('2');
    const now = new Date();
    const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
    expect(Date.parse(dayHit.last.headers.get('x-ratelimit-reset')!)).toBe(midnight);
    expect429(await chat(stack.url, t.key), 'daily_limit_reached');
    await patch({ daily_requests: null });
    expect((await servedWithin(t.key)).ms).toBeLessThan(4000);

    // daily spend: a millionth of a unit is spent by the first request
    await patch({ daily_spend: '0.000001' });
    const spendHit = await refusedWithin(t.key, 'daily_limit_reached');
    expect(spendHit.ms).toBeLessThan(4000);
    expect429(spendHit.last, 'daily_limit_reached', true);
    expect(Number(spendHit.last.headers.get('x-ratelimit-limit'))).toBe(0.000001);
    expect(spendHit.last.body.error.message).toMatch(/workspace may spend/);
    expect429(await chat(stack.url, second.key), 'daily_limit_reached', true);
    await patch({ daily_spend: null });
    expect((await servedWithin(second.key)).ms).toBeLessThan(4000);
  });
});

describe('per-IP safety net', () => {
  let stack: TestStack;
  let admin: AdminClient;
  let tenant: ReturnType<typeof tenantsOf>;
  let trusting: Peer;
  let t: Tenant;
  const badKey = 'sk-sy-' + 'x'.repeat(40);

  beforeAll(async () => {
    stack = await startStack({ env: { IP_RATE_LIMIT: '20', IP_RATE_WINDOW_SECONDS: '600' } });
    // the same deployment (Redis prefix) behind a trusted proxy on 127.0.0.1
    trusting = await stack.startPeer({ TRUSTED_PROXIES: '127.0.0.1' });
    admin = await AdminClient.login(stack.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    tenant = tenantsOf(admin);
    t = await tenant({ rpm: 1000, allowlist: ['gpt-4o-mini'] });
  });
  afterAll(() => stack.close());

  it('refuses the 21st request from one IP, counting 401s and every keyed route, and ignores X-Forwarded-For from an untrusted peer', async () => {
    const statuses: number[] = [];
    const hi = [{ role: 'user', content: 'hi' }];
    for (let i = 0; i < 20; i++) {
      // a client forging a fresh X-Forwarded-For each time gains nothing
      const xff = { 'x-forwarded-for': `198.51.100.${i + 1}` };
      let r: Res;
      if (i < 10) r = await chat(stack.url, badKey, 'hi', xff);
      else if (i < 14) r = await chat(stack.url, t.key, 'hi', xff);
      else if (i < 16) r = await call(stack.url, '/v1/chat/completions', t.key, { model: 'gpt-4o-mini' }, xff);
      else if (i < 18) r = await call(stack.url, '/v1/models', t.key, undefined, xff);
      else r = await call(stack.url, '/v1/chat/completions', t.key, { model: 'gpt-4o', messages: hi }, xff);
      statuses.push(r.status);
    }
    // a valid key's 400 and 403 (failing before admission) and GET /v1/models count too
    expect(statuses).toEqual([...Array(10).fill(401), 200, 200, 200, 200, 400, 400, 200, 200, 403, 403]);
    const refused = await chat(stack.url, t.key, 'hi', { 'x-forwarded-for': '198.51.100.99' });
    expect429(refused, 'rate_limit_exceeded');
    expect(refused.body.error.message).toMatch(/IP address/);
    expect(refused.headers.get('x-ratelimit-limit')).toBe('20');
    // a sliding window of 600 s: the first of the 20 leaves it about 10 minutes after it came
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(580);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(610);
    // a bad key, or any route, from the same IP now meets 429 rather than 401
    expect429(await chat(stack.url, badKey), 'rate_limit_exceeded');
    expect429(await call(stack.url, '/v1/models', t.key), 'rate_limit_exceeded');
    // the net is shared by the processes of the deployment (the peer sees the same IP, 127.0.0.1, when nothing is forwarded)
    expect((await chat(trusting.url, t.key)).status).toBe(429);
  });

  it('gives each forwarded client its own budget when TRUSTED_PROXIES includes the proxy', async () => {
    // 127.0.0.1 itself is spent (previous test); forwarded clients are not
    const a = { 'x-forwarded-for': '203.0.113.10' };
    const b = { 'x-forwarded-for': '203.0.113.11' };
    const c = { 'x-forwarded-for': '203.0.113.12' };
    const aStatuses: number[] = [];
    for (let i = 0; i < 20; i++) aStatuses.push((await chat(trusting.url, t.key, 'hi', a)).status);
    expect(aStatuses).toEqual(Array(20).fill(200));
    const aRefused = await chat(trusting.url, t.key, 'hi', a);
    expect429(aRefused, 'rate_limit_exceeded');
    expect(aRefused.body.error.message).toMatch(/IP address/);

    // a client sending bad keys: 20 × 401, then 429
    const bStatuses: number[] = [];
    for (let i = 0; i < 20; i++) bStatuses.push((await chat(trusting.url, badKey, 'hi', b)).status);
    expect(bStatuses).toEqual(Array(20).fill(401));
    expect429(await chat(trusting.url, badKey, 'hi', b), 'rate_limit_exceeded');
    expect((await chat(trusting.url, t.key, 'hi', b)).status).toBe(429);

    // a third client is untouched by both
    expect((await chat(trusting.url, t.key, 'hi', c)).status).toBe(200);
  });

  // last in this stack: it blocks sign-ins from 127.0.0.1 for a minute
  it('an admin login flood gets 429 rate_limit_exceeded in the admin envelope, with the contract headers', async () => {
    const attempts: Res[] = [];
    let r: Res;
    do {
      r = await call(stack.url, '/admin/api/auth/login', '', { email: ADMIN_EMAIL, password: 'not-the-password' });
      attempts.push(r);
    } while (r.status === 401 && attempts.length < 12);
    // 10 attempts a minute per address (two sign-ins of this stack were already counted)
    expect(attempts.length).toBeLessThanOrEqual(11);
    expect(attempts.slice(0, -1).every((a) => a.status === 401)).toBe(true);
    // a counted attempt says how many are left and when the window resets, as a time
    const counted = expectRateHeaders(attempts[0]);
    expect(counted.limit).toBe(10);
    expect(counted.reset).toBeGreaterThan(Date.now() + 30_000);
    expect(counted.reset).toBeLessThanOrEqual(Date.now() + 61_000);
    expect(r.body).toEqual({
      error: {
        message: expect.stringMatching(/Too many requests/),
        type: expect.any(String),
        param: null,
        code: 'rate_limit_exceeded',
      },
    });
    expect429(r, 'rate_limit_exceeded');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(50);
    expect(r.headers.get('x-ratelimit-limit')).toBe('10');
    // the right password is refused as well while the address is blocked
    expect(
      (await call(stack.url, '/admin/api/auth/login', '', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })).status,
    ).toBe(429);
  });
});

describe('when Redis becomes unreachable (LIMITS_ON_REDIS_FAILURE)', () => {
  let stack: TestStack;
  let admin: AdminClient;
  let tenant: ReturnType<typeof tenantsOf>;
  const proxies: TcpProxy[] = [];

  /** A gateway process of this deployment whose every Redis connection goes through a proxy it can lose. */
  async function peerBehindProxy(policy: 'open' | 'closed'): Promise<{ peer: Peer; proxy: TcpProxy }> {
    const real = new URL(stack.app.config.redisUrl);
    const proxy = new TcpProxy(real.hostname, Number(real.port || 6379));
    await proxy.start();
    proxies.push(proxy);
    const via = new URL(real.href);
    via.hostname = '127.0.0.1';
    via.port = String(proxy.port);
    const peer = await stack.startPeer({ REDIS_URL: via.href, LIMITS_ON_REDIS_FAILURE: policy });
    return { peer, proxy };
  }

  beforeAll(async () => {
    // gateway and admin only: the limiter is the gateway's; BullMQ's Worker.close() never resolves when
    // called while its connection is still reconnecting (taskforcesh/bullmq#4656), which would hang the
    // peers' shutdown right after the outage
    stack = await startStack({ apps: ['gateway', 'admin'] });
    admin = await AdminClient.login(stack.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    tenant = tenantsOf(admin);
  });
  afterAll(async () => {
    for (const p of proxies) p.restore();
    await stack.close();
    for (const p of proxies) await p.close();
  });

  it("'open' serves without limits while Redis is away and counts the failures in /metrics", async () => {
    const { peer, proxy } = await peerBehindProxy('open');
    const t = await tenant({ rpm: 2 });
    // through the proxy, limits work: 2 allowed, then 429
    expect((await chat(peer.url, t.key)).status).toBe(200);
    expect((await chat(peer.url, t.key)).status).toBe(200);
    expect((await chat(peer.url, t.key)).status).toBe(429);
    const before = await metricValue(peer.url, 'limits_redis_failures_total', 'policy="open"');

    proxy.cut();
    const served: Res[] = [];
    for (let i = 0; i < 4; i++) served.push(await chat(peer.url, t.key));
    // served, fast, without limit headers (nothing could be counted)
    expect(served.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(served.every((r) => r.headers.get('x-ratelimit-limit') === null)).toBe(true);
    expect(Math.max(...served.map((r) => r.ms))).toBeLessThan(1500);
    const after = await metricValue(peer.url, 'limits_redis_failures_total', 'policy="open"');
    expect(after - before).toBeGreaterThanOrEqual(4);
    expect(await metricValue(peer.url, 'limits_redis_failures_total', 'policy="closed"')).toBe(0);
    // the process that still reaches Redis keeps limiting the same key
    expect((await chat(stack.url, t.key)).status).toBe(429);

    // Redis back: limited again, without a restart
    proxy.restore();
    const limited = await timeUntil(
      () => chat(peer.url, t.key),
      (r) => r.status === 429,
      8000,
    );
    expect(limited.ms).toBeLessThan(8000);
  });

  it("'closed' answers 503 service_unavailable with Retry-After while Redis is away", async () => {
    const { peer, proxy } = await peerBehindProxy('closed');
    const t = await tenant();
    expect((await chat(peer.url, t.key)).status).toBe(200);

    proxy.cut();
    const r = await chat(peer.url, t.key);
    expect(r.status).toBe(503);
    expect(r.body).toEqual({
      error: { message: expect.any(String), type: expect.any(String), param: null, code: 'service_unavailable' },
    });
    expect(r.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(r.ms).toBeLessThan(1500);
    // every limited endpoint, the Anthropic surface included
    const m = await call(peer.url, '/v1/messages', t.key, {
      model: 'claude-haiku-4-5',
      max_tokens: 8,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(m.status).toBe(503);
    expect(m.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(await metricValue(peer.url, 'limits_redis_failures_total', 'policy="closed"')).toBeGreaterThanOrEqual(2);
    // no money moved for refused requests: once the first request's wallet lease is released (idle),
    // the wallet holds nothing
    let held = '';
    for (let i = 0; i < 30 && held !== '0.00'; i++) {
      if (i) await sleep(100);
      held = (await admin.get<{ held: string }>(`/admin/api/workspaces/${t.workspace.id}/wallet`)).body.held;
    }
    expect(held).toBe('0.00');

    proxy.restore();
    const back = await timeUntil(
      () => chat(peer.url, t.key),
      (x) => x.status === 200,
      8000,
    );
    expect(back.ms).toBeLessThan(8000);
    expect(back.last.headers.get('x-ratelimit-limit')).toBe('60');
  });
});
