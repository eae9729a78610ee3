// WHERE clauses of the read side, built in one place so every query bounds created_at (partition
// pruning) and applies the tenancy rule the same way: an agent only ever matches rows of its own agent_id.
import { GatewayError } from '@switchyard/core';
import { AdminPrincipal, isPlatformAdmin, isUuid } from '@switchyard/tenancy';
import type { AdminUsageQuery } from './usage-record';

const DAY_MS = 86_400_000;
/** Default window when the caller gives no `from`: the last 30 UTC days, today included. */
export const DEFAULT_RANGE_DAYS = 30;

/** Positional parameters for raw SQL: `p.add(v)` returns `$n`. */
export class SqlParams {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

export interface TimeRange {
  from: Date;
  /** exclusive */
  to: Date;
}

export function resolveRange(from: Date | undefined, to: Date | undefined, now = new Date()): TimeRange {
  for (const [name, d] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (d && Number.isNaN(d.getTime())) throw new GatewayError('bad_request', `${name} is not a valid date`, name);
  }
  const end = to ?? now;
  const todayStart = Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), end.getUTCDate());
  const start = from ?? new Date(todayStart - (DEFAULT_RANGE_DAYS - 1) * DAY_MS);
  if (start.getTime() > end.getTime()) throw new GatewayError('bad_request', 'from must not be after to', 'from');
  return { from: start, to: end };
}

/**
 * The admin filter as SQL conditions, or null when the caller can see nothing of what it asked for
 * (an agent naming another agent): the caller answers an empty page, never an error that would
 * confirm the other agent's ids exist.
 */
export function adminConditions(
  p: AdminPrincipal,
  q: AdminUsageQuery,
  range: TimeRange,
  params: SqlParams,
): string[] | null {
  for (const name of ['agent_id', 'workspace_id', 'api_key_id'] as const) {
    const v = q[name];
    if (v !== undefined && !isUuid(v)) throw new GatewayError('bad_request', `${name} must be a uuid`, name);
  }
  const where = [`created_at >= ${params.add(range.from)}`, `created_at < ${params.add(range.to)}`];
  if (isPlatformAdmin(p)) {
    if (q.agent_id) where.push(`agent_id = ${params.add(q.agent_id)}`);
  } else {
    if (!p.agentId || (q.agent_id && q.agent_id !== p.agentId)) return null;
    where.push(`agent_id = ${params.add(p.agentId)}`);
  }
  if (q.workspace_id) where.push(`workspace_id = ${params.add(q.workspace_id)}`);
  if (q.api_key_id) where.push(`api_key_id = ${params.add(q.api_key_id)}`);
  if (q.endpoint) where.push(`endpoint = ${params.add(q.endpoint)}`);
  if (q.model) {
    const m = params.add(q.model);
    where.push(`(model_used = ${m} OR model_requested = ${m})`);
  }
  if (q.status === 'ok') where.push('status < 400');
  else if (q.status === 'error') where.push('status >= 400');
  else if (typeof q.status === 'number') {
    if (!Number.isInteger(q.status))
      throw new GatewayError('bad_request', "status must be 'ok', 'error' or an HTTP status", 'status');
    where.push(`status = ${params.add(q.status)}`);
  }
  return where;
}

// ---- GET /v1/usage cursor: the last (day, model) group of a page ----

export interface SummaryPosition {
  date: string;
  model: string;
}

export function encodeSummaryCursor(pos: SummaryPosition): string {
  return Buffer.from(JSON.stringify(['u', pos.date, pos.model])).toString('base64url');
}

export function decodeSummaryCursor(cursor: string | undefined): SummaryPosition | null {
  if (!cursor) return null;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 3 && v[0] === 'u' && typeof v[2] === 'string') {
      const date = v[1] as unknown;
      if (typeof date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(date) && !Number.isNaN(Date.parse(date))) {
        return { date, model: v[2] };
      }
    }
  } catch {
    // fall through
  }
  throw new GatewayError('bad_request', 'cursor is not a cursor returned by this API', 'cursor');
}

/** The day after a 'YYYY-MM-DD', as the exclusive upper bound of created_at. */
export function dayAfter(date: string): Date {
  return new Date(Date.parse(`${date}T00:00:00Z`) + DAY_MS);
}
