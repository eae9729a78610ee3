// UsageWriter on real Postgres: batches, last_used_at, retry after a failure, bad rows, the buffer
// bound, and the flush of a graceful stop.
import { freshDatabase } from '../../setup/test-db';
import {
  UsageApp,
  Tenants,
  count,
  counterValue,
  eventually,
  seedTenants,
  startUsageApp,
  usageRecord,
} from './usage-harness';

jest.setTimeout(60_000);

describe('UsageWriter', () => {
  let dbInfo: Awaited<ReturnType<typeof freshDatabase>>;
  let u: UsageApp;
  let t: Tenants;

  beforeAll(async () => {
    dbInfo = await freshDatabase();
    // fast retries so the outage test does not wait for the production backoff
    u = await startUsageApp(dbInfo.url, { writer: { retryBaseMs: 20, retryMaxMs: 200 } });
    t = await seedTenants(u.db);
  });

  afterAll(async () => {
    await u?.app.close();
    await dbInfo?.drop();
  });

  const rowsLike = (prefix: string) =>
    count(u.db, `SELECT count(*) AS n FROM usage_log WHERE request_id LIKE $1`, [`${prefix}%`]);

  it('writes 1,000 records in a few multi-row INSERTs and sets each key’s last_used_at to its latest use', async () => {
    const spy = jest.spyOn(u.db, 'query');
    const base = Date.now() - 60_000;
    for (let i = 0; i < 1000; i++) {
      const key = i % 2 === 0 ? t.keyA : t.keyA2;
      u.writer.record(usageRecord({ request_id: `batch_${i}`, api_key_id: key, created_at: new Date(base + i) }));
    }
    await u.writer.flush();
    const inserts = spy.mock.calls.filter(([sql]) => /INSERT INTO usage_log/.test(sql)).length;
    const touches = spy.mock.calls.filter(([sql]) => /UPDATE api_keys/.test(sql)).length;
    spy.mockRestore();
    expect(inserts).toBeGreaterThanOrEqual(1);
    expect(inserts).toBeLessThanOrEqual(3);
    expect(touches).toBe(inserts); // one key update per batch, not per row
    expect(await rowsLike('batch_')).toBe(1000);
    const keys = (await u.db.query('SELECT id, last_used_at FROM api_keys WHERE id = ANY($1)', [
      [t.keyA, t.keyA2, t.keyB],
    ])) as Array<{
      id: string;
      last_used_at: Date | null;
    }>;
    const at = Object.fromEntries(keys.map((k) => [k.id, k.last_used_at?.getTime() ?? null]));
    expect(at[t.keyA]).toBe(base + 998);
    expect(at[t.keyA2]).toBe(base + 999);
    expect(at[t.keyB]).toBeNull();
  });

  it('never moves last_used_at backwards', async () => {
    const later = new Date(Date.now() + 3_600_000);
    await u.db.query('UPDATE api_keys SET last_used_at = $2 WHERE id = $1', [t.keyB, later]);
    u.writer.record(usageRecord({ api_key_id: t.keyB }));
    await u.writer.flush();
    const [k] = (await u.db.query('SELECT last_used_at FROM api_keys WHERE id = $1', [t.keyB])) as Array<{
      last_used_at: Date;
    }>;
    expect(k.last_used_at.getTime()).toBe(later.getTime());
  });

  it('flushes a partial batch on its timer, without flush() being called', async () => {
    for (let i = 0; i < 3; i++) u.writer.record(usageRecord({ request_id: `timer_${i}` }));
    expect(u.writer.buffered).toBe(3);
    await eventually(async () => (await rowsLike('timer_')) === 3);
    expect(u.writer.buffered).toBe(0);
  });

  it('keeps a batch through a database failure and writes it once the table is back', async () => {
    const failuresBefore = await counterValue(u.metrics.usageWriteFailures);
    await u.db.query('ALTER TABLE usage_log RENAME TO usage_log_away');
    try {
      for (let i = 0; i < 10; i++) u.writer.record(usageRecord({ request_id: `outage_${i}` }));
      await eventually(async () => (await counterValue(u.metrics.usageWriteFailures)) >= failuresBefore + 2);
      expect(u.writer.buffered).toBe(10);
      await expect(u.writer.flush()).rejects.toThrow(/usage_log/);
    } finally {
      await u.db.query('ALTER TABLE usage_log_away RENAME TO usage_log');
    }
    await eventually(async () => (await rowsLike('outage_')) === 10);
    expect(u.writer.buffered).toBe(0);
    // retried batches are not duplicated
    expect(await count(u.db, `SELECT count(DISTINCT id) AS n FROM usage_log WHERE request_id LIKE 'outage_%'`)).toBe(
      10,
    );
  });

  it('drops only a row the database refuses, and writes the rest of its batch', async () => {
    const failuresBefore = await counterValue(u.metrics.usageWriteFailures);
    for (let i = 0; i < 20; i++) {
      u.writer.record(usageRecord({ request_id: `poison_${i}`, input_tokens: i === 7 ? 2 ** 31 : 1 }));
    }
    await u.writer.flush();
    expect(await rowsLike('poison_')).toBe(19);
    expect(await count(u.db, `SELECT count(*) AS n FROM usage_log WHERE request_id = 'poison_7'`)).toBe(0);
    expect(await counterValue(u.metrics.usageWriteFailures)).toBe(failuresBefore + 1);
  });

  it('drops a row that cannot be serialized instead of retrying its batch forever', async () => {
    for (let i = 0; i < 4; i++) {
      u.writer.record(
        usageRecord({ request_id: `unserializable_${i}`, created_at: i === 2 ? new Date(NaN) : new Date() }),
      );
    }
    await u.writer.flush();
    expect(await rowsLike('unserializable_')).toBe(3);
    expect(u.writer.buffered).toBe(0);
  });

  it('stores every field as given: exact bigint cost, nulls, text needing escapes in JSON', async () => {
    const r = usageRecord({
      request_id: 'fields_1',
      agent_id: t.agentA,
      workspace_id: t.wsA,
      api_key_id: t.keyA,
      cost: 123_456_789_012_345_678n,
      client_label: 'a "quoted", {braced} \\ label\nwith a line,\ta tab, \u00e9t\u00e9 \u{1F600} and </script>',
      model_used: null,
      provider_id: null,
      latency_ms: 12.6,
      ttft_ms: 3,
      stream: true,
      status: 429,
      error_code: 'rate_limit_exceeded',
      fallback_depth: 2,
    });
    u.writer.record(r);
    await u.writer.flush();
    const [row] = (await u.db.query(
      `SELECT *, cost::text AS cost FROM usage_log WHERE request_id = 'fields_1'`,
    )) as Array<Record<string, unknown>>;
    expect(row).toMatchObject({
      id: r.id,
      agent_id: t.agentA,
      workspace_id: t.wsA,
      cost: '123456789012345678',
      client_label: r.client_label,
      model_used: null,
      provider_id: null,
      latency_ms: 13,
      ttft_ms: 3,
      stream: true,
      status: 429,
      fallback_depth: 2,
    });
    expect((row.created_at as Date).getTime()).toBe(r.created_at.getTime());
  });

  it('bounds the buffer in a long outage by dropping the oldest rows, counted and kept the newest', async () => {
    const small = await startUsageApp(dbInfo.url, {
      writer: { maxBatch: 100, flushAt: 100, maxBuffered: 1000, retryBaseMs: 20, retryMaxMs: 100 },
    });
    try {
      await small.db.query('ALTER TABLE usage_log RENAME TO usage_log_away');
      try {
        for (let i = 0; i < 3000; i++)
          small.writer.record(usageRecord({ request_id: `bound_${String(i).padStart(4, '0')}` }));
        expect(small.writer.buffered).toBeLessThanOrEqual(1000);
        // once the batch in flight has failed and come back, every row is either buffered or counted as dropped
        await eventually(() => small.writer.buffered + small.writer.dropped === 3000);
        expect(small.writer.buffered).toBeLessThanOrEqual(1000);
        expect(small.writer.dropped).toBeGreaterThanOrEqual(2000);
        expect(await counterValue(small.metrics.usageWriteFailures)).toBeGreaterThan(0);
      } finally {
        await small.db.query('ALTER TABLE usage_log_away RENAME TO usage_log');
      }
      await small.writer.flush();
      const kept = 3000 - small.writer.dropped;
      expect(await rowsLike('bound_')).toBe(kept);
      // the newest rows survived
      expect(await count(u.db, `SELECT count(*) AS n FROM usage_log WHERE request_id = 'bound_2999'`)).toBe(1);
      expect(await count(u.db, `SELECT count(*) AS n FROM usage_log WHERE request_id = 'bound_0000'`)).toBe(0);
    } finally {
      await small.app.close();
    }
  });

  it('flushes everything still buffered when the application closes', async () => {
    // a timer that would not fire during the test, and no early flush: only shutdown writes these
    const other = await startUsageApp(dbInfo.url, { flushMs: 60_000, writer: { flushAt: 100_000, maxBatch: 1000 } });
    for (let i = 0; i < 1500; i++) other.writer.record(usageRecord({ request_id: `close_${i}` }));
    await new Promise((r) => setTimeout(r, 100));
    expect(await rowsLike('close_')).toBe(0);
    expect(other.writer.buffered).toBe(1500);
    await other.app.close();
    expect(await rowsLike('close_')).toBe(1500);
  });

  it('flushes 10,000 records at a measured rate', async () => {
    const n = 10_000;
    const records = Array.from({ length: n }, (_, i) =>
      usageRecord({
        request_id: `tput_${i}`,
        api_key_id: i % 3 ? t.keyA : t.keyB,
        workspace_id: t.wsA,
        agent_id: t.agentA,
      }),
    );
    const start = process.hrtime.bigint();
    for (const r of records) u.writer.record(r);
    const recorded = process.hrtime.bigint();
    await u.writer.flush();
    const done = process.hrtime.bigint();
    const recordUs = Number(recorded - start) / 1000 / n;
    const seconds = Number(done - start) / 1e9;
    const rate = Math.round(n / seconds);
    process.stdout.write(
      `usage writer: ${n} rows flushed in ${(seconds * 1000).toFixed(0)} ms = ${rate} rows/s; record() ${recordUs.toFixed(2)} µs/row\n`,
    );
    expect(await rowsLike('tput_')).toBe(n);
    expect(rate).toBeGreaterThan(5_000);
  });
});
