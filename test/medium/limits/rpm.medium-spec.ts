// Requests per minute of keys and workspaces (a sliding window in Redis), across gateway processes.
// Simulated time goes through the scripts' clock argument; everything else is the real script on real Redis.
import { GatewayError } from '@switchyard/core';
import { emptyWindow, windowAdmit, windowParams, windowStatus } from '../../../libs/limits/src/sliding-window';
import { attempt, counterValue, keyContext, LimitsHarness, limitsHarness } from './limits-harness';

const S = 1_000_000;
// a bucket boundary plus a bit, far from the real clock (the keys of each test are its own)
const T0 = 1_900_000_000 * S + 250_000;

describe('LimitsService rpm', () => {
  let h: LimitsHarness;
  beforeAll(async () => {
    h = await limitsHarness({ env: { IP_RATE_LIMIT: '0' } });
  });
  afterAll(() => h.close());

  const at = (key: ReturnType<typeof keyContext>, nowUs: number) => attempt(h.service.check(key, '', { nowUs }));

  it('allows 60 requests a minute by default and refuses the 61st with 429 and headers', async () => {
    const key = keyContext({ keyId: 'k-60', workspaceId: 'w-60' });
    const before = Date.now();
    const first = await h.service.check(key, '10.0.0.1');
    expect(first.headers['X-RateLimit-Limit']).toBe('60');
    expect(first.headers['X-RateLimit-Remaining']).toBe('59');
    expect(first.headers['X-RateLimit-Reset']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // full again once this request left the window: 60 to 62 s from now
    const reset = Date.parse(first.headers['X-RateLimit-Reset']);
    expect(reset).toBeGreaterThanOrEqual(before + 60_000);
    expect(reset).toBeLessThanOrEqual(Date.now() + 62_000);
    for (let i = 2; i <= 60; i++) {
      const d = await h.service.check(key, '10.0.0.1');
      expect(d.headers['X-RateLimit-Remaining']).toBe(String(60 - i));
    }
    const refused = await attempt(h.service.check(key, '10.0.0.1'));
    const err = refused.error as GatewayError;
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.status).toBe(429);
    expect(err.code).toBe('rate_limit_exceeded');
    expect(refused.headers).toMatchObject({ 'X-RateLimit-Limit': '60', 'X-RateLimit-Remaining': '0' });
    // no place comes back before the first second's requests leave the window, about a minute on
    expect(Number(refused.headers['Retry-After'])).toBeGreaterThanOrEqual(58);
    expect(Number(refused.headers['Retry-After'])).toBeLessThanOrEqual(62);
    expect((await attempt(h.service.check(key, '10.0.0.1'))).ok).toBe(false);
  });

  it('60 spread over 50 s, then a burst: refused, and the window slides one second at a time', async () => {
    const key = keyContext({ keyId: 'k-spread', workspaceId: 'w-spread' });
    for (let i = 0; i < 60; i++) {
      const r = await at(key, T0 + Math.round((i * 50 * S) / 59));
      expect(r.ok).toBe(true);
    }
    const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => at(key, T0 + 55 * S + i)));
    expect(burst.filter((r) => r.ok)).toHaveLength(0);
    const retry = Number(burst[0].headers['Retry-After']);
    // the first request (second 0) leaves the counted window at 61 s
    expect(retry).toBe(6);
    expect((await at(key, T0 + 61 * S - 250_001)).ok).toBe(false);
    expect((await at(key, T0 + 61 * S)).ok).toBe(true);
    expect((await at(key, T0 + 61 * S + 1)).ok).toBe(false);
    // the second of the 60 (0.85 s later) sits in the next bucket: its place comes back a second later
    expect((await at(key, T0 + 61 * S + 500_000)).ok).toBe(false);
    expect((await at(key, T0 + 62 * S)).ok).toBe(true);
  });

  it('a burst of 60 and then one a second for 59 s lets 60 through, not 119', async () => {
    const key = keyContext({ keyId: 'k-audit', workspaceId: 'w-audit' });
    let allowed = 0;
    for (let i = 0; i < 60; i++) if ((await at(key, T0)).ok) allowed++;
    for (let s = 1; s <= 59; s++) if ((await at(key, T0 + s * S)).ok) allowed++;
    expect(allowed).toBe(60);
  });

  it('the script and the model in sliding-window.ts agree on every decision and header', async () => {
    const key = keyContext({ keyId: 'k-parity', workspaceId: 'w-parity' }, { rpm: 7 });
    const p = windowParams(7, 60);
    const model = emptyWindow();
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let t = T0;
    for (let i = 0; i < 150; i++) {
      t += Math.floor(rnd() < 0.1 ? rnd() * 90 * S : rnd() * 6 * S);
      const expected = windowAdmit(model, p, t);
      const got = await at(key, t);
      expect(got.ok).toBe(expected.allowed);
      const st = windowStatus(p, t, expected.seen, !expected.allowed);
      expect(got.headers['X-RateLimit-Remaining']).toBe(String(st.remaining));
      if (!got.ok) expect(got.headers['Retry-After']).toBe(String(Math.max(1, Math.ceil(st.retryAfterUs / S))));
    }
    // the hash never holds more than the 61 counted buckets and its bookkeeping
    expect(Object.keys(await h.hash('lim:{w:w-parity}:k:k-parity')).length).toBeLessThanOrEqual(63);
  });

  it('honours a key rpm of its own ("up to thousands")', async () => {
    const key = keyContext({ keyId: 'k-5000', workspaceId: 'w-5000' }, { rpm: 5000 });
    const results = [];
    for (let batch = 0; batch < 11; batch++) {
      results.push(...(await Promise.all(Array.from({ length: 500 }, () => attempt(h.service.check(key, ''))))));
    }
    // every place is used once within the minute, and none comes back within it
    expect(results.filter((r) => r.ok)).toHaveLength(5000);
    expect(await counterValue(h.metrics, 'open')).toBe(0); // all were really checked, none failed open
    expect(results[0].headers['X-RateLimit-Limit']).toBe('5000');
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
    const before = await h.hash('lim:{w:w-aon}:k:k-aon-a');
    expect(before.rn).toBe('1');
    for (let i = 0; i < 5; i++) expect((await attempt(h.service.check(a, '10.0.0.5'))).ok).toBe(false);
    for (let i = 0; i < 5; i++) expect((await attempt(h.service.check(b, '10.0.0.5'))).ok).toBe(false);
    expect(await h.hash('lim:{w:w-aon}:k:k-aon-a')).toEqual(before);
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
      expect(ttl).toBeLessThanOrEqual(62_000);
    }
  });
});
