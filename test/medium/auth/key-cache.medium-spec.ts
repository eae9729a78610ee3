// The /v1 key check on real Postgres and Redis: a warm key costs no database round trip (counted at the
// connection pool: no checkout, no statement), and when an invalidation never arrives (a lost pub/sub
// message, a partitioned process) a revoked key is still refused within KEY_CACHE_TTL_MS.
import { randomBytes } from 'node:crypto';
import { Test, TestingModule } from '@nestjs/testing';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { ApiKeysService, AuthModule, KeyAuthService } from '@switchyard/auth';
import { CoreModule, GatewayError, createLogger, loadConfig } from '@switchyard/core';
import { AdminPrincipal, TenancyService } from '@switchyard/tenancy';
import { freshDatabase } from '../../setup/test-db';

const ADMIN: AdminPrincipal = {
  userId: 'test',
  email: 'test',
  role: 'platform_admin',
  agentId: null,
  tokenId: 'test',
  tokenKind: 'api',
};

interface KeyApp {
  app: TestingModule;
  auth: KeyAuthService;
  /** pool checkouts since start: every statement TypeORM sends takes one */
  checkouts: () => number;
  /** a fresh key of a fresh workspace, written through the real services */
  newKey: () => Promise<{ key: string; id: string }>;
  db: DataSource;
}

async function keyApp(url: string, ttlMs: number): Promise<KeyApp> {
  const config = loadConfig({
    ...process.env,
    NODE_ENV: 'test',
    DATABASE_URL: url,
    REDIS_PREFIX: `sy:test:${randomBytes(4).toString('hex')}:`,
    KEY_CACHE_TTL_MS: String(ttlMs),
  });
  const app = await Test.createTestingModule({
    imports: [CoreModule.forRoot({ config, logger: createLogger('silent') }), AuthModule],
  }).compile();
  await app.init();
  const db = app.get(DataSource);
  let n = 0;
  (db.driver as unknown as { master: Pool }).master.on('acquire', () => n++);
  const tenancy = app.get(TenancyService);
  const keys = app.get(ApiKeysService);
  let seq = 0;
  return {
    app,
    db,
    auth: app.get(KeyAuthService),
    checkouts: () => n,
    newKey: async () => {
      const { agent } = await tenancy.createAgent({
        name: `a${++seq}`,
        email: `a${seq}-${randomBytes(3).toString('hex')}@medium.test`,
        password: 'a-password-1',
      });
      const ws = await tenancy.createWorkspace(ADMIN, { name: 'w', agent_id: agent.id });
      const { key, record } = await keys.issue(ws.id, { name: 'k' });
      return { key, id: record.id };
    },
  };
}

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof GatewayError) return `${e.code}: ${e.message}`;
    throw e;
  }
}

describe('key cache', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  beforeAll(async () => {
    database = await freshDatabase();
  });
  afterAll(() => database.drop());

  it('a warm key costs no database round trip; a cold one costs exactly one', async () => {
    const k = await keyApp(database.url, 60_000);
    try {
      const { key } = await k.newKey();
      const before = k.checkouts();
      const ctx = await k.auth.authenticate(key);
      expect(k.checkouts() - before).toBe(1);
      const warm = k.checkouts();
      for (let i = 0; i < 500; i++) expect(await k.auth.authenticate(key)).toBe(ctx);
      expect(k.checkouts() - warm).toBe(0);
      // unknown keys are cached too (briefly): probing with one does not reach Postgres each time
      const unknown = 'sk-sy-' + 'N'.repeat(40);
      await outcome(k.auth.authenticate(unknown));
      const probed = k.checkouts();
      for (let i = 0; i < 50; i++) expect(await outcome(k.auth.authenticate(unknown))).toMatch(/^invalid_api_key/);
      expect(k.checkouts() - probed).toBe(0);
    } finally {
      await k.app.close();
    }
  });

  it('without its invalidation, a revoked key is refused within KEY_CACHE_TTL_MS', async () => {
    const ttl = 1000;
    const k = await keyApp(database.url, ttl);
    try {
      const { key, id } = await k.newKey();
      expect(await outcome(k.auth.authenticate(key))).toBe('ok');
      // revoked behind the service's back: nothing is published, as when the pub/sub message is lost
      await k.db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [id]);
      const revokedAt = Date.now();
      expect(await outcome(k.auth.authenticate(key))).toBe('ok'); // served from the cache, as designed
      let last = 'ok';
      while (last === 'ok' && Date.now() - revokedAt < 3 * ttl) {
        await new Promise((r) => setTimeout(r, 10));
        last = await outcome(k.auth.authenticate(key));
      }
      const ms = Date.now() - revokedAt;
      expect(last).toBe('invalid_api_key: This API key has been revoked.');
      expect(ms).toBeLessThan(ttl);
      // the bound comes from the cache age (a background reload after TTL/2), not from an invalidation
      expect(ms).toBeGreaterThanOrEqual(ttl / 2 - 50);
    } finally {
      await k.app.close();
    }
  });
});
