// Limits on a real Redis Cluster (three nodes started for this file): every script call keeps its keys
// in one slot, the per-IP script goes to its own slot's node next to the check, and nothing fails open.
import Redis, { Cluster } from 'ioredis';
import { GatewayError } from '@switchyard/core';
import { attempt, counterValue, keyContext, LimitsHarness, limitsHarness, sleep } from './limits-harness';
import { startRedisCluster, TestCluster } from './redis-cluster';

describe('limits on a Redis Cluster (REDIS_CLUSTER=true)', () => {
  let cluster: TestCluster;
  let h: LimitsHarness;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    h = await limitsHarness({
      env: { REDIS_URL: cluster.url, REDIS_CLUSTER: 'true', IP_RATE_LIMIT: '20', IP_RATE_WINDOW_SECONDS: '60' },
    });
  }, 30_000);
  afterAll(async () => {
    // the harness's SCAN would see one node only: flush what this file wrote on each node
    if (h) {
      const c = h.conn.client as Cluster;
      await Promise.all(c.nodes('master').map((n) => deletePrefix(n, h.prefix)));
      await h.conn.onApplicationShutdown();
      h.redis.onApplicationShutdown();
    }
    await cluster?.stop();
  });

  it('is a cluster client, and the key and IP counters of one request live on different nodes', async () => {
    const c = h.conn.client as Cluster;
    expect(c.isCluster).toBe(true);
    const slot = async (k: string) => Number(await c.cluster('KEYSLOT', k));
    const ws = await slot(`${h.prefix}lim:{w:w-c1}`);
    expect(await slot(`${h.prefix}lim:{w:w-c1}:k:k-c1`)).toBe(ws);
    expect(await slot(`${h.prefix}lim:{ip:192.0.2.1}`)).not.toBe(ws);
    // which is why they cannot share one pipeline: ioredis refuses it outright
    const p = c.pipeline().get(`${h.prefix}lim:{w:w-c1}`).get(`${h.prefix}lim:{ip:192.0.2.1}`);
    await expect(p.exec()).rejects.toThrow(/same slot/);
  });

  it('checks rpm and the per-IP net on every request, and refuses past either', async () => {
    const key = keyContext({ keyId: 'k-c2', workspaceId: 'w-c2' }, { rpm: 10 });
    const results = [];
    for (let i = 0; i < 12; i++) results.push(await attempt(h.service.check(key, '192.0.2.2')));
    expect(results.map((r) => r.ok)).toEqual([...Array(10).fill(true), false, false]);
    expect((results[10].error as GatewayError).code).toBe('rate_limit_exceeded');
    expect(results[10].headers['X-RateLimit-Limit']).toBe('10');
    expect(results[9].headers['X-RateLimit-Remaining']).toBe('0');

    // the IP counted each of the 12 (20 per minute): 8 left, then the net refuses another key
    const other = keyContext({ keyId: 'k-c3', workspaceId: 'w-c3' }, { rpm: 100 });
    for (let i = 0; i < 8; i++) expect((await attempt(h.service.check(other, '192.0.2.2'))).ok).toBe(true);
    const net = await attempt(h.service.check(other, '192.0.2.2'));
    expect((net.error as GatewayError).message).toMatch(/IP address/);
    await sleep(50); // the give-back of what the refused request's check took is fire-and-forget
    expect((await h.conn.client.hget(`${h.prefix}lim:{w:w-c3}:k:k-c3`, 'rn')) ?? '').toBe('8');
    expect((await attempt(h.service.checkIpOnly('192.0.2.2'))).ok).toBe(false);
    // nothing was skipped by failing open
    expect(await counterValue(h.metrics, 'open')).toBe(0);
  });

  it('reserves and corrects tokens and spend in the two hashes of a workspace slot', async () => {
    const key = keyContext({ keyId: 'k-c4', workspaceId: 'w-c4' }, { tpm: 1000 }, { daily_spend: 1_000_000n });
    const d = await h.service.check(key, '192.0.2.4', { admission: { tokens: 900, spend: 600_000n } });
    expect((await attempt(h.service.check(key, '192.0.2.4', { admission: { tokens: 200, spend: 1n } }))).ok).toBe(true);
    expect(
      (
        (await attempt(h.service.check(key, '192.0.2.4', { admission: { tokens: 1, spend: 1n } })))
          .error as GatewayError
      ).code,
    ).toBe('token_quota_exhausted');
    await h.service.record(key, { tokens: 20, spend: 5_000n }, d.reservation);
    expect(await h.conn.client.hget(`${h.prefix}lim:{w:w-c4}:k:k-c4`, 'tc')).toBe('220');
    expect(await h.conn.client.hget(`${h.prefix}lim:{w:w-c4}`, 'ds')).toBe('5001');
    expect(await counterValue(h.metrics, 'open')).toBe(0);
  });

  it('the admin login throttler storage works there too', async () => {
    const r = await h.throttler.increment('login-cluster', 60_000, 2, 1_000, 'default');
    expect(r).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('cache invalidations (core RedisService pub/sub) reach subscribers through the cluster', async () => {
    const got: string[] = [];
    await h.redis.subscribe('cluster-test', (m) => got.push(m));
    await h.redis.publish('cluster-test', 'hello');
    for (let i = 0; i < 20 && !got.length; i++) await sleep(50);
    expect(got).toEqual(['hello']);
  });
});

async function deletePrefix(node: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    // one slot at a time: UNLINK of several keys must not cross slots
    for (const k of keys) await node.unlink(k);
    cursor = next;
  } while (cursor !== '0');
}
