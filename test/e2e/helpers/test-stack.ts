// The whole product for one e2e test file: a fresh migrated database, a private Redis key prefix, the
// demo upstream on a random port, and Switchyard (gateway, admin, worker) in this process on a random
// port, with the default catalog pointed at the demo upstream. Real parts everywhere, no mocks.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { startDemoUpstream, DemoUpstream } from '../../../tools/demo-upstream';
import { startSwitchyard, AppName } from '../../../apps/switchyard';
import { freshDatabase } from '../../setup/test-db';

export const ADMIN_EMAIL = 'admin@e2e.test';
export const ADMIN_PASSWORD = 'admin-password-e2e-1';
const ROOT = join(__dirname, '../../..');

export interface TestStack {
  url: string;
  upstream: DemoUpstream;
  db: DataSource;
  redis: Redis;
  redisPrefix: string;
  logs: string[];
  app: Awaited<ReturnType<typeof startSwitchyard>>;
  /** a second Switchyard process on the same database and Redis (multi-process tests) */
  startPeer(env?: Record<string, string>): Promise<Awaited<ReturnType<typeof startSwitchyard>>>;
  close(): Promise<void>;
}

export interface StackOptions {
  env?: Record<string, string>;
  apps?: AppName[];
  /** extra YAML appended to a catalog file (providers/models) */
  catalogFile?: string;
}

export async function startStack(opts: StackOptions = {}): Promise<TestStack> {
  const database = await freshDatabase();
  const upstream = await startDemoUpstream({ port: 0 });
  const redisPrefix = `sy:e2e:${randomBytes(4).toString('hex')}:`;
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString('utf8'));
      cb();
    },
  });
  const u = upstream.url;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    DATABASE_POOL_SIZE: '10',
    REDIS_URL: process.env.SY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: redisPrefix,
    MIGRATIONS_RUN: 'false',
    LOG_LEVEL: 'info',
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    CATALOG_FILE: opts.catalogFile ?? join(ROOT, 'catalog', 'default.yaml'),
    OPENAI_BASE_URL: `${u}/v1`,
    ANTHROPIC_BASE_URL: u,
    GEMINI_BASE_URL: u,
    DEEPSEEK_BASE_URL: `${u}/v1`,
    QWEN_EMBED_BASE_URL: `${u}/v1`,
    DEMO_UPSTREAM_URL: u,
    OPENAI_API_KEY: 'sk-upstream-openai-secret',
    ANTHROPIC_API_KEY: 'sk-ant-upstream-secret',
    GEMINI_API_KEY: 'AIza-upstream-gemini-secret',
    DEEPSEEK_API_KEY: 'sk-upstream-deepseek-secret',
    QWEN_EMBED_API_KEY: 'upstream-qwen-secret',
    USAGE_FLUSH_MS: '50',
    // wallet leases post and go idle quickly, so tests can read settled balances within a second
    LEASE_FLUSH_MS: '50',
    LEASE_IDLE_MS: '300',
    DOCS_ENABLED: 'true',
    SHUTDOWN_GRACE_MS: '5000',
    ...opts.env,
  };
  const start = (extra: Record<string, string> = {}) =>
    startSwitchyard({
      apps: opts.apps ?? ['gateway', 'admin', 'worker'],
      env: { ...env, ...extra },
      logDestination: sink,
      port: 0,
    });
  const app = await start();
  const db = new DataSource({ type: 'postgres', url: database.url, extra: { max: 5 } });
  await db.initialize();
  const redis = new Redis(env.REDIS_URL!);
  const peers: Array<Awaited<ReturnType<typeof startSwitchyard>>> = [];
  return {
    url: app.url,
    upstream,
    db,
    redis,
    redisPrefix,
    logs,
    app,
    async startPeer(extra = {}) {
      const p = await start(extra);
      peers.push(p);
      return p;
    },
    async close() {
      for (const p of peers) await p.shutdown('test end').catch(() => undefined);
      await app.shutdown('test end').catch(() => undefined);
      await upstream.close();
      await db.destroy();
      const keys = await redis.keys(`${redisPrefix}*`);
      const bull = await redis.keys(`{${redisPrefix}bull}*`);
      for (let i = 0; i < keys.length + bull.length; i += 500) {
        const batch = [...keys, ...bull].slice(i, i + 500);
        if (batch.length) await redis.del(...batch);
      }
      redis.disconnect();
      await database.drop();
    },
  };
}
