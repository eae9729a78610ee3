// Per-process leases of rpm places (rate-leases.ts) on real Redis: a busy key's requests are counted in
// memory with one round trip in many, two processes sharing a window still never admit more than its
// limit, and once the leases end Redis counts exactly the requests that were admitted.
import { GatewayError } from '@switchyard/core';
import { attempt, keyContext, LimitsHarness, limitsHarness, newPrefix, sleep } from './limits-harness';

describe('rpm leases', () => {
  const prefix = newPrefix();
  let a: LimitsHarness;
  let b: LimitsHarness;
  beforeAll(async () => {
    // two gateway processes: their own connections and leases, one Redis prefix
    a = await limitsHarness({ prefix, env: { IP_RATE_LIMIT: '100000', IP_RATE_WINDOW_SECONDS: '600' } });
    b = await limitsHarness({ prefix, env: { IP_RATE_LIMIT: '100000', IP_RATE_WINDOW_SECONDS: '600' } });
  });
  afterAll(async () => {
    await a.service.beforeApplicationShutdown();
    await b.service.beforeApplicationShutdown();
    await b.conn.onApplicationShutdown();
    b.redis.onApplicationShutdown();
    await a.close();
  });

  /** places a process's running lease holds unused (a key with rpm 100,000 and no workspace rpm) */
  const heldUnused = (h: LimitsHarness, w: string, k: string) =>
    h.service.leases.unusedOf(`${h.prefix}lim:{w:${w}}:k:${k}|100000|`);
  const heldUnusedIp = (h: LimitsHarness, ip: string) => h.service.leases.unusedOf(`${h.prefix}lim:{ip:${ip}}`);

  /** requests in the key's window as Redis counts them */
  const counted = async (h: LimitsHarness, workspaceId: string, keyId: string) =>
    Number((await h.hash(`lim:{w:${workspaceId}}:k:${keyId}`)).rn ?? 0);

  it('serves a busy key from the lease: one round trip in many, Remaining still one less each request', async () => {
    const key = keyContext({ keyId: 'k-busy', workspaceId: 'w-busy' }, { rpm: 100_000 });
    const trips = jest.spyOn(a.conn, 'checkWithIp');
    const remaining: number[] = [];
    for (let i = 0; i < 600; i++) {
      const d = await a.service.check(key, '198.51.100.7');
      remaining.push(Number(d.headers['X-RateLimit-Remaining']));
    }
    // the lease doubles while it runs out (1, 2, 4, ... 256 places), and starts again each second
    expect(trips.mock.calls.length).toBeLessThan(60);
    trips.mockRestore();
    // alone on its key, one process sees every request it admitted
    expect(remaining[0]).toBe(99_999);
    expect(remaining.every((r, i) => i === 0 || r === remaining[i - 1] - 1)).toBe(true);
    // unused places go back when the leases end: Redis then counts exactly the 600 requests
    await a.service.returnUnused(true);
    expect(await counted(a, 'w-busy', 'k-busy')).toBe(600);
    expect(Number((await a.hash('lim:{ip:198.51.100.7}')).rn)).toBe(600);
  });

  it('two processes at once never admit more than the limit, and lose at most their leases', async () => {
    // 1,000 a minute: leases of at most 15 places
    const key = keyContext({ keyId: 'k-two', workspaceId: 'w-two' }, { rpm: 1000 });
    const results = await Promise.all(
      Array.from({ length: 1300 }, (_, i) => attempt((i % 2 ? a : b).service.check(key, ''))),
    );
    const admitted = results.filter((r) => r.ok).length;
    expect(admitted).toBeLessThanOrEqual(1000);
    // places one process held unused were refused to the other: at most a lease each
    expect(admitted).toBeGreaterThanOrEqual(1000 - 2 * 15);
    for (const r of results.filter((x) => !x.ok)) expect((r.error as GatewayError).code).toBe('rate_limit_exceeded');
    await Promise.all([a.service.returnUnused(true), b.service.returnUnused(true)]);
    expect(await counted(a, 'w-two', 'k-two')).toBe(admitted);
    // with the places back, the window's last ones can be taken: up to 1,000 in all
    const more = await Promise.all(Array.from({ length: 40 }, () => attempt(a.service.check(key, ''))));
    expect(admitted + more.filter((r) => r.ok).length).toBe(1000);
  });

  it('never uses a place past its bucket: the second after, the key asks Redis again and gives back the rest', async () => {
    // no sweep meanwhile: the unused places can only go back with the next check
    const sweep = jest.spyOn(a.service, 'returnUnused').mockResolvedValue();
    const key = keyContext({ keyId: 'k-sec', workspaceId: 'w-sec' }, { rpm: 100_000 });
    const ip = '198.51.100.9';
    for (let i = 0; i < 8; i++) await a.service.check(key, ip);
    // a lease holds places this second has not used: Redis counts them as taken
    expect(await counted(a, 'w-sec', 'k-sec')).toBeGreaterThan(8);
    const trips = jest.spyOn(a.conn, 'checkWithIp');
    await sleep(1050);
    await a.service.check(key, ip);
    expect(trips).toHaveBeenCalledTimes(1);
    trips.mockRestore();
    sweep.mockRestore();
    // the check that asked for the new lease gave the old one's unused places back: 9 requests, and
    // the new lease's own unused places (none yet: it holds the one it was asked for)
    expect(await counted(a, 'w-sec', 'k-sec')).toBe(9 + heldUnused(a, 'w-sec', 'k-sec'));
    expect(Number((await a.hash(`lim:{ip:${ip}}`)).rn)).toBe(9 + heldUnusedIp(a, ip));
    await a.service.returnUnused(true);
    expect(await counted(a, 'w-sec', 'k-sec')).toBe(9);
  });

  it('a workspace rpm leases with its key; limits under 1,000 go to Redis on every request', async () => {
    const tight = keyContext({ keyId: 'k-ws', workspaceId: 'w-ws' }, { rpm: 100_000 }, { rpm: 999 });
    const trips = jest.spyOn(a.conn, 'checkWithIp');
    for (let i = 0; i < 5; i++) await a.service.check(tight, '');
    expect(trips).toHaveBeenCalledTimes(5);
    trips.mockClear();
    const wide = keyContext({ keyId: 'k-ws2', workspaceId: 'w-ws2' }, { rpm: 100_000 }, { rpm: 64_000 });
    for (let i = 0; i < 100; i++) await a.service.check(wide, '');
    expect(trips.mock.calls.length).toBeLessThan(20);
    trips.mockRestore();
    await a.service.returnUnused(true);
    expect(Number((await a.hash('lim:{w:w-ws2}')).rn)).toBe(100);
    expect(await counted(a, 'w-ws2', 'k-ws2')).toBe(100);
  });

  it('keys with token or daily caps are checked in Redis on every request', async () => {
    const key = keyContext({ keyId: 'k-tpm', workspaceId: 'w-tpm' }, { rpm: 100_000, tpm: 1_000_000 });
    const trips = jest.spyOn(a.conn, 'checkWithIp');
    for (let i = 0; i < 5; i++) await a.service.check(key, '', { admission: { tokens: 10, spend: 0n } });
    expect(trips).toHaveBeenCalledTimes(5);
    trips.mockRestore();
  });
});
