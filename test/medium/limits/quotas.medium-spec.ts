// Tokens per minute (two weighted one-minute buckets) and daily request and spend caps: an admitted
// request reserves its estimated tokens and worst-case cost at check time, and record() replaces the
// reservation with the metered usage (coalesced per key).
import { GatewayError } from '@switchyard/core';
import { attempt, keyContext, LimitsHarness, limitsHarness, sleep } from './limits-harness';

const MIN_US = 60_000_000;

describe('LimitsService quotas', () => {
  let h: LimitsHarness;
  beforeAll(async () => {
    h = await limitsHarness({ env: { IP_RATE_LIMIT: '0' } });
  });
  afterAll(() => h.close());

  async function serverNowUs(): Promise<number> {
    const [s, us] = await h.conn.client.time();
    return Number(s) * 1_000_000 + Number(us);
  }

  const admit = (key: ReturnType<typeof keyContext>, tokens: number, spend = 0n) =>
    h.service.check(key, '', { admission: { tokens, spend } });

  it('tpm: requests in flight see each other through their reservations', async () => {
    const key = keyContext({ keyId: 'k-tpm-fly', workspaceId: 'w-tpm-fly' }, { tpm: 1000 });
    // each reserves 600 (input estimate + most output): the second still starts below the cap
    const a = await admit(key, 600);
    const b = await admit(key, 600);
    const refused = await attempt(admit(key, 600));
    expect((refused.error as GatewayError).code).toBe('token_quota_exhausted');
    expect(refused.headers).toMatchObject({ 'X-RateLimit-Limit': '1000', 'X-RateLimit-Remaining': '0' });
    // they used 10 tokens each: once corrected, room again
    await Promise.all([
      h.service.record(key, { tokens: 10, spend: 0n }, a.reservation),
      h.service.record(key, { tokens: 10, spend: 0n }, b.reservation),
    ]);
    expect((await h.hash('lim:{w:w-tpm-fly}:k:k-tpm-fly')).tc).toBe('20');
    expect((await attempt(admit(key, 600))).ok).toBe(true);
  });

  it('tpm: concurrent admissions overshoot the cap by at most one reservation', async () => {
    const key = keyContext({ keyId: 'k-tpm-race', workspaceId: 'w-tpm-race' }, {}, { tpm: 1000 });
    const results = await Promise.all(Array.from({ length: 30 }, () => attempt(admit(key, 300))));
    // 0, 300, 600, 900 start below 1000; the 5th sees 1200
    expect(results.filter((r) => r.ok)).toHaveLength(4);
  });

  it('tpm: refuses once record() filled the window, for the key and for the workspace', async () => {
    const key = keyContext({ keyId: 'k-tpm', workspaceId: 'w-tpm' }, { tpm: 1000 });
    await h.service.record(key, { tokens: 999, spend: 0n });
    await admit(key, 0); // 999 < 1000: still allowed
    await h.service.record(key, { tokens: 1, spend: 0n });
    const refused = await attempt(admit(key, 0));
    expect((refused.error as GatewayError).code).toBe('token_quota_exhausted');
    expect((refused.error as GatewayError).status).toBe(429);
    // these tokens are in the current minute: they only slide out during the next one
    expect(Number(refused.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers['Retry-After'])).toBeLessThanOrEqual(61);
    // a route that does not admit (GET /v1/models) is not refused for tokens
    expect((await attempt(h.service.check(key, ''))).ok).toBe(true);

    const ws = keyContext({ keyId: 'k-tpm-2', workspaceId: 'w-tpm-ws' }, {}, { tpm: 500 });
    const sibling = keyContext({ keyId: 'k-tpm-3', workspaceId: 'w-tpm-ws' }, {}, { tpm: 500 });
    await h.service.record(ws, { tokens: 600, spend: 0n });
    expect(((await attempt(admit(sibling, 1))).error as GatewayError).code).toBe('token_quota_exhausted');
  });

  it('tpm: a correction lands in the minute its check reserved in, even after that minute ended', async () => {
    const key = keyContext({ keyId: 'k-tpm-late', workspaceId: 'w-tpm-late' }, { tpm: 100_000 });
    const name = 'lim:{w:w-tpm-late}:k:k-tpm-late';
    const d = await admit(key, 5000);
    const m = d.reservation!.minute;
    // the request ran into the next minute: its reservation is now the previous minute's
    await h.conn.client.hset(h.prefix + name, 'tm', String(m + 1), 'tp', '5000', 'tc', '70');
    await h.service.record(key, { tokens: 120, spend: 0n }, d.reservation);
    expect(await h.hash(name)).toMatchObject({ tm: String(m + 1), tp: '120', tc: '70' });
    // two minutes later there is nothing left to correct
    await h.conn.client.hset(h.prefix + name, 'tm', String(m + 2), 'tp', '70', 'tc', '0');
    await h.service.record(key, { tokens: 9999, spend: 0n }, d.reservation);
    expect(await h.hash(name)).toMatchObject({ tp: '70', tc: '0' });
  });

  it('tpm: capacity comes back as the previous minute slides out of the window', async () => {
    const key = keyContext({ keyId: 'k-slide', workspaceId: 'w-slide' }, { tpm: 1000 });
    let now = await serverNowUs();
    if (now % MIN_US > 50_000_000) {
      await sleep((MIN_US - (now % MIN_US)) / 1000 + 50);
      now = await serverNowUs();
    }
    // tokens that, as last minute's, weigh just over the cap now and under it about a second later
    const dropAtUs = (now % MIN_US) + 1_000_000;
    const tokens = Math.ceil(1000 / (1 - dropAtUs / MIN_US));
    const name = `${h.prefix}lim:{w:w-slide}:k:k-slide`;
    await h.conn.client.hset(name, 'tm', String(Math.floor(now / MIN_US) - 1), 'tc', String(tokens), 'tp', '0');

    const refused = await attempt(admit(key, 0));
    expect((refused.error as GatewayError).code).toBe('token_quota_exhausted');
    expect(Number(refused.headers['Retry-After'])).toBeLessThanOrEqual(2);
    await sleep(1000 * Number(refused.headers['Retry-After']) + 50);
    expect((await attempt(admit(key, 0))).ok).toBe(true);
    // up to 10 s waiting for a minute with room in it, then up to 2 s of Retry-After
  }, 20_000);

  it('daily requests: counted at admission, refused past the cap until the next UTC midnight', async () => {
    const key = keyContext({ keyId: 'k-day', workspaceId: 'w-day' }, { daily_requests: 3 });
    for (let i = 0; i < 3; i++) await admit(key, 1);
    // other routes count against rpm, not against the daily request cap
    await h.service.check(key, '');
    const refused = await attempt(admit(key, 1));
    const err = refused.error as GatewayError;
    expect(err.code).toBe('daily_limit_reached');
    expect(err.status).toBe(429);
    const midnight = new Date();
    midnight.setUTCHours(24, 0, 0, 0);
    expect(refused.headers['X-RateLimit-Reset']).toBe(midnight.toISOString().replace('.000Z', 'Z'));
    expect(refused.headers['X-RateLimit-Limit']).toBe('3');
    const retry = Number(refused.headers['Retry-After']);
    expect(Math.abs(retry - (midnight.getTime() - Date.now()) / 1000)).toBeLessThan(3);
    const hash = await h.hash('lim:{w:w-day}:k:k-day');
    expect(hash.dr).toBe('3'); // refusals are not counted
    expect(hash.rn).toBe('4'); // the four allowed requests used rpm places
    expect(await h.conn.client.pttl(`${h.prefix}lim:{w:w-day}:k:k-day`)).toBeGreaterThan(47 * 3_600_000);
  });

  it('daily requests of the workspace: shared by its keys, all-or-nothing', async () => {
    const ws = { daily_requests: 2 };
    const a = keyContext({ keyId: 'k-dw-a', workspaceId: 'w-dw' }, {}, ws);
    const b = keyContext({ keyId: 'k-dw-b', workspaceId: 'w-dw' }, {}, ws);
    await admit(a, 1);
    await admit(b, 1);
    const rn = (await h.hash('lim:{w:w-dw}:k:k-dw-a')).rn;
    const refused = await attempt(admit(a, 1));
    expect((refused.error as GatewayError).code).toBe('daily_limit_reached');
    expect((refused.error as GatewayError).message).toMatch(/workspace/);
    expect((await h.hash('lim:{w:w-dw}:k:k-dw-a')).rn).toBe(rn); // key rpm untouched
  });

  it('daily spend: reserves the worst case at check, refuses at the cap, and settles to what was charged', async () => {
    const key = keyContext({ keyId: 'k-spend', workspaceId: 'w-spend' }, { daily_spend: 1_000_000_000n });
    const a = await admit(key, 0, 600_000_000n);
    const b = await admit(key, 0, 600_000_000n);
    const refused = await attempt(admit(key, 0, 1n));
    expect((refused.error as GatewayError).code).toBe('daily_limit_reached');
    expect(refused.headers).toMatchObject({ 'X-RateLimit-Limit': '1.00', 'X-RateLimit-Remaining': '0.00' });
    // charged 0.10 and nothing (a request that failed upstream)
    await h.service.record(key, { tokens: 50, spend: 100_000_000n }, a.reservation);
    await h.service.record(key, { tokens: 0, spend: 0n }, b.reservation);
    expect((await h.hash('lim:{w:w-spend}:k:k-spend')).ds).toBe('100000000');
    expect((await attempt(admit(key, 0, 1n))).ok).toBe(true);
  });

  it('daily spend: exact past 2^53 nanos, where floating point would call these equal', async () => {
    const big = 2n ** 53n;
    const ws = keyContext({ keyId: 'k-big', workspaceId: 'w-big' }, {}, { daily_spend: big + 1n });
    await h.service.record(ws, { tokens: 0, spend: big });
    expect((await attempt(admit(ws, 0))).ok).toBe(true);
    expect((await h.hash('lim:{w:w-big}')).ds).toBe(String(big));
    await h.service.record(ws, { tokens: 0, spend: 1n });
    expect(((await attempt(admit(ws, 0))).error as GatewayError).code).toBe('daily_limit_reached');
  });

  it('record() writes nothing when no scope caps tokens or spend, and admissions reserve nothing there', async () => {
    const key = keyContext({ keyId: 'k-none', workspaceId: 'w-none' }, { rpm: 10, daily_requests: 100 });
    const d = await admit(key, 500, 10n);
    expect(d.reservation).toBeNull();
    await h.service.record(key, { tokens: 500, spend: 10n });
    expect(await h.hash('lim:{w:w-none}')).toEqual({});
    const hash = await h.hash('lim:{w:w-none}:k:k-none');
    expect(hash.tc).toBeUndefined();
    expect(hash.ds).toBe('0');
  });

  it("release() gives a refused request's reservation back before this process's next check", async () => {
    const key = keyContext({ keyId: 'k-rel', workspaceId: 'w-rel' }, { tpm: 1000 }, { daily_spend: 1000n });
    for (let i = 0; i < 5; i++) {
      // each would be refused by the reservations of the ones before, were they kept
      const d = await admit(key, 900, 900n);
      h.service.release(d.reservation);
    }
    await sleep(20);
    expect((await h.hash('lim:{w:w-rel}:k:k-rel')).tc).toBe('0');
    expect((await h.hash('lim:{w:w-rel}')).ds).toBe('0');
  });

  it('corrections of one key are coalesced: many finished requests, one command', async () => {
    const key = keyContext({ keyId: 'k-many', workspaceId: 'w-many' }, { tpm: 1_000_000 }, { daily_spend: 10n ** 12n });
    const decisions = await Promise.all(Array.from({ length: 40 }, () => admit(key, 1000, 1000n)));
    const adjust = jest.spyOn(h.conn.client, 'syLimitsAdjust');
    try {
      await Promise.all(decisions.map((d) => h.service.record(key, { tokens: 7, spend: 3n }, d.reservation)));
      expect(adjust).toHaveBeenCalledTimes(1);
    } finally {
      adjust.mockRestore();
    }
    expect((await h.hash('lim:{w:w-many}:k:k-many')).tc).toBe('280');
    expect((await h.hash('lim:{w:w-many}')).ds).toBe('120');
  });
});
