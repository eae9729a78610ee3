// Builds LimitsService the way LimitsModule does, on real Redis, under a key prefix of its own so that
// test files never share counters; close() deletes the prefix's keys and closes the connections.
import { randomBytes } from 'node:crypto';
import type { DestinationStream } from 'pino';
import { AppConfig, createLogger, loadConfig, MetricsService, RedisService } from '@switchyard/core';
import { LimitsRedis, LimitsService, RedisThrottlerStorage } from '@switchyard/limits';

export interface LimitsHarness {
  config: AppConfig;
  prefix: string;
  metrics: MetricsService;
  redis: RedisService;
  conn: LimitsRedis;
  service: LimitsService;
  throttler: RedisThrottlerStorage;
  /** HGETALL of a limits hash by its name after the prefix */
  hash(name: string): Promise<Record<string, string>>;
  close(): Promise<void>;
}

export function newPrefix(): string {
  return `sy:test:${randomBytes(5).toString('hex')}:`;
}

export async function limitsHarness(
  opts: { prefix?: string; env?: Record<string, string>; logTo?: DestinationStream; waitReady?: boolean } = {},
): Promise<LimitsHarness> {
  const prefix = opts.prefix ?? newPrefix();
  const config = loadConfig({ ...process.env, REDIS_PREFIX: prefix, ...opts.env });
  const logger = createLogger(opts.logTo ? 'warn' : 'silent', opts.logTo);
  const metrics = new MetricsService();
  const redis = new RedisService(config, logger);
  const conn = new LimitsRedis(config, metrics, logger);
  if (opts.waitReady !== false) {
    if (!(await conn.ready(3000))) throw new Error(`Redis not reachable at ${config.redisUrl}`);
  }
  return {
    config,
    prefix,
    metrics,
    redis,
    conn,
    service: new LimitsService(config, redis, conn),
    throttler: new RedisThrottlerStorage(redis, conn),
    hash: (name) => conn.client.hgetall(prefix + name),
    async close() {
      if (conn.client.status === 'ready') await deletePrefix(conn, prefix);
      await conn.onApplicationShutdown();
      redis.onApplicationShutdown();
    },
  };
}

async function deletePrefix(conn: LimitsRedis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await conn.client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length) await conn.client.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** Runs a check; the headers when allowed, the error when refused. */
export async function attempt(
  p: Promise<unknown>,
): Promise<{ ok: boolean; headers: Record<string, string>; error?: unknown }> {
  try {
    const d = (await p) as { headers: Record<string, string> } | undefined;
    return { ok: true, headers: d?.headers ?? {} };
  } catch (error) {
    return { ok: false, headers: (error as { headers?: Record<string, string> }).headers ?? {}, error };
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function counterValue(metrics: MetricsService, policy: 'open' | 'closed'): Promise<number> {
  const m = await metrics.limiterFailures.get();
  return m.values.find((v) => v.labels.policy === policy)?.value ?? 0;
}

export { keyContext } from '../../../libs/limits/src/test-key-context';
