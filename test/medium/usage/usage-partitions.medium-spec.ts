// Monthly partitions of usage_log: created ahead at start, rows landing in them rather than in the
// DEFAULT partition, and the move of rows the default already holds when a month's partition is created.
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { freshDatabase } from '../../setup/test-db';
import { UsageApp, count, startUsageApp, usageRecord } from './usage-harness';

jest.setTimeout(60_000);

const monthStart = (offset: number, now = new Date()) =>
  new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
const partitionName = (d: Date) => `usage_log_${d.toISOString().slice(0, 4)}_${d.toISOString().slice(5, 7)}`;

describe('usage log partitions', () => {
  let dbInfo: Awaited<ReturnType<typeof freshDatabase>>;
  let u: UsageApp;
  const early = { id: randomUUID(), at: new Date(monthStart(0).getTime() + 3_600_000) };
  const farAhead = { id: randomUUID(), at: new Date(monthStart(5).getTime() + 86_400_000) };

  const insertDirect = async (c: Client, id: string, at: Date) =>
    c.query(
      `INSERT INTO usage_log (id, request_id, created_at, endpoint, status, cost) VALUES ($1, $2, $3, 'chat.completions', 200, 600)`,
      [id, `direct_${id}`, at.toISOString()],
    );

  const whereIs = async (id: string): Promise<string> =>
    (
      (await u.db.query('SELECT tableoid::regclass::text AS t FROM usage_log WHERE id = $1', [id])) as Array<{
        t: string;
      }>
    )[0]?.t;

  const partitions = async (): Promise<string[]> =>
    (
      (await u.db.query(
        `SELECT inhrelid::regclass::text AS name FROM pg_inherits WHERE inhparent = 'usage_log'::regclass ORDER BY 1`,
      )) as Array<{ name: string }>
    ).map((r) => r.name);

  beforeAll(async () => {
    dbInfo = await freshDatabase();
    // before the app ever ran, only the default partition exists: rows of this month land there
    const c = new Client({ connectionString: dbInfo.url });
    await c.connect();
    await insertDirect(c, early.id, early.at);
    await insertDirect(c, farAhead.id, farAhead.at);
    expect((await c.query('SELECT count(*)::int AS n FROM usage_log_default')).rows[0].n).toBe(2);
    await c.end();
    u = await startUsageApp(dbInfo.url);
  });

  afterAll(async () => {
    await u?.app.close();
    await dbInfo?.drop();
  });

  it('creates this month’s and the next two months’ partitions at start, as UTC months', async () => {
    const names = await partitions();
    for (const i of [0, 1, 2]) expect(names).toContain(partitionName(monthStart(i)));
    expect(names).not.toContain(partitionName(monthStart(3)));
    const [bound] = (await u.db.query(
      `SELECT pg_get_expr(c.relpartbound, c.oid) AS b FROM pg_class c WHERE c.relname = $1`,
      [partitionName(monthStart(1))],
    )) as Array<{ b: string }>;
    const day = (d: Date) => d.toISOString().slice(0, 10);
    expect(bound.b).toBe(
      `FOR VALUES FROM ('${day(monthStart(1))} 00:00:00+00') TO ('${day(monthStart(2))} 00:00:00+00')`,
    );
  });

  it('moved the rows the default partition held for this month into the new partition at start', async () => {
    expect(await whereIs(early.id)).toBe(partitionName(monthStart(0)));
    // a month not yet due stays where it is
    expect(await whereIs(farAhead.id)).toBe('usage_log_default');
  });

  it('writes rows of this and the coming months into their partitions, not the default', async () => {
    const recs = [0, 1, 2].map((i) => usageRecord({ created_at: new Date(monthStart(i).getTime() + 5_000) }));
    // the last millisecond of a month belongs to that month
    recs.push(usageRecord({ created_at: new Date(monthStart(1).getTime() - 1) }));
    for (const r of recs) u.writer.record(r);
    await u.writer.flush();
    expect(await whereIs(recs[0].id)).toBe(partitionName(monthStart(0)));
    expect(await whereIs(recs[1].id)).toBe(partitionName(monthStart(1)));
    expect(await whereIs(recs[2].id)).toBe(partitionName(monthStart(2)));
    expect(await whereIs(recs[3].id)).toBe(partitionName(monthStart(0)));
    expect(await count(u.db, 'SELECT count(*) AS n FROM usage_log_default')).toBe(1); // only farAhead
  });

  it('is idempotent: a second check changes nothing', async () => {
    const before = await partitions();
    await u.partitions.ensureUpcoming();
    expect(await partitions()).toEqual(before);
    expect(await u.partitions.ensureMonth(monthStart(0))).toBe('exists');
  });

  it('creates a month whose rows sit in the default partition by moving them, in one transaction, under concurrency', async () => {
    // more rows of that month, and one of another month that must stay in the default
    const c = new Client({ connectionString: dbInfo.url });
    await c.connect();
    const extra = Array.from({ length: 50 }, (_, i) => ({
      id: randomUUID(),
      at: new Date(farAhead.at.getTime() + i * 60_000),
    }));
    for (const r of extra) await insertDirect(c, r.id, r.at);
    const other = { id: randomUUID(), at: new Date(monthStart(9).getTime() + 1000) };
    await insertDirect(c, other.id, other.at);
    await c.end();
    const total = await count(u.db, 'SELECT count(*) AS n FROM usage_log');

    // two processes noticing at once: one moves, the other finds the partition made
    const outcomes = await Promise.all([u.partitions.ensureMonth(farAhead.at), u.partitions.ensureMonth(farAhead.at)]);
    expect(outcomes).toContain('moved');
    expect(outcomes.every((o) => ['moved', 'exists', 'created'].includes(o))).toBe(true);

    const name = partitionName(monthStart(5));
    expect(await whereIs(farAhead.id)).toBe(name);
    expect(await count(u.db, `SELECT count(*) AS n FROM ${name}`)).toBe(51);
    expect(await whereIs(other.id)).toBe('usage_log_default');
    expect(await count(u.db, 'SELECT count(*) AS n FROM usage_log_default')).toBe(1);
    expect(await count(u.db, 'SELECT count(*) AS n FROM usage_log')).toBe(total); // none lost, none doubled
    // the moved rows keep every column
    const [row] = (await u.db.query(`SELECT request_id, cost::text AS cost, created_at FROM usage_log WHERE id = $1`, [
      farAhead.id,
    ])) as Array<{
      request_id: string;
      cost: string;
      created_at: Date;
    }>;
    expect(row).toEqual({ request_id: `direct_${farAhead.id}`, cost: '600', created_at: farAhead.at });
  });

  it('waits for a reader holding the table instead of failing the move', async () => {
    // a reader holding the table (e.g. a long export) delays the move; it does not fail it
    const month = monthStart(9);
    const reader = new Client({ connectionString: dbInfo.url });
    await reader.connect();
    await reader.query('BEGIN');
    await reader.query('SELECT count(*) FROM usage_log');
    const move = u.partitions.ensureMonth(month);
    await new Promise((r) => setTimeout(r, 200));
    await reader.query('COMMIT');
    await reader.end();
    expect(await move).toBe('moved');
    expect(await count(u.db, 'SELECT count(*) AS n FROM usage_log_default')).toBe(0);
  });
});
