// Rate limits and quotas as a client meets them through /v1 (DESIGN.md "Errors", seeds 003 and 004):
// the key's rpm (GCRA: a burst of `limit`, then one request per interval), the X-RateLimit-* headers,
// one limit across gateway processes, tpm, daily caps, workspace caps, admin changes applied within
// seconds, the per-IP safety net (X-Forwarded-For only from trusted proxies) and the
// LIMITS_ON_REDIS_FAILURE policy when Redis goes away at run time.
// Only chat completions, messages and embeddings are limited (GET /v1/models is not), so the requests
// here are small chat completions.
import { createServer, Server, Socket } from 'node:net';
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
      authorization: `Bearer ${key}`,
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
    // the default is 60 per minute as a GCRA bucket: 60 at once, then one more place per second. So the
    // 61st request is refused when the 61 arrive within a second; on a slow machine one more place per
    // second elapsed may be used, never more.
    const started = performance.now();
    const burst = await Promise.all(Array.from({ length: 60 }, () => chat(stack.url, t.key)));
    expect(burst.map((r) => r.status)).toEqual(Array(60).fill(200));
    expect(burst.every((r) => r.headers.get('x-ratelimit-limit') === '60')).toBe(true);
    let allowed = 60;
    let upstreamBefore = stack.upstream.requests.at(-1)?.id;
    let last = await chat(stack.url, t.key);
    while (last.status === 200 && allowed < 70) {
      allowed++;
      upstreamBefore = stack.upstream.requests.at(-1)?.id;
      last = await chat(stack.url, t.key);
    }
    const elapsed = performance.now() - started;
    expect(allowed).toBeLessThanOrEqual(60 + Math.floor(elapsed / 1000));
    if (elapsed < 1000) expect(allowed).toBe(60);
    const retryAfter = expect429(last, 'rate_limit_exceeded');
    expect(retryAfter).toBe(1);
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
    // the reset moves out as the bucket fills
    expect(seen[4].reset).toBeGreaterThan(seen[0].reset);
  });

  it('slides: with rpm 120 one place comes back every 0.5 s after the bucket is empty', async () => {
    const t = await tenant({ rpm: 120 });
    // fill the bucket, however long that takes: a fixed-minute window would then refuse until the minute ends
    let allowed = 0;
    const started = performance.now();
    let refused: Res | undefined;
    while (!refused) {
      const batch = await Promise.all(Array.from({ length: 20 }, () => chat(stack.url, t.key)));
      allowed += batch.filter((r) => r.status === 200).length;
      refused = batch.find((r) => r.status === 429);
      expect(allowed).toBeLessThan(200);
    }
    const elapsedS = (performance.now() - started) / 1000;
    expect(allowed).toBeGreaterThanOrEqual(120);
    expect(allowed).toBeLessThanOrEqual(120 + Math.ceil(elapsedS / 0.5) + 1);
    expect(expect429(refused, 'rate_limit_exceeded')).toBe(1);
    // from an empty bucket, places come back one per 0.5 s: after w ms at least floor(w / 500) more pass,
    // and never more than the time elapsed since the bucket was last found empty allows
    let emptySince = performance.now();
    while ((await chat(stack.url, t.key)).status === 200) emptySince = performance.now();
    for (const wait of [520, 1600]) {
      await sleep(wait);
      let passed = 0;
      let sentAt = performance.now();
      let r = await chat(stack.url, t.key);
      while (r.status === 200 && passed < 20) {
        passed++;
        sentAt = performance.now();
        r = await chat(stack.url, t.key);
      }
      expect(passed).toBeGreaterThanOrEqual(Math.floor(wait / 500));
      expect(passed).toBeLessThanOrEqual(Math.floor((performance.now() - emptySince) / 500) + 1);
      expect(expect429(r, 'rate_limit_exceeded')).toBe(1);
      emptySince = sentAt;
    }
  });

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
    t = await tenant({ rpm: 1000 });
  });
  afterAll(() => stack.close());

  it('refuses the 21st request from one IP, counting 401s, and ignores X-Forwarded-For from an untrusted peer', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      // a client forging a fresh X-Forwarded-For each time gains nothing
      const xff = { 'x-forwarded-for': `198.51.100.${i + 1}` };
      const r = i < 10 ? await chat(stack.url, badKey, 'hi', xff) : await chat(stack.url, t.key, 'hi', xff);
      statuses.push(r.status);
    }
    expect(statuses).toEqual([...Array(10).fill(401), ...Array(10).fill(200)]);
    const refused = await chat(stack.url, t.key, 'hi', { 'x-forwarded-for': '198.51.100.99' });
    expect429(refused, 'rate_limit_exceeded');
    expect(refused.body.error.message).toMatch(/IP address/);
    expect(refused.headers.get('x-ratelimit-limit')).toBe('20');
    // 600 s / 20 = one place every 30 s
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(20);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(30);
    // a bad key from the same IP now meets 429 rather than 401
    const flood = await chat(stack.url, badKey);
    expect429(flood, 'rate_limit_exceeded');
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
});

/**
 * A TCP proxy in front of the real Redis, so that a gateway process can lose Redis at run time: `stop()`
 * drops every connection and refuses new ones at once; `resume()` lets them through again.
 */
class RedisProxy {
  private server!: Server;
  private readonly sockets = new Set<Socket>();
  private stopped = false;
  port = 0;

  constructor(
    private readonly host: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      if (this.stopped) return client.destroy();
      const upstream = new Socket();
      upstream.connect(this.targetPort, this.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => {
          this.sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.sockets) s.destroy();
  }

  resume(): void {
    this.stopped = false;
  }

  async close(): Promise<void> {
    this.stop();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('when Redis becomes unreachable (LIMITS_ON_REDIS_FAILURE)', () => {
  let stack: TestStack;
  let admin: AdminClient;
  let tenant: ReturnType<typeof tenantsOf>;
  const proxies: RedisProxy[] = [];

  /** A gateway process of this deployment whose every Redis connection goes through a proxy it can lose. */
  async function peerBehindProxy(policy: 'open' | 'closed'): Promise<{ peer: Peer; proxy: RedisProxy }> {
    const real = new URL(stack.app.config.redisUrl);
    const proxy = new RedisProxy(real.hostname, Number(real.port || 6379));
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
    for (const p of proxies) p.resume();
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

    proxy.stop();
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
    proxy.resume();
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

    proxy.stop();
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

    proxy.resume();
    const back = await timeUntil(
      () => chat(peer.url, t.key),
      (x) => x.status === 200,
      8000,
    );
    expect(back.ms).toBeLessThan(8000);
    expect(back.last.headers.get('x-ratelimit-limit')).toBe('60');
  });
});
