// RedisThrottlerStorage: @nestjs/throttler's increment() contract in Redis, shared by processes, and
// wired through LimitsModule into the ContractThrottlerGuard on a real HTTP route.
import { Controller, Global, INestApplication, Module, Post, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { APP_FILTER } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import {
  AllExceptionsFilter,
  AppConfig,
  createLogger,
  loadConfig,
  LOGGER,
  MetricsService,
  RedisService,
} from '@switchyard/core';
import { ContractThrottlerGuard, LimitsModule, RedisThrottlerStorage } from '@switchyard/limits';
import { LimitsHarness, limitsHarness, newPrefix, sleep } from './limits-harness';

describe('RedisThrottlerStorage', () => {
  let h: LimitsHarness;
  beforeAll(async () => {
    h = await limitsHarness();
  });
  afterAll(() => h.close());

  it('counts hits in a window and blocks past the limit for blockDuration', async () => {
    const s = h.throttler;
    expect(await s.increment('login-a', 60_000, 3, 2_000, 'default')).toEqual({
      totalHits: 1,
      timeToExpire: 60,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
    await s.increment('login-a', 60_000, 3, 2_000, 'default');
    expect((await s.increment('login-a', 60_000, 3, 2_000, 'default')).isBlocked).toBe(false);
    expect(await s.increment('login-a', 60_000, 3, 2_000, 'default')).toEqual({
      totalHits: 4,
      timeToExpire: 2,
      isBlocked: true,
      timeToBlockExpire: 2,
    });
    // blocked attempts are not counted; a name or key of its own is independent
    expect(await s.increment('login-a', 60_000, 3, 2_000, 'default')).toMatchObject({ totalHits: 4, isBlocked: true });
    expect((await s.increment('login-a', 60_000, 3, 2_000, 'burst')).totalHits).toBe(1);
    expect((await s.increment('login-b', 60_000, 3, 2_000, 'default')).totalHits).toBe(1);
    // after the block, a fresh window
    await sleep(2_100);
    expect(await s.increment('login-a', 60_000, 3, 2_000, 'default')).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('the window expires after ttl', async () => {
    const s = h.throttler;
    await s.increment('login-ttl', 300, 5, 300, 'default');
    expect((await s.increment('login-ttl', 300, 5, 300, 'default')).totalHits).toBe(2);
    await sleep(350);
    expect((await s.increment('login-ttl', 300, 5, 300, 'default')).totalHits).toBe(1);
  });

  it('blockDuration 0: refuses until the window ends without counting', async () => {
    const s = h.throttler;
    await s.increment('login-nb', 60_000, 1, 0, 'default');
    expect(await s.increment('login-nb', 60_000, 1, 0, 'default')).toMatchObject({
      totalHits: 2,
      isBlocked: true,
      timeToBlockExpire: 60,
    });
    expect(await h.conn.client.get(`${h.prefix}thr:{login-nb:default}:hits`)).toBe('1');
  });

  it('processes with separate connections share the count', async () => {
    const other = await limitsHarness({ prefix: h.prefix });
    try {
      const calls = [h, other].flatMap((x) =>
        Array.from({ length: 10 }, () => x.throttler.increment('login-shared', 60_000, 5, 60_000, 'default')),
      );
      const results = await Promise.all(calls);
      expect(results.filter((r) => !r.isBlocked)).toHaveLength(5);
    } finally {
      await other.conn.onApplicationShutdown();
      other.redis.onApplicationShutdown();
    }
  });

  describe('through LimitsModule and the ContractThrottlerGuard', () => {
    const prefix = newPrefix();
    let app: INestApplication;
    let base: string;

    @Controller('auth')
    class LoginController {
      @Post('login')
      @UseGuards(ContractThrottlerGuard)
      login() {
        return { token: 't' };
      }
    }

    // what CoreModule provides globally, without its Postgres connection
    const config = loadConfig({ ...process.env, REDIS_PREFIX: prefix });
    @Global()
    @Module({
      providers: [
        { provide: AppConfig, useValue: config },
        { provide: LOGGER, useValue: createLogger('silent') },
        MetricsService,
        RedisService,
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
      exports: [AppConfig, LOGGER, MetricsService, RedisService],
    })
    class FakeCoreModule {}

    beforeAll(async () => {
      const mod = await Test.createTestingModule({
        imports: [
          FakeCoreModule,
          LimitsModule,
          ThrottlerModule.forRootAsync({
            imports: [LimitsModule],
            inject: [RedisThrottlerStorage],
            useFactory: (storage: RedisThrottlerStorage) => ({ throttlers: [{ ttl: 60_000, limit: 2 }], storage }),
          }),
        ],
        controllers: [LoginController],
      }).compile();
      app = mod.createNestApplication({ logger: false });
      app.enableShutdownHooks();
      await app.listen(0, '127.0.0.1');
      base = await app.getUrl();
    });
    afterAll(async () => {
      const client = app.get(RedisService).client;
      const keys = await client.keys(`${prefix}*`);
      if (keys.length) await client.del(...keys);
      await app.close();
    });

    it('the third login attempt in a minute is 429 rate_limit_exceeded with the contract headers, counted in Redis', async () => {
      const replies: Response[] = [];
      for (let i = 0; i < 3; i++) replies.push(await fetch(`${base}/auth/login`, { method: 'POST' }));
      expect(replies.map((r) => r.status)).toEqual([201, 201, 429]);
      const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
      // X-RateLimit-Reset is a time (ISO 8601), not the library's seconds to go
      expect(replies[0].headers.get('x-ratelimit-limit')).toBe('2');
      expect(replies[1].headers.get('x-ratelimit-remaining')).toBe('0');
      const reset = replies[0].headers.get('x-ratelimit-reset')!;
      expect(reset).toMatch(iso);
      expect(Math.abs(Date.parse(reset) - (Date.now() + 60_000))).toBeLessThan(3000);
      const refused = replies[2];
      expect(await refused.json()).toMatchObject({ error: { code: 'rate_limit_exceeded', param: null } });
      expect(refused.headers.get('retry-after')).toBe('60');
      expect(refused.headers.get('x-ratelimit-limit')).toBe('2');
      expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(refused.headers.get('x-ratelimit-reset')).toMatch(iso);
      expect((await app.get(RedisService).client.keys(`${prefix}thr:*`)).length).toBeGreaterThan(0);
    });
  });
});
