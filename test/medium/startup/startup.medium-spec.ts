// Start-up fails with one clear line naming what failed, where, and how to start it; a missing
// database is created; invalid settings are listed.
import { randomBytes } from 'node:crypto';
import { ConfigError, StartupError, checkRedis, ensureDatabase, loadConfig } from '@switchyard/core';
import { runFromCli } from '../../../apps/switchyard';
import { PG_BASE, dropDatabase } from '../../setup/test-db';

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
    expect(() => loadConfig({ MASTER_KEY: 'short' })).toThrow(/MASTER_KEY/);
    expect(loadConfig({ NODE_ENV: 'production', MASTER_KEY: 'ab'.repeat(32) }).masterKey).toHaveLength(32);
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
