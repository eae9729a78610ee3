// Tokens per minute (two weighted one-minute buckets) and daily request and spend caps, fed by record().
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

  it('tpm: refuses once record() filled the window, for the key and for the workspace', async () => {
    const key = keyContext({ keyId: 'k-tpm', workspaceId: 'w-tpm' }, { tpm: 1000 });
    await h.service.check(key, '10.1.0.1');
    await h.service.record(key, { tokens: 999, spend: 0n });
    await h.service.check(key, '10.1.0.1'); // 999 < 1000: still allowed
    await h.service.record(key, { tokens: 1, spend: 0n });
    const refused = await attempt(h.service.check(key, '10.1.0.1'));
    expect((refused.error as GatewayError).code).toBe('token_quota_exhausted');
    expect((refused.error as GatewayError).status).toBe(429);
    expect(refused.headers).toMatchObject({ 'X-RateLimit-Limit': '1000', 'X-RateLimit-Remaining': '0' });
    // these tokens are in the current minute: they only slide out during the next one
    expect(Number(refused.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers['Retry-After'])).toBeLessThanOrEqual(61);

    const ws = keyContext({ keyId: 'k-tpm-2', workspaceId: 'w-tpm-ws' }, {}, { tpm: 500 });
    const sibling = keyContext({ keyId: 'k-tpm-3', workspaceId: 'w-tpm-ws' }, {}, { tpm: 500 });
    await h.service.record(ws, { tokens: 600, spend: 0n });
    expect(((await attempt(h.service.check(sibling, '10.1.0.1'))).error as GatewayError).code).toBe(
      'token_quota_exhausted',
    );
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
    await h.service.record(key, { tokens, spend: 0n });
    // move them to the previous minute, as if recorded a minute ago (nothing else is faked)
    const name = `${h.prefix}lim:{w:w-slide}:k:k-slide`;
    await h.conn.client.hset(name, 'tm', String(Math.floor(now / MIN_US) - 1), 'tc', String(tokens), 'tp', '0');

    const refused = await attempt(h.service.check(key, '10.1.0.2'));
    expect((refused.error as GatewayError).code).toBe('token_quota_exhausted');
    expect(Number(refused.headers['Retry-After'])).toBeLessThanOrEqual(2);
    await sleep(1000 * Number(refused.headers['Retry-After']) + 50);
    expect((await attempt(h.service.check(key, '10.1.0.2'))).ok).toBe(true);
  });

  it('daily requests: counted at check, refused past the cap until the next UTC midnight', async () => {
    const key = keyContext({ keyId: 'k-day', workspaceId: 'w-day' }, { daily_requests: 3 });
    for (let i = 0; i < 3; i++) await h.service.check(key, '10.1.0.3');
    const refused = await attempt(h.service.check(key, '10.1.0.3'));
    const err = refused.error as GatewayError;
    expect(err.code).toBe('daily_limit_reached');
    expect(err.status).toBe(429);
    const midnight = new Date();
    midnight.setUTCHours(24, 0, 0, 0);
    expect(refused.headers['X-RateLimit-Reset']).toBe(midnight.toISOString().replace('.000Z', 'Z'));
    expect(refused.headers['X-RateLimit-Limit']).toBe('3');
    const retry = Number(refused.headers['Retry-After']);
    expect(Math.abs(retry - (midnight.getTime() - Date.now()) / 1000)).toBeLessThan(3);
    expect((await h.hash('lim:{w:w-day}:k:k-day')).dr).toBe('3'); // refusals are not counted
    expect(await h.conn.client.pttl(`${h.prefix}lim:{w:w-day}:k:k-day`)).toBeGreaterThan(47 * 3_600_000);
  });

  it('daily requests of the workspace: shared by its keys', async () => {
    const ws = { daily_requests: 2 };
    const a = keyContext({ keyId: 'k-dw-a', workspaceId: 'w-dw' }, {}, ws);
    const b = keyContext({ keyId: 'k-dw-b', workspaceId: 'w-dw' }, {}, ws);
    await h.service.check(a, '10.1.0.4');
    await h.service.check(b, '10.1.0.4');
    const tat = (await h.hash('lim:{w:w-dw}:k:k-dw-a')).tat;
    const refused = await attempt(h.service.check(a, '10.1.0.4'));
    expect((refused.error as GatewayError).code).toBe('daily_limit_reached');
    expect((refused.error as GatewayError).message).toMatch(/workspace/);
    expect((await h.hash('lim:{w:w-dw}:k:k-dw-a')).tat).toBe(tat); // all-or-nothing: key rpm untouched
  });

  it('daily spend: compares the recorded spend with the cap, exactly, for key and workspace', async () => {
    const key = keyContext({ keyId: 'k-spend', workspaceId: 'w-spend' }, { daily_spend: 1_000_000_000n });
    await h.service.record(key, { tokens: 10, spend: 600_000_000n });
    await h.service.check(key, '10.1.0.5');
    await h.service.record(key, { tokens: 10, spend: 400_000_000n });
    const refused = await attempt(h.service.check(key, '10.1.0.5'));
    expect((refused.error as GatewayError).code).toBe('daily_limit_reached');
    expect(refused.headers).toMatchObject({ 'X-RateLimit-Limit': '1.00', 'X-RateLimit-Remaining': '0.00' });

    // past 2^53 nanos, where floating point would call these equal
    const big = 2n ** 53n;
    const ws = keyContext({ keyId: 'k-big', workspaceId: 'w-big' }, {}, { daily_spend: big + 1n });
    await h.service.record(ws, { tokens: 0, spend: big });
    expect((await attempt(h.service.check(ws, '10.1.0.5'))).ok).toBe(true);
    expect((await h.hash('lim:{w:w-big}')).ds).toBe(String(big));
    await h.service.record(ws, { tokens: 0, spend: 1n });
    expect(((await attempt(h.service.check(ws, '10.1.0.5'))).error as GatewayError).code).toBe('daily_limit_reached');
  });

  it('record() writes nothing when no scope caps tokens or spend', async () => {
    const key = keyContext({ keyId: 'k-none', workspaceId: 'w-none' }, { rpm: 10, daily_requests: 100 });
    await h.service.record(key, { tokens: 500, spend: 10n });
    expect(await h.hash('lim:{w:w-none}:k:k-none')).toEqual({});
    expect(await h.hash('lim:{w:w-none}')).toEqual({});
  });
});
