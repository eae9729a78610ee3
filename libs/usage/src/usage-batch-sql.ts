// The two statements of a flush. Each batch is one INSERT of column arrays (unnest), so a batch costs
// one round trip and one parse however many rows it has.
import type { UsageRecord } from './usage-record';

/**
 * ON CONFLICT DO NOTHING makes a retry idempotent: when a batch committed but the acknowledgement was
 * lost (connection dropped), writing it again adds no duplicates. The primary key (created_at, id)
 * contains the partition key, so this works on the partitioned table.
 */
export const INSERT_USAGE_SQL = `
  INSERT INTO usage_log (
    id, request_id, created_at, agent_id, workspace_id, api_key_id, endpoint, model_requested, model_used,
    provider_id, status, error_code, input_tokens, cached_input_tokens, output_tokens, cost, latency_ms,
    ttft_ms, stream, client_label, fallback_depth, client_ip)
  SELECT * FROM unnest(
    $1::uuid[], $2::text[], $3::timestamptz[], $4::uuid[], $5::uuid[], $6::uuid[], $7::text[], $8::text[],
    $9::text[], $10::text[], $11::int4[], $12::text[], $13::int4[], $14::int4[], $15::int4[], $16::int8[],
    $17::int4[], $18::int4[], $19::bool[], $20::text[], $21::int4[], $22::text[])
  ON CONFLICT DO NOTHING`;

/**
 * A key's "last used" without a write per request: one UPDATE per flush, each key set to its latest
 * use in the batch and never moved backwards. Rows are locked in id order first, so two gateway
 * processes flushing overlapping keys cannot deadlock each other.
 */
export const TOUCH_KEYS_SQL = `
  WITH used AS (SELECT * FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, at)),
  due AS (
    SELECT k.id, used.at FROM api_keys k JOIN used ON used.id = k.id
    WHERE k.last_used_at IS NULL OR k.last_used_at < used.at
    ORDER BY k.id
    FOR UPDATE OF k)
  UPDATE api_keys k SET last_used_at = due.at FROM due
  WHERE k.id = due.id AND (k.last_used_at IS NULL OR k.last_used_at < due.at)`;

/** The 22 column arrays of INSERT_USAGE_SQL. Dates and bigints travel as text (exact, zone-free). */
export function usageColumns(rows: readonly UsageRecord[]): unknown[][] {
  const cols: unknown[][] = Array.from({ length: 22 }, () => new Array<unknown>(rows.length));
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    cols[0][i] = r.id;
    cols[1][i] = r.request_id;
    cols[2][i] = r.created_at.toISOString();
    cols[3][i] = r.agent_id;
    cols[4][i] = r.workspace_id;
    cols[5][i] = r.api_key_id;
    cols[6][i] = r.endpoint;
    cols[7][i] = r.model_requested;
    cols[8][i] = r.model_used;
    cols[9][i] = r.provider_id;
    cols[10][i] = r.status;
    cols[11][i] = r.error_code;
    cols[12][i] = r.input_tokens;
    cols[13][i] = r.cached_input_tokens;
    cols[14][i] = r.output_tokens;
    cols[15][i] = r.cost.toString();
    // timings often come from performance.now() differences: fractions would fail the int column
    cols[16][i] = r.latency_ms === null ? null : Math.round(r.latency_ms);
    cols[17][i] = r.ttft_ms === null ? null : Math.round(r.ttft_ms);
    cols[18][i] = r.stream;
    cols[19][i] = r.client_label;
    cols[20][i] = r.fallback_depth;
    cols[21][i] = r.client_ip;
  }
  return cols;
}

/** Each API key of the batch with its latest use, as the two arrays of TOUCH_KEYS_SQL. */
export function latestKeyUse(rows: readonly UsageRecord[]): [string[], string[]] {
  const latest = new Map<string, number>();
  for (const r of rows) {
    if (!r.api_key_id) continue;
    const at = r.created_at.getTime();
    const seen = latest.get(r.api_key_id);
    if (seen === undefined || at > seen) latest.set(r.api_key_id, at);
  }
  const ids = [...latest.keys()];
  return [ids, ids.map((id) => new Date(latest.get(id)!).toISOString())];
}

/**
 * Errors a retry cannot fix: the batch holds a row Postgres refuses (class 22 data exception, 23
 * integrity violation, e.g. a token count over int4) or one that cannot even be serialized (an invalid
 * Date, a missing field: TypeError, RangeError). Anything else (connection lost, table locked or
 * missing, server restarting) is treated as transient and retried.
 */
export function isRowError(e: unknown): boolean {
  if (e instanceof TypeError || e instanceof RangeError) return true;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}
