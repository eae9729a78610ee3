// The per-IP safety net: a sliding window per client address (IPv6 by /64), counting keyed requests
// and failed-auth requests alike. Simulated time goes through the scripts' clock argument.
import { GatewayError } from '@switchyard/core';
import { attempt, keyContext, LimitsHarness, limitsHarness, sleep } from './limits-harness';

const S = 1_000_000;
const T0 = 1_900_000_000 * S;

describe('LimitsService per-IP net', () => {
  let h: LimitsHarness;
  beforeAll(async () => {
    h = await limitsHarness({ env: { IP_RATE_LIMIT: '5', IP_RATE_WINDOW_SECONDS: '60' } });
  });
  afterAll(() => h.close());

  it('refuses the IP past its limit whatever the key, with the net in the headers', async () => {
    for (let i = 0; i < 5; i++) {
      const d = await h.service.check(keyContext({ keyId: `k-ip-${i}`, workspaceId: `w-ip-${i}` }), '192.0.2.1');
      expect(d.headers['X-RateLimit-Limit']).toBe('60'); // allowed: the key's rpm
    }
    const refused = await attempt(h.service.check(keyContext({ keyId: 'k-ip-x', workspaceId: 'w-ip-x' }), '192.0.2.1'));
    const err = refused.error as GatewayError;
    expect(err.code).toBe('rate_limit_exceeded');
    expect(err.message).toMatch(/IP address/);
    expect(refused.headers).toMatchObject({ 'X-RateLimit-Limit': '5', 'X-RateLimit-Remaining': '0' });
    // the five arrived within a second or so: their places come back about a window later
    expect(Number(refused.headers['Retry-After'])).toBeGreaterThanOrEqual(58);
    expect(Number(refused.headers['Retry-After'])).toBeLessThanOrEqual(61);
    // another address is not affected
    expect(
      (await attempt(h.service.check(keyContext({ keyId: 'k-ip-y', workspaceId: 'w-ip-y' }), '192.0.2.2'))).ok,
    ).toBe(true);
  });

  it('checkIpOnly counts requests without a key against the same net', async () => {
    for (let i = 0; i < 3; i++) await h.service.checkIpOnly('203.0.113.7');
    await h.service.check(keyContext({ keyId: 'k-mix', workspaceId: 'w-mix' }), '203.0.113.7');
    await h.service.checkIpOnly('203.0.113.7');
    const refused = await attempt(h.service.checkIpOnly('203.0.113.7'));
    expect((refused.error as GatewayError).code).toBe('rate_limit_exceeded');
    expect((refused.error as GatewayError).status).toBe(429);
    expect(refused.headers['X-RateLimit-Limit']).toBe('5');
    expect(await h.conn.client.pttl(`${h.prefix}lim:{ip:203.0.113.7}`)).toBeGreaterThan(59_000);
  });

  it('groups IPv6 addresses by /64 and counts IPv4-mapped addresses as IPv4', async () => {
    for (let i = 1; i <= 5; i++) await h.service.checkIpOnly(`2001:db8:aa:1::${i.toString(16)}`);
    // another address of the same /64 is the same subscriber
    expect((await attempt(h.service.checkIpOnly('2001:db8:aa:1:ffff::9'))).ok).toBe(false);
    expect((await attempt(h.service.checkIpOnly('2001:db8:aa:2::1'))).ok).toBe(true);
    expect(await h.conn.client.exists(`${h.prefix}lim:{ip:2001:db8:aa:1::/64}`)).toBe(1);
    for (let i = 0; i < 5; i++) await h.service.checkIpOnly('::ffff:198.51.100.20');
    expect((await attempt(h.service.checkIpOnly('198.51.100.20'))).ok).toBe(false);
  });

  it('a request the net refuses gives back what its check took from the key and the workspace', async () => {
    const key = keyContext(
      { keyId: 'k-refund', workspaceId: 'w-refund' },
      { rpm: 10, daily_requests: 100, tpm: 100_000 },
      { rpm: 20, daily_requests: 100, daily_spend: 10_000_000_000n },
    );
    const admission = { tokens: 500, spend: 3_000_000n };
    await h.service.check(key, '192.0.2.3', { admission });
    const keyBefore = await h.hash('lim:{w:w-refund}:k:k-refund');
    const wsBefore = await h.hash('lim:{w:w-refund}');
    expect([keyBefore.rn, keyBefore.dr, keyBefore.tc, wsBefore.rn, wsBefore.ds]).toEqual([
      '1',
      '1',
      '500',
      '1',
      '3000000',
    ]);
    for (let i = 0; i < 4; i++) await h.service.checkIpOnly('192.0.2.3');
    expect((await attempt(h.service.check(key, '192.0.2.3', { admission }))).ok).toBe(false);
    await sleep(50); // the give-back is fire-and-forget
    const keyAfter = await h.hash('lim:{w:w-refund}:k:k-refund');
    const wsAfter = await h.hash('lim:{w:w-refund}');
    for (const f of ['rn', 'dr', 'tc']) expect(keyAfter[f]).toBe(keyBefore[f]);
    for (const f of ['rn', 'dr', 'ds']) expect(wsAfter[f]).toBe(wsBefore[f]);
  });

  it('a key checked by the guard before its database lookup is not counted twice', async () => {
    const key = keyContext({ keyId: 'k-once', workspaceId: 'w-once' }, { rpm: 100 });
    await h.service.checkIpOnly('192.0.2.4');
    for (let i = 0; i < 4; i++) await h.service.check(key, '192.0.2.4', { ipCounted: i === 0 });
    // 1 + 3 counted: one place left
    expect((await attempt(h.service.checkIpOnly('192.0.2.4'))).ok).toBe(true);
    expect((await attempt(h.service.checkIpOnly('192.0.2.4'))).ok).toBe(false);
  });

  it('an unknown address (empty string) is not lumped into one shared bucket', async () => {
    const key = keyContext({ keyId: 'k-noip', workspaceId: 'w-noip' });
    for (let i = 0; i < 10; i++) await h.service.check(key, '');
    for (let i = 0; i < 10; i++) await h.service.checkIpOnly('');
    expect(await h.conn.client.keys(`${h.prefix}lim:{ip:}`)).toEqual([]);
  });

  it('IP_RATE_LIMIT=0 turns the net off', async () => {
    const off = await limitsHarness({ env: { IP_RATE_LIMIT: '0' } });
    try {
      const key = keyContext({ keyId: 'k-off', workspaceId: 'w-off' }, { rpm: 1000 });
      for (let i = 0; i < 20; i++) await off.service.check(key, '192.0.2.9');
      for (let i = 0; i < 20; i++) await off.service.checkIpOnly('192.0.2.9');
      expect(await off.conn.client.keys(`${off.prefix}lim:{ip:*`)).toEqual([]);
    } finally {
      await off.close();
    }
  });
});

describe('the default net: 5,000 requests per 10 minutes, sliding', () => {
  let h: LimitsHarness;
  beforeAll(async () => {
    h = await limitsHarness({ env: { IP_RATE_LIMIT: '5000', IP_RATE_WINDOW_SECONDS: '600' } });
  });
  afterAll(() => h.close());

  it('5,000 spread over 9 minutes, then refused; places come back as 10-second buckets leave', async () => {
    const ip = '198.51.100.50';
    for (let batch = 0; batch < 10; batch++) {
      // 500 in each of ten 54-second steps
      const t = T0 + batch * 54 * S;
      const r = await Promise.all(Array.from({ length: 500 }, () => attempt(h.service.checkIpOnly(ip, t))));
      expect(r.every((x) => x.ok)).toBe(true);
    }
    const refused = await attempt(h.service.checkIpOnly(ip, T0 + 595 * S));
    expect(refused.ok).toBe(false);
    expect(refused.headers['X-RateLimit-Limit']).toBe('5000');
    // the first 500 (bucket of T0) leave when the bucket 61 later begins: 610 s
    expect(Number(refused.headers['Retry-After'])).toBe(15);
    expect((await attempt(h.service.checkIpOnly(ip, T0 + 610 * S - 1))).ok).toBe(false);
    const back = await Promise.all(Array.from({ length: 501 }, () => attempt(h.service.checkIpOnly(ip, T0 + 610 * S))));
    expect(back.filter((x) => x.ok)).toHaveLength(500);
  });
});

describe('the net slides in real time', () => {
  let h: LimitsHarness;
  beforeAll(async () => {
    // a 3 s window: buckets of 50 ms
    h = await limitsHarness({ env: { IP_RATE_LIMIT: '4', IP_RATE_WINDOW_SECONDS: '3' } });
  });
  afterAll(() => h.close());

  it('refuses the 5th request within 3 s, and lets requests through again as the first ones leave', async () => {
    const ip = '198.51.100.60';
    await h.service.checkIpOnly(ip);
    await h.service.checkIpOnly(ip);
    await sleep(1500);
    await h.service.checkIpOnly(ip);
    await h.service.checkIpOnly(ip);
    const refused = await attempt(h.service.checkIpOnly(ip));
    expect(refused.ok).toBe(false);
    // the first two leave about 3 s after they came: 1.5 s from now
    expect(['1', '2']).toContain(refused.headers['Retry-After']);
    await sleep(1700); // the first two left (3 s + one bucket after them), the last two have not
    expect((await attempt(h.service.checkIpOnly(ip))).ok).toBe(true);
    expect((await attempt(h.service.checkIpOnly(ip))).ok).toBe(true);
    expect((await attempt(h.service.checkIpOnly(ip))).ok).toBe(false);
  });
});
