// Start-up checks that run before Nest boots: a missing database is created, pending migrations run
// (one process at a time, under an advisory lock), and an unreachable Postgres or Redis stops start-up
// with one clear line saying what failed, where, and how to fix it.
import { Client } from 'pg';
import Redis from 'ioredis';
import { DataSource, Logger, MigrationInterface } from 'typeorm';
import { AppConfig } from '../config/app-config';

export class StartupError extends Error {}

const HOW_TO_START = 'start it with `docker compose up -d postgres redis` (or your own service) and check the URL';
const MIGRATION_LOCK = 7_342_019_001; // arbitrary, constant: serialises migration runs across processes

export function describeUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.hostname}:${u.port || (u.protocol.startsWith('redis') ? 6379 : 5432)}${u.pathname === '/' ? '' : u.pathname}`;
}

/** One line of an error's message: what pg or TypeORM said, without the SQL or a stack. */
function oneLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.replace(/\s+/g, ' ').trim();
}

// SQLSTATEs that mean "reachable, but these credentials may not connect"
const AUTH_CODES = new Set(['28P01', '28000']);

/** Why a connection to Postgres failed, as the one line start-up prints. */
export function postgresConnectError(databaseUrl: string, e: unknown): StartupError {
  const where = describeUrl(databaseUrl);
  const code = (e as { code?: unknown }).code;
  const user = decodeURIComponent(new URL(databaseUrl).username) || 'postgres';
  if (typeof code === 'string' && AUTH_CODES.has(code)) {
    return new StartupError(
      `PostgreSQL at ${where} refused role "${user}" (${oneLine(e)}): check the user and password in DATABASE_URL, or create the role.`,
    );
  }
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    return new StartupError(`PostgreSQL at ${where} refused the connection (${oneLine(e)}): check DATABASE_URL.`);
  }
  return new StartupError(`PostgreSQL is unreachable at ${where} (${oneLine(e)}): ${HOW_TO_START} (DATABASE_URL).`);
}

async function connect(url: string): Promise<Client> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined); // a connection lost later surfaces on the next query instead
  try {
    await client.connect();
    return client;
  } catch (e) {
    await client.end().catch(() => undefined);
    throw e;
  }
}

/**
 * The target database exists when we can connect to it: nothing else is asked of the server (a role
 * may own its database and still be refused the maintenance database). Only when Postgres says it does
 * not exist (3D000) is the maintenance database `postgres` used to create it. True when it was created.
 */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
  try {
    await (await connect(databaseUrl)).end();
    return false;
  } catch (e) {
    if ((e as { code?: string }).code !== '3D000') throw postgresConnectError(databaseUrl, e);
  }
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  let client: Client;
  try {
    client = await connect(admin.toString());
  } catch (e) {
    throw new StartupError(
      `database "${name}" does not exist at ${describeUrl(databaseUrl)} and cannot be created (${oneLine(e)}): create it, or let DATABASE_URL's role connect to the "postgres" database.`,
    );
  }
  try {
    await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    return true;
  } catch (e) {
    // another process created it between our check and our CREATE
    if ((e as { code?: string }).code === '42P04') return false;
    throw new StartupError(
      `database "${name}" does not exist at ${describeUrl(databaseUrl)} and cannot be created (${oneLine(e)}): create it, or grant the role CREATEDB.`,
    );
  } finally {
    await client.end();
  }
}

/** Migration names in the order TypeORM runs them (by the timestamp that ends each class name). */
function byTimestamp(migrations: Array<new () => MigrationInterface>): string[] {
  const stamp = (n: string) => Number(/(\d{13})$/.exec(n)?.[1] ?? 0);
  return migrations.map((m) => m.name).sort((a, b) => stamp(a) - stamp(b));
}

const SILENT: Logger = {
  logQuery: () => undefined,
  logQueryError: () => undefined,
  logQuerySlow: () => undefined,
  logSchemaBuild: () => undefined,
  logMigration: () => undefined,
  log: () => undefined,
};

export async function runMigrations(
  databaseUrl: string,
  migrations: Array<new () => MigrationInterface>,
): Promise<string[]> {
  const ds = new DataSource({
    type: 'postgres',
    url: databaseUrl,
    migrations,
    migrationsTableName: 'migrations',
    logger: SILENT, // TypeORM prints migration failures itself; ours is the one line start-up shows
  });
  try {
    await ds.initialize();
  } catch (e) {
    throw postgresConnectError(databaseUrl, e);
  }
  try {
    await ds.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      return (await ds.runMigrations({ transaction: 'each' })).map((m) => m.name);
    } catch (e) {
      // each migration runs in its own transaction: the failed one is the first still not applied
      const applied = new Set(
        ((await ds.query('SELECT name FROM migrations').catch(() => [])) as Array<{ name: string }>).map((r) => r.name),
      );
      const failed = byTimestamp(migrations).find((n) => !applied.has(n)) ?? 'a migration';
      throw new StartupError(
        `migration ${failed} failed on ${describeUrl(databaseUrl)}: ${oneLine(e)} (nothing of it was applied; fix the database or the migration, then start again)`,
      );
    } finally {
      await ds.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
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
    const refused = /NOAUTH|WRONGPASS|invalid password|invalid username/i.test(oneLine(e));
    throw new StartupError(
      refused
        ? `Redis at ${describeUrl(redisUrl)} refused the credentials (${oneLine(e)}): check the user and password in REDIS_URL.`
        : `Redis is unreachable at ${describeUrl(redisUrl)} (${oneLine(e)}): ${HOW_TO_START} (REDIS_URL).`,
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
