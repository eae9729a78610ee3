// Requests per minute of keys and workspaces (GCRA in Redis), across gateway processes.
import { GatewayError } from '@switchyard/core';
import { attempt, counterValue, keyContext, LimitsHarness, limitsHarness, sleep } from './limits-harness';

describe('LimitsService rpm', () => {
  let h: LimitsHarness;
  beforeAll(async () => {
    h = await limitsHarness({ env: { IP_RATE_LIMIT: '0' } });
  });
  afterAll(() => h.close());

  it('allows 60 requests a minute by default, refuses the 61st with 429 and headers, and gives one back per second', async () => {
    const key = keyContext({ keyId: 'k-60', workspaceId: 'w-60' });
    const before = Date.now();
    const first = await h.service.check(key, '10.0.0.1');
    expect(first.headers['X-RateLimit-Limit']).toBe('60');
    expect(first.headers['X-RateLimit-Remaining']).toBe('59');
    const reset = Date.parse(first.headers['X-RateLimit-Reset']);
    expect(first.headers['X-RateLimit-Reset']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(reset).toBeGreaterThanOrEqual(before + 1000);
    expect(reset).toBeLessThanOrEqual(Date.now() + 2000);
    for (let i = 2; i <= 60; i++) {
      const d = await h.service.check(key, '10.0.0.1');
      expect(d.headers['X-RateLimit-Remaining']).toBe(String(60 - i));
    }
    const refused = await attempt(h.service.check(key, '10.0.0.1'));
    expect(refused.ok).toBe(false);
    const err = refused.error as GatewayError;
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.status).toBe(429);
    expect(err.code).toBe('rate_limit_exceeded');
    expect(refused.headers).toMatchObject({
      'X-RateLimit-Limit': '60',
      'X-RateLimit-Remaining': '0',
      'Retry-After': '1',
    });
    // full again about a minute after the burst started
    const fullAt = Date.parse(refused.headers['X-RateLimit-Reset']);
    expect(fullAt - before).toBeGreaterThanOrEqual(59_000);
    expect(fullAt - before).toBeLessThanOrEqual(62_000);

    await sleep(1000 * Number(refused.headers['Retry-After']));
    const again = await h.service.check(key, '10.0.0.1');
    expect(again.headers['X-RateLimit-Remaining']).toBe('0');
    expect((await attempt(h.service.check(key, '10.0.0.1'))).ok).toBe(false);
  });

  it('honours a key rpm of its own ("up to thousands")', async () => {
    const key = keyContext({ keyId: 'k-5000', workspaceId: 'w-5000' }, { rpm: 5000 });
    const start = Date.now();
    const results = [];
    for (let batch = 0; batch < 10; batch++) {
      results.push(
        ...(await Promise.all(Array.from({ length: 500 }, () => attempt(h.service.check(key, '10.0.0.2'))))),
      );
    }
    expect(results.filter((r) => r.ok)).toHaveLength(5000);
    expect(await counterValue(h.metrics, 'open')).toBe(0); // all were really checked, none failed open
    expect(results[0].headers['X-RateLimit-Limit']).toBe('5000');
    // past the burst, only what came back meanwhile (one per 12 ms) is allowed, then a refusal
    let extra = 0;
    while ((await attempt(h.service.check(key, '10.0.0.2'))).ok && extra < 5000) extra++;
    expect(extra).toBeLessThanOrEqual(Math.ceil((Date.now() - start) / 12) + 1);
  });

  it('two gateway processes (separate connections) enforce one limit under concurrency', async () => {
    const other = await limitsHarness({ prefix: h.prefix, env: { IP_RATE_LIMIT: '0' } });
    try {
      const key = keyContext({ keyId: 'k-shared', workspaceId: 'w-shared' }, { rpm: 50 });
      const calls = [h, other].flatMap((x) =>
        Array.from({ length: 100 }, () => attempt(x.service.check(key, '10.0.0.3'))),
      );
      const results = await Promise.all(calls);
      expect(results.filter((r) => r.ok)).toHaveLength(50);
      expect(results.filter((r) => !r.ok).every((r) => (r.error as GatewayError).code === 'rate_limit_exceeded')).toBe(
        true,
      );
    } finally {
      await other.conn.onApplicationShutdown();
      other.redis.onApplicationShutdown();
    }
  });

  it('a workspace rpm binds all of its keys together', async () => {
    const ws = { rpm: 5 };
    const a = keyContext({ keyId: 'k-a', workspaceId: 'w-team' }, { rpm: 100 }, ws);
    const b = keyContext({ keyId: 'k-b', workspaceId: 'w-team' }, { rpm: 100 }, ws);
    for (let i = 0; i < 3; i++) await h.service.check(a, '10.0.0.4');
    await h.service.check(b, '10.0.0.4');
    await h.service.check(b, '10.0.0.4');
    const refused = await attempt(h.service.check(b, '10.0.0.4'));
    expect(refused.ok).toBe(false);
    expect((refused.error as GatewayError).code).toBe('rate_limit_exceeded');
    expect((refused.error as GatewayError).message).toMatch(/workspace/);
    // the headers describe the limit that refused: the workspace's 5, not the key's 100
    expect(refused.headers).toMatchObject({ 'X-RateLimit-Limit': '5', 'X-RateLimit-Remaining': '0' });
    expect(Number(refused.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    // another workspace is not affected
    const c = keyContext({ keyId: 'k-c', workspaceId: 'w-other' }, { rpm: 100 }, ws);
    expect((await attempt(h.service.check(c, '10.0.0.4'))).ok).toBe(true);
  });

  it('all-or-nothing: a request refused by the workspace does not consume the key', async () => {
    const ws = { rpm: 1 };
    const a = keyContext({ keyId: 'k-aon-a', workspaceId: 'w-aon' }, { rpm: 3 }, ws);
    const b = keyContext({ keyId: 'k-aon-b', workspaceId: 'w-aon' }, { rpm: 3 }, ws);
    await h.service.check(a, '10.0.0.5');
    const tatBefore = (await h.hash('lim:{w:w-aon}:k:k-aon-a')).tat;
    for (let i = 0; i < 5; i++) expect((await attempt(h.service.check(a, '10.0.0.5'))).ok).toBe(false);
    for (let i = 0; i < 5; i++) expect((await attempt(h.service.check(b, '10.0.0.5'))).ok).toBe(false);
    expect((await h.hash('lim:{w:w-aon}:k:k-aon-a')).tat).toBe(tatBefore);
    expect(await h.hash('lim:{w:w-aon}:k:k-aon-b')).toEqual({});
    // without the workspace cap, key b still has its full 3
    const free = keyContext({ keyId: 'k-aon-b', workspaceId: 'w-aon' }, { rpm: 3 });
    const d = await h.service.check(free, '10.0.0.5');
    expect(d.headers['X-RateLimit-Remaining']).toBe('2');
  });

  it('keeps every counter of a request under the workspace hash tag, with a TTL', async () => {
    const key = keyContext({ keyId: 'k-tag', workspaceId: 'w-tag' }, {}, { rpm: 10 });
    await h.service.check(key, '10.0.0.6');
    const keys = await h.conn.client.keys(`${h.prefix}lim:*w-tag*`);
    expect(keys.sort()).toEqual([`${h.prefix}lim:{w:w-tag}`, `${h.prefix}lim:{w:w-tag}:k:k-tag`]);
    for (const k of keys) {
      const ttl = await h.conn.client.pttl(k);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(61_000);
    }
  });
});
