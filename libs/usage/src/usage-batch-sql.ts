// The two statements of a flush. Each batch is one INSERT of the rows as one JSON array
// (json_to_recordset), so a batch costs one round trip and one parse however many rows it has.
//
// JSON rather than one array per column (unnest): a flush runs on the event loop that serves requests,
// and pg builds array literals element by element in JS. For a 500-row batch (one second at 500 req/s)
// that took 4-10 ms on the 2-vCPU bench machine, every second, and showed in the p99 of every request
// waiting meanwhile; JSON.stringify of the same rows takes about 1 ms.
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
  SELECT
    id, request_id, created_at, agent_id, workspace_id, api_key_id, endpoint, model_requested, model_used,
    provider_id, status, error_code, input_tokens, cached_input_tokens, output_tokens, cost, latency_ms,
    ttft_ms, stream, client_label, fallback_depth, client_ip
  FROM json_to_recordset($1::json) AS r(
    id uuid, request_id text, created_at timestamptz, agent_id uuid, workspace_id uuid, api_key_id uuid,
    endpoint text, model_requested text, model_used text, provider_id text, status int4, error_code text,
    input_tokens int4, cached_input_tokens int4, output_tokens int4, cost int8, latency_ms int4,
    ttft_ms int4, stream bool, client_label text, fallback_depth int4, client_ip text)
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

/** The one parameter of INSERT_USAGE_SQL. Dates and bigints travel as text (exact, zone-free). */
export function usageJson(rows: readonly UsageRecord[]): [string] {
  const out = new Array<unknown>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    out[i] = {
      ...r,
      created_at: r.created_at.toISOString(),
      cost: r.cost.toString(),
      // timings often come from performance.now() differences: fractions would fail the int column
      latency_ms: r.latency_ms === null ? null : Math.round(r.latency_ms),
      ttft_ms: r.ttft_ms === null ? null : Math.round(r.ttft_ms),
    };
  }
  return [JSON.stringify(out)];
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
