// When Postgres or Redis goes away under a running process (DESIGN.md "When a dependency fails"):
// requests that need Postgres answer 503 service_unavailable with Retry-After (never 500), /readyz
// answers 503 naming the missing dependency, the operator is told in the log (once, not per request),
// and everything is back without a restart once the dependency is. A TCP proxy between one Switchyard
// process and the real service is cut and restored.
import { AdminClient, createTenant, Tenant } from './helpers/admin-client';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, TestStack } from './helpers/test-stack';
import { TcpProxy } from '../helpers/tcp-proxy';

interface Res {
  status: number;
  headers: Headers;
  body: any;
  ms: number;
}

async function call(url: string, init: RequestInit = {}): Promise<Res> {
  const t = performance.now();
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: assertions below say so
  }
  return { status: res.status, headers: res.headers, body, ms: performance.now() - t };
}

async function until(check: () => Promise<boolean>, ms: number): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function expect503(r: Res): void {
  expect({ status: r.status, body: r.body, retryAfter: r.headers.get('retry-after') }).toEqual({
    status: 503,
    body: {
      error: { message: expect.any(String), type: 'service_unavailable', param: null, code: 'service_unavailable' },
    },
    retryAfter: expect.stringMatching(/^[1-9]\d*$/),
  });
}

describe('when Postgres or Redis goes away', () => {
  let stack: TestStack;
  let admin: AdminClient;
  let t: Tenant;
  let pg: TcpProxy;
  let redis: TcpProxy;
  let peer: Awaited<ReturnType<TestStack['startPeer']>>;
  const chat = (key: string) =>
    call(`${peer.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 }),
    });
  const readyz = () => call(`${peer.url}/readyz`);

  beforeAll(async () => {
    // gateway and admin: BullMQ's worker does not close while its connection is reconnecting
    // (taskforcesh/bullmq#4656), which would hold the peer's shutdown after a Redis outage
    stack = await startStack({ apps: ['gateway', 'admin'] });
    admin = await AdminClient.login(stack.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    t = await createTenant(admin);
    pg = await TcpProxy.for(stack.app.config.databaseUrl).start();
    redis = await TcpProxy.for(stack.app.config.redisUrl).start();
    // one process of the deployment reaches both services only through the proxies
    peer = await stack.startPeer({
      DATABASE_URL: pg.via(stack.app.config.databaseUrl),
      REDIS_URL: redis.via(stack.app.config.redisUrl),
    });
    expect((await readyz()).status).toBe(200);
  });
  afterAll(async () => {
    pg.restore();
    redis.restore();
    await stack.close();
    await pg.close();
    await redis.close();
  });

  it('Postgres away: a cold key on /v1 and the admin API answer 503 with Retry-After, /readyz says postgres', async () => {
    const cold = await t.agent.client.post<{ key: string }>(`/admin/api/workspaces/${t.workspace.id}/keys`, {
      name: 'cold',
    });
    const logsBefore = stack.logs.length;
    pg.cut();
    try {
      const v1 = await chat(cold.body.key);
      expect503(v1);
      expect(v1.ms).toBeLessThan(6000); // the pool's connect timeout (5 s) at worst
      expect503(await chat(cold.body.key));
      const adm = await call(`${peer.url}/admin/api/workspaces`, {
        headers: { authorization: `Bearer ${admin.token}` },
      });
      expect503(adm);
      const r = await readyz();
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ status: 'unavailable', checks: { postgres: 'unreachable', redis: 'ok' } });
      expect(r.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      // the operator hears of it once, without SQL or parameters; requests are not logged as bugs
      const lines = stack.logs.slice(logsBefore).filter((l) => l.includes('a dependency is unreachable'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).not.toMatch(/"query"|"parameters"|driverError|SELECT/);
      expect(stack.logs.slice(logsBefore).some((l) => l.includes('unhandled error'))).toBe(false);
    } finally {
      pg.restore();
    }
    // back without a restart
    await until(async () => (await readyz()).status === 200, 10_000);
    expect((await chat(cold.body.key)).status).toBe(200);
    expect(
      (await call(`${peer.url}/admin/api/workspaces`, { headers: { authorization: `Bearer ${admin.token}` } })).status,
    ).toBe(200);
  }, 30_000);

  it('Redis away: /readyz answers 503 naming redis, and 200 again once it is back', async () => {
    redis.cut();
    try {
      const r = await readyz();
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ status: 'unavailable', checks: { postgres: 'ok', redis: 'unreachable' } });
      expect(r.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      expect(r.ms).toBeLessThan(3000);
    } finally {
      redis.restore();
    }
    await until(async () => (await readyz()).status === 200, 10_000);
  }, 30_000);
});
