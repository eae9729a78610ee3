// Every script call the limits make keeps its keys in one Redis Cluster slot (DESIGN.md: "Redis keys use
// hash tags so that a Redis Cluster works"). The calls are recorded from the real services over a fake
// connection; slots are computed as Redis Cluster does (CRC16 of the hash tag).
import type { AppConfig, RedisService } from '@switchyard/core';
import type { LimitsRedis } from './limits-redis';
import { LIMITS_SCRIPTS } from './limits-redis';
import { LimitsService } from './limits.service';
import { RedisThrottlerStorage } from './redis-throttler-storage';
import { keyContext } from './test-key-context';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const calculateSlot = require('cluster-key-slot') as (key: string) => number;

const NOW = 1_900_000_000_000_000;

function fakeConnection() {
  const calls: Array<{ script: string; keys: string[] }> = [];
  const client: Record<string, (...a: string[]) => Promise<unknown>> = {};
  for (const [name, s] of Object.entries(LIMITS_SCRIPTS)) {
    client[name] = (...args: string[]) => {
      calls.push({ script: name, keys: args.slice(0, s.keys) });
      switch (name) {
        case 'syLimitsCheck':
          // grants the rpm places asked for (the last argument)
          return Promise.resolve([NOW, 0, [0, 0, [], 0, 0, 0, '0'], [0, 0, [], 0, 0, 0, '0'], Number(args.at(-1))]);
        case 'syLimitsIp':
          // the net refuses: the check's counters are given back, a third call on the workspace's slot
          return Promise.resolve([NOW, 1, 5, NOW / 1e6 - 60, [5], 0]);
        case 'syThrottler':
          return Promise.resolve([1, 60_000, 0, 0]);
        default:
          return Promise.resolve(1);
      }
    };
  }
  const conn = {
    client,
    // as LimitsRedis does on a Cluster: the check and the per-IP net as two commands
    checkWithIp: (check: string[] | null, ip: string[] | null) =>
      Promise.allSettled([
        check ? client.syLimitsCheck(...check) : Promise.resolve(null),
        ip ? client.syLimitsIp(...ip) : Promise.resolve(null),
      ]),
    onCheckFailure: () => undefined,
    warn: () => undefined,
  } as unknown as LimitsRedis;
  return { conn, calls };
}

describe('Redis Cluster slots', () => {
  it('check, give-back, correction, per-IP and throttler calls each stay in one slot', async () => {
    const { conn, calls } = fakeConnection();
    const config = { defaultKeyRpm: 60, ipRateLimit: 5, ipRateWindowSeconds: 60 } as AppConfig;
    const redis = { key: (...parts: string[]) => 'sy:' + parts.join(':') } as RedisService;
    const limits = new LimitsService(config, redis, conn);
    const key = keyContext(
      { keyId: 'key-1', workspaceId: 'ws-1' },
      { tpm: 100, daily_requests: 5 },
      { rpm: 10, daily_spend: 5n },
    );
    await expect(limits.check(key, '2001:db8::1', { admission: { tokens: 10, spend: 1n } })).rejects.toThrow();
    await expect(limits.checkIpOnly('192.0.2.1')).rejects.toThrow();
    await limits.record(key, { tokens: 3, spend: 1n });
    // a busy key's lease: one place, then two more asked for, one of them unused and given back
    const busy = keyContext({ keyId: 'key-2', workspaceId: 'ws-2' }, { rpm: 100_000 });
    await limits.check(busy, '');
    await limits.check(busy, '');
    await limits.returnUnused(true);
    await new RedisThrottlerStorage(redis, conn).increment('abc', 60_000, 10, 60_000, 'default');

    expect(new Set(calls.map((c) => c.script))).toEqual(new Set(Object.keys(LIMITS_SCRIPTS)));
    for (const c of calls) expect(new Set(c.keys.map(calculateSlot)).size).toBe(1);
    // and the key's counters are not where the address's are: on a Cluster, two commands, never one pipeline
    const check = calls.find((c) => c.script === 'syLimitsCheck')!;
    const ip = calls.find((c) => c.script === 'syLimitsIp')!;
    expect(calculateSlot(check.keys[0])).not.toBe(calculateSlot(ip.keys[0]));
  });
});
