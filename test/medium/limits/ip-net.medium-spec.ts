// The per-IP safety net: GCRA per client address, counting keyed requests and failed-auth requests alike.
import { GatewayError } from '@switchyard/core';
import { attempt, keyContext, LimitsHarness, limitsHarness, sleep } from './limits-harness';

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
    expect(refused.headers).toMatchObject({
      'X-RateLimit-Limit': '5',
      'X-RateLimit-Remaining': '0',
      'Retry-After': '12',
    });
    // another address is not affected
    expect(
      (await attempt(h.service.check(keyContext({ keyId: 'k-ip-y', workspaceId: 'w-ip-y' }), '192.0.2.2'))).ok,
    ).toBe(true);
  });

  it('checkIpOnly counts requests without a key against the same net', async () => {
    for (let i = 0; i < 3; i++) await h.service.checkIpOnly('2001:db8::7');
    await h.service.check(keyContext({ keyId: 'k-mix', workspaceId: 'w-mix' }), '2001:db8::7');
    await h.service.checkIpOnly('2001:db8::7');
    const refused = await attempt(h.service.checkIpOnly('2001:db8::7'));
    expect((refused.error as GatewayError).code).toBe('rate_limit_exceeded');
    expect((refused.error as GatewayError).status).toBe(429);
    expect(refused.headers['Retry-After']).toBe('12');
    expect(await h.conn.client.pttl(`${h.prefix}lim:{ip:2001:db8::7}`)).toBeGreaterThan(59_000);
  });

  it('a request the net refuses gives back what it took from the key and the workspace', async () => {
    const key = keyContext(
      { keyId: 'k-refund', workspaceId: 'w-refund' },
      { rpm: 10, daily_requests: 100 },
      { rpm: 20, daily_requests: 100 },
    );
    await h.service.check(key, '192.0.2.3');
    const keyBefore = await h.hash('lim:{w:w-refund}:k:k-refund');
    const wsBefore = await h.hash('lim:{w:w-refund}');
    for (let i = 0; i < 4; i++) await h.service.checkIpOnly('192.0.2.3');
    expect((await attempt(h.service.check(key, '192.0.2.3'))).ok).toBe(false);
    await sleep(50); // the refund is fire-and-forget
    const keyAfter = await h.hash('lim:{w:w-refund}:k:k-refund');
    const wsAfter = await h.hash('lim:{w:w-refund}');
    expect(keyAfter.dr).toBe('1');
    expect(wsAfter.dr).toBe('1');
    expect(keyAfter.tat).toBe(keyBefore.tat);
    expect(wsAfter.tat).toBe(wsBefore.tat);
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
