// The limits' own Redis connection, tuned to fail fast: no offline queue (a command fails at once while
// disconnected), no resend after a reconnect (a script must not run twice), and a short command
// timeout. The shared RedisService client waits up to a second, too long to decide "fail open".
// A Redis Cluster client when REDIS_CLUSTER=true: every script call keeps its keys in one slot.
// Also the one place that applies LIMITS_ON_REDIS_FAILURE.
import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import {
  AppConfig,
  createRedisClient,
  GatewayError,
  LOGGER,
  Logger,
  MetricsService,
  RedisClient,
} from '@switchyard/core';
import { ADJUST_LUA } from './adjust.lua';
import { CHECK_LUA } from './check.lua';
import { IP_LUA } from './ip.lua';
import { RETURN_LUA } from './return.lua';
import { THROTTLER_LUA } from './throttler.lua';

export const LIMITS_COMMAND_TIMEOUT_MS = 250;
const WARN_EVERY_MS = 60_000;

/** The scripts as ioredis commands: EVALSHA, with EVAL when the script is not loaded yet. */
export const LIMITS_SCRIPTS = {
  syLimitsCheck: { lua: CHECK_LUA, keys: 2 },
  syLimitsAdjust: { lua: ADJUST_LUA, keys: 2 },
  syLimitsIp: { lua: IP_LUA, keys: 1 },
  syLimitsReturn: { lua: RETURN_LUA, keys: 1 },
  syThrottler: { lua: THROTTLER_LUA, keys: 2 },
} as const;

export type LimitsScript = keyof typeof LIMITS_SCRIPTS;
type ScriptCalls<R> = { [K in LimitsScript]: (...keysThenArgs: string[]) => R };

@Injectable()
export class LimitsRedis implements OnModuleInit, OnApplicationShutdown {
  readonly client: RedisClient & ScriptCalls<Promise<unknown>>;
  private lastWarnAt = 0;
  private failuresSinceWarn = 0;

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    const client = createRedisClient(config, {
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      commandTimeout: LIMITS_COMMAND_TIMEOUT_MS,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    // connection errors surface as failed commands; the policy below logs them, at most once a minute
    client.on('error', () => undefined);
    for (const [name, s] of Object.entries(LIMITS_SCRIPTS))
      client.defineCommand(name, { lua: s.lua, numberOfKeys: s.keys });
    this.client = client as RedisClient & ScriptCalls<Promise<unknown>>;
  }

  /** Waits (briefly) for the connection, so the first requests after start are really limited. */
  async onModuleInit(): Promise<void> {
    await this.ready(3000);
  }

  ready(timeoutMs: number): Promise<boolean> {
    if (this.client.status === 'ready') return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.client.off('ready', onReady);
        resolve(ok);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.client.on('ready', onReady);
    });
  }

  /**
   * The admission check and the per-IP net (either may be null: served from a lease), sent together.
   * Standalone Redis: one pipeline, one write and one wake-up of Redis per request. A Cluster keeps them
   * apart (their keys live in different slots), issued concurrently: still one round trip of wall time.
   */
  async checkWithIp(
    check: string[] | null,
    ip: string[] | null,
  ): Promise<[PromiseSettledResult<unknown>, PromiseSettledResult<unknown>]> {
    if (this.config.redisCluster || !ip || !check) {
      return (await Promise.allSettled([
        check ? this.client.syLimitsCheck(...check) : Promise.resolve(null),
        ip ? this.client.syLimitsIp(...ip) : Promise.resolve(null),
      ])) as [PromiseSettledResult<unknown>, PromiseSettledResult<unknown>];
    }
    const p = this.client.pipeline() as unknown as ScriptCalls<unknown> & {
      exec(): Promise<Array<[Error | null, unknown]> | null>;
    };
    p.syLimitsCheck(...check);
    p.syLimitsIp(...ip);
    let replies: Array<[Error | null, unknown]> | null;
    try {
      replies = await p.exec();
    } catch (e) {
      return [
        { status: 'rejected', reason: e },
        { status: 'rejected', reason: e },
      ];
    }
    const settle = (r: [Error | null, unknown] | undefined): PromiseSettledResult<unknown> =>
      !r
        ? { status: 'rejected', reason: new Error('no reply') }
        : r[0]
          ? { status: 'rejected', reason: r[0] }
          : { status: 'fulfilled', value: r[1] };
    return [settle(replies?.[0]), settle(replies?.[1])];
  }

  /**
   * Redis could not answer a limit check. 'open': serve (the caller gets no limit headers); 'closed':
   * 503 service_unavailable with Retry-After. Counted in limits_redis_failures_total either way.
   */
  onCheckFailure(err: unknown): void {
    const policy = this.config.limitsOnRedisFailure;
    this.metrics.limiterFailures.inc({ policy });
    this.warn(err, policy === 'open' ? 'serving without rate limits' : 'refusing requests (503)');
    if (policy === 'closed') {
      throw new GatewayError(
        'service_unavailable',
        'Rate limiting is temporarily unavailable. Please retry shortly.',
        null,
        {
          'Retry-After': '5',
        },
      );
    }
  }

  /** Logs at most once a minute, with how many failures it stood for. */
  warn(err: unknown, consequence: string): void {
    this.failuresSinceWarn++;
    const now = Date.now();
    if (now - this.lastWarnAt < WARN_EVERY_MS) return;
    this.logger.warn(
      {
        err: err instanceof Error ? err.message : String(err),
        failures: this.failuresSinceWarn,
        policy: this.config.limitsOnRedisFailure,
      },
      `limits: Redis unavailable, ${consequence}`,
    );
    this.lastWarnAt = now;
    this.failuresSinceWarn = 0;
  }

  /** QUIT lets the last fire-and-forget records finish; a connection that cannot is dropped. */
  async onApplicationShutdown(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
