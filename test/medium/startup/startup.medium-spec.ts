// Start-up fails with one clear line naming what failed, where, and how to start it; a missing
// database is created (asking the server for nothing else when it exists); migrations run at start
// unless MIGRATIONS_RUN=false; invalid settings are listed.
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  ConfigError,
  StartupError,
  checkRedis,
  ensureDatabase,
  loadConfig,
  preflight,
  runMigrations,
} from '@switchyard/core';
import { MIGRATIONS } from '../../../migrations';
import { runFromCli, startupFailure } from '../../../apps/switchyard';
import { TcpProxy } from '../../helpers/tcp-proxy';
import { PG_BASE, dropDatabase } from '../../setup/test-db';

const newName = (what: string) => `sy_test_${what}_${randomBytes(4).toString('hex')}`;

async function migrationsTable(db: string): Promise<string[] | null> {
  const c = new Client({ connectionString: `${PG_BASE}/${db}` });
  await c.connect();
  try {
    const exists = await c.query(`SELECT to_regclass('public.migrations') IS NOT NULL AS t`);
    if (!exists.rows[0].t) return null;
    return (await c.query('SELECT name FROM migrations ORDER BY id')).rows.map((r: { name: string }) => r.name);
  } finally {
    await c.end();
  }
}

class BrokenMigration1999999999999 implements MigrationInterface {
  name = 'BrokenMigration1999999999999';
  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE half_done (id int)');
    await q.query('SELECT * FROM no_such_table');
  }
  async down(): Promise<void> {}
}

describe('start-up', () => {
  it('names every invalid setting in one error', () => {
    expect(() => loadConfig({ PORT: 'http', LIMITS_ON_REDIS_FAILURE: 'maybe', DATABASE_URL: 'nope' })).toThrow(
      ConfigError,
    );
    try {
      loadConfig({ PORT: 'http', LIMITS_ON_REDIS_FAILURE: 'maybe', DATABASE_URL: 'nope' });
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toMatch(/PORT/);
      expect(msg).toMatch(/LIMITS_ON_REDIS_FAILURE/);
      expect(msg).toMatch(/DATABASE_URL/);
      expect(msg.split('\n')).toHaveLength(1);
    }
  });

  it('requires MASTER_KEY in production, and a well-formed one anywhere', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/MASTER_KEY/);
    // the demo lifts nothing in production: it is refused there
    expect(() => loadConfig({ NODE_ENV: 'production', DEMO: '1' })).toThrow(/MASTER_KEY.*DEMO|DEMO.*MASTER_KEY/);
    expect(() => loadConfig({ NODE_ENV: 'production', DEMO: '1', MASTER_KEY: 'ab'.repeat(32) })).toThrow(
      /DEMO: the demo never runs with NODE_ENV=production/,
    );
    expect(loadConfig({ DEMO: '1' }).demo).toBe(true);
    expect(() => loadConfig({ MASTER_KEY: 'short' })).toThrow(/MASTER_KEY/);
    expect(loadConfig({ NODE_ENV: 'production', MASTER_KEY: 'ab'.repeat(32) }).masterKey).toHaveLength(32);
  });

  it("reads catalog/default.yaml when CATALOG_FILE is unset, and none when it says 'none'", () => {
    expect(loadConfig({}).catalogFile).toMatch(/[/\\]catalog[/\\]default\.yaml$/);
    expect(loadConfig({ CATALOG_FILE: 'none' }).catalogFile).toBeUndefined();
    expect(loadConfig({ CATALOG_FILE: '/etc/my.yaml' }).catalogFile).toBe('/etc/my.yaml');
  });

  it('reports an unreachable Postgres and Redis with where and how to start them', async () => {
    await expect(ensureDatabase('postgres://postgres@127.0.0.1:1/switchyard')).rejects.toThrow(StartupError);
    await expect(ensureDatabase('postgres://postgres@127.0.0.1:1/switchyard')).rejects.toThrow(
      /PostgreSQL is unreachable at postgres:\/\/127\.0\.0\.1:1\/switchyard .*docker compose up -d postgres redis/,
    );
    await expect(checkRedis('redis://127.0.0.1:1')).rejects.toThrow(
      /Redis is unreachable at redis:\/\/127\.0\.0\.1:1 .*docker compose up -d postgres redis/,
    );
  });

  it('tells refused credentials apart from an unreachable server', async () => {
    const url = PG_BASE.replace('postgres@', 'no_such_role_sy@') + '/postgres';
    const e = (await ensureDatabase(url).catch((x: unknown) => x)) as Error;
    expect(e).toBeInstanceOf(StartupError);
    expect(e.message).toMatch(
      /^PostgreSQL at postgres:\/\/127\.0\.0\.1:5432\/postgres refused role "no_such_role_sy" \(.*\): check the user and password in DATABASE_URL/,
    );
    expect(e.message).not.toMatch(/unreachable/);
    expect(e.message.split('\n')).toHaveLength(1);
  });

  it('connects to the target database first, and to "postgres" only to create a missing one', async () => {
    const proxy = await TcpProxy.for(PG_BASE).start();
    const name = newName('target');
    try {
      const url = proxy.via(`${PG_BASE}/${name}`);
      expect(await ensureDatabase(url)).toBe(true);
      expect(proxy.postgresDatabases()).toEqual([name, 'postgres']);
      proxy.firstPackets.length = 0;
      // an existing database: nothing but the target is asked for (a role may be refused "postgres")
      expect(await ensureDatabase(url)).toBe(false);
      expect(proxy.postgresDatabases()).toEqual([name]);
    } finally {
      await proxy.close();
      await dropDatabase(name);
    }
  });

  it('runs the migrations at start, once, and MIGRATIONS_RUN=false skips them', async () => {
    const name = newName('migrate');
    const env = {
      DATABASE_URL: `${PG_BASE}/${name}`,
      REDIS_URL: process.env.SY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    };
    const log: string[] = [];
    try {
      await preflight(loadConfig({ ...env, MIGRATIONS_RUN: 'false' }), MIGRATIONS, (m) => log.push(m));
      expect(log).toEqual([`created database "${name}"`]);
      expect(await migrationsTable(name)).toBeNull();

      await preflight(loadConfig(env), MIGRATIONS, (m) => log.push(m));
      expect(await migrationsTable(name)).toEqual(MIGRATIONS.map((m) => m.name));
      expect(log[1]).toBe(`ran ${MIGRATIONS.length} migration(s): ${MIGRATIONS.map((m) => m.name).join(', ')}`);

      await preflight(loadConfig(env), MIGRATIONS, (m) => log.push(m));
      expect(log).toHaveLength(2); // nothing left to run
    } finally {
      await dropDatabase(name);
    }
  });

  it('a failed migration is one line naming it and the database, and nothing of it stays applied', async () => {
    const name = newName('broken');
    const url = `${PG_BASE}/${name}`;
    try {
      await ensureDatabase(url);
      const e = (await runMigrations(url, [...MIGRATIONS, BrokenMigration1999999999999]).catch(
        (x: unknown) => x,
      )) as Error;
      expect(e).toBeInstanceOf(StartupError);
      expect(e.message).toMatch(
        /^migration BrokenMigration1999999999999 failed on postgres:\/\/127\.0\.0\.1:5432\/sy_test_broken_\w+: relation "no_such_table" does not exist \(nothing of it was applied/,
      );
      expect(startupFailure(e).split('\n')).toHaveLength(1);
      expect(await migrationsTable(name)).toEqual(MIGRATIONS.map((m) => m.name)); // the good ones stay
      const c = new Client({ connectionString: url });
      await c.connect();
      expect((await c.query(`SELECT to_regclass('public.half_done') AS t`)).rows[0].t).toBeNull();
      await c.end();
    } finally {
      await dropDatabase(name);
    }
  });

  it('creates a missing database once', async () => {
    const name = `sy_test_create_${randomBytes(4).toString('hex')}`;
    try {
      expect(await ensureDatabase(`${PG_BASE}/${name}`)).toBe(true);
      expect(await ensureDatabase(`${PG_BASE}/${name}`)).toBe(false);
    } finally {
      await dropDatabase(name);
    }
  });

  it('the CLI prints one line and exits 1 when a dependency is down', async () => {
    const saved = { ...process.env };
    const exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      process.env.DATABASE_URL = 'postgres://postgres@127.0.0.1:1/switchyard';
      process.env.REDIS_URL = 'redis://127.0.0.1:6379';
      await runFromCli(['gateway']);
      expect(exit).toHaveBeenCalledWith(1);
      const out = stderr.mock.calls.map((c) => String(c[0])).join('');
      expect(out).toMatch(/^switchyard: PostgreSQL is unreachable at postgres:\/\/127\.0\.0\.1:1\/switchyard/);
      expect(out.trim().split('\n')).toHaveLength(1);
    } finally {
      exit.mockRestore();
      stderr.mockRestore();
      process.env = saved;
    }
  });
});
