// Start-up checks that run before Nest boots: a missing database is created, pending migrations run
// (one process at a time, under an advisory lock), and an unreachable Postgres or Redis stops start-up
// with one clear line saying what failed, where, and how to start it.
import { Client } from 'pg';
import Redis from 'ioredis';
import { DataSource, MigrationInterface } from 'typeorm';
import { AppConfig } from '../config/app-config';

export class StartupError extends Error {}

const HOW_TO_START = 'start it with `docker compose up -d postgres redis` (or your own service) and check the URL';
const MIGRATION_LOCK = 7_342_019_001; // arbitrary, constant: serialises migration runs across processes

export function describeUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.hostname}:${u.port || (u.protocol.startsWith('redis') ? 6379 : 5432)}${u.pathname === '/' ? '' : u.pathname}`;
}

export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const target = new URL(databaseUrl);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (e) {
    throw new StartupError(
      `PostgreSQL is unreachable at ${describeUrl(databaseUrl)} (${(e as Error).message}): ${HOW_TO_START} (DATABASE_URL).`,
    );
  }
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    } catch (e) {
      // another process created it between our check and our CREATE
      if ((e as { code?: string }).code !== '42P04') throw e;
    }
    return true;
  } finally {
    await client.end();
  }
}

export async function runMigrations(
  databaseUrl: string,
  migrations: Array<new () => MigrationInterface>,
): Promise<string[]> {
  const ds = new DataSource({ type: 'postgres', url: databaseUrl, migrations, migrationsTableName: 'migrations' });
  await ds.initialize();
  try {
    await ds.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      const ran = await ds.runMigrations({ transaction: 'each' });
      return ran.map((m) => m.name);
    } finally {
      await ds.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    await ds.destroy();
  }
}

export async function checkRedis(redisUrl: string): Promise<void> {
  const client = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 3000,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    throw new StartupError(
      `Redis is unreachable at ${describeUrl(redisUrl)} (${(e as Error).message}): ${HOW_TO_START} (REDIS_URL).`,
    );
  } finally {
    client.disconnect();
  }
}

/** Everything a process checks before it serves: database exists and is migrated, Redis answers. */
export async function preflight(
  config: AppConfig,
  migrations: Array<new () => MigrationInterface>,
  log: (msg: string) => void,
): Promise<void> {
  await checkRedis(config.redisUrl);
  if (await ensureDatabase(config.databaseUrl)) log(`created database "${config.databaseName}"`);
  if (config.migrationsRun) {
    const ran = await runMigrations(config.databaseUrl, migrations);
    if (ran.length) log(`ran ${ran.length} migration(s): ${ran.join(', ')}`);
  }
}
