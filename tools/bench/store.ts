// The bench's own database and Redis keys: a sanity read of what the gateway recorded, then removal.
import Redis from 'ioredis';
import { Client } from 'pg';

async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export interface Recorded {
  usage: Array<{ model: string | null; stream: boolean; rows: number; cost_nanos: string; errors: number }>;
  ledgerTransactions: number;
  holdsOutstanding: number;
}

/** What the gateway wrote: usage rows per model and stream, ledger transactions, holds left open. */
export async function recorded(databaseUrl: string): Promise<Recorded> {
  return withClient(databaseUrl, async (c) => {
    const u = await c.query<{ model: string | null; stream: boolean; rows: string; cost: string; errors: string }>(
      `SELECT model_requested AS model, stream, count(*) AS rows, coalesce(sum(cost), 0)::text AS cost,
              count(*) FILTER (WHERE status >= 400) AS errors
         FROM usage_log GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    const t = await c.query<{ n: string }>('SELECT count(*) AS n FROM ledger_transactions');
    const h = await c.query<{ n: string }>('SELECT count(*) AS n FROM holds');
    return {
      usage: u.rows.map((r) => ({
        model: r.model,
        stream: r.stream,
        rows: Number(r.rows),
        cost_nanos: r.cost,
        errors: Number(r.errors),
      })),
      ledgerTransactions: Number(t.rows[0].n),
      holdsOutstanding: Number(h.rows[0].n),
    };
  });
}

export async function serverVersions(
  pgBase: string,
  redisUrl: string,
): Promise<{ postgres: string | null; redis: string | null }> {
  const postgres = await withClient(
    `${pgBase}/postgres`,
    async (c) => (await c.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0].v,
  ).catch(() => null);
  const r = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  r.on('error', () => undefined);
  const redis = await r
    .connect()
    .then(async () => /redis_version:(\S+)/.exec(await r.info('server'))?.[1] ?? null)
    .catch(() => null)
    .finally(() => r.disconnect());
  return { postgres, redis };
}

export async function dropDatabase(pgBase: string, name: string): Promise<void> {
  await withClient(`${pgBase}/postgres`, async (c) => {
    await c.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [name],
    );
    await c.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}"`);
  });
}

/** Deletes every key under the prefix, and BullMQ's `{prefix...}` keys. Returns how many. */
export async function deleteRedisKeys(redisUrl: string, prefix: string): Promise<number> {
  const r = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  r.on('error', () => undefined);
  await r.connect();
  let deleted = 0;
  try {
    for (const pattern of [`${escapeGlob(prefix)}*`, `{${escapeGlob(prefix)}*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (keys.length) deleted += await r.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    r.disconnect();
  }
  return deleted;
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, (m) => `\\${m}`);
}
