// Throwaway databases for tests: one migrated template per run, one clone per test file.
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { ensureDatabase, runMigrations } from '../../libs/core/src/database/preflight';
import { MIGRATIONS } from '../../migrations';

export const PG_BASE = process.env.SY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';

export function dbUrl(name: string): string {
  return `${PG_BASE}/${name}`;
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: dbUrl('postgres') });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function createTemplateDatabase(): Promise<string> {
  const name = `sy_test_tpl_${randomBytes(4).toString('hex')}`;
  await ensureDatabase(dbUrl(name));
  await runMigrations(dbUrl(name), MIGRATIONS);
  // a template must have no open connections when cloned
  return name;
}

export async function cloneDatabase(template: string): Promise<string> {
  const name = `sy_test_${randomBytes(5).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`));
  return name;
}

export async function dropDatabase(name: string): Promise<void> {
  await admin(async (c) => {
    await c.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [name],
    );
    await c.query(`DROP DATABASE IF EXISTS "${name}"`);
  });
}

/** A fresh migrated database for one test file; the name and a drop function. */
export async function freshDatabase(): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const template = process.env.SY_TEST_TEMPLATE_DB;
  if (!template) throw new Error('SY_TEST_TEMPLATE_DB is not set: run through jest (globalSetup creates it)');
  const name = await cloneDatabase(template);
  return { name, url: dbUrl(name), drop: () => dropDatabase(name) };
}
