// The read side of the usage log: GET /v1/usage (a workspace's spend per UTC day and model) and
// GET /admin/api/usage (rows, filters, CSV export). Raw SQL: every query bounds created_at, so only the
// months asked for are scanned, and filters by workspace or agent, so their (…, created_at) indexes serve.
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { GatewayError, formatAmount } from '@switchyard/core';
import { AdminPrincipal, Page, decodeCursor, encodeCursor, isUuid } from '@switchyard/tenancy';
import { usageCsvHeader, usageCsvLine } from './usage-csv';
import {
  SqlParams,
  TimeRange,
  adminConditions,
  dayAfter,
  decodeSummaryCursor,
  encodeSummaryCursor,
  resolveRange,
} from './usage-filters';
import type {
  AdminUsageQuery,
  UsageDayModel,
  UsageModelSpend,
  UsageRow,
  WorkspaceUsageQuery,
  WorkspaceUsageSummary,
} from './usage-record';

/** Rows per database round trip of a CSV export: memory stays flat however long the export. */
export const CSV_PAGE_ROWS = 1000;

// '' stands for "no model" (e.g. GET /v1/models) so groups and cursors compare plainly; shown as null.
// COLLATE "C": the order the cursor compares in is the order the page is sorted in, whatever the locale.
const MODEL = `coalesce(model_used, model_requested, '') COLLATE "C"`;
const SUMS = `count(*)::text AS requests, count(*) FILTER (WHERE status >= 400)::text AS errors,
  coalesce(sum(input_tokens), 0)::text AS input_tokens,
  coalesce(sum(cached_input_tokens), 0)::text AS cached_input_tokens,
  coalesce(sum(output_tokens), 0)::text AS output_tokens, coalesce(sum(cost), 0)::text AS cost`;

const ROW_COLUMNS = `id, request_id, created_at,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at,
  agent_id, workspace_id, api_key_id, endpoint, model_requested, model_used, provider_id, status, error_code,
  input_tokens, cached_input_tokens, output_tokens, cost::text AS cost, latency_ms, ttft_ms, stream,
  client_label, fallback_depth, client_ip`;

interface SumsRow {
  requests: string;
  errors: string;
  input_tokens: string;
  cached_input_tokens: string;
  output_tokens: string;
  cost: string;
}

type DbRow = Omit<UsageRow, 'created_at'> & { created_at: Date; cursor_at: string };

@Injectable()
export class UsageQueryService {
  constructor(private readonly db: DataSource) {}

  /** A workspace's usage per UTC day and model, newest day first, with totals over the whole range. */
  async workspaceSummary(workspaceId: string, q: WorkspaceUsageQuery): Promise<WorkspaceUsageSummary> {
    const range = resolveRange(q.from, q.to);
    const pos = decodeSummaryCursor(q.cursor);
    const [page, totals] = await Promise.all([
      this.summaryPage(workspaceId, q, range, pos),
      this.summaryTotals(workspaceId, q, range),
    ]);
    const more = page.length > q.limit;
    const data = more ? page.slice(0, q.limit) : page;
    const last = data[data.length - 1];
    return {
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      data: data.map((g) => ({ date: g.date, model: g.model || null, ...sums(g) })),
      next_cursor: more && last ? encodeSummaryCursor({ date: last.date, model: last.model }) : null,
      ...totals,
    };
  }

  /** Usage rows for the admin API, newest first; an agent only ever sees rows of its own agent_id. */
  async adminList(p: AdminPrincipal, q: AdminUsageQuery): Promise<Page<UsageRow>> {
    return this.listPage(p, q, resolveRange(q.from, q.to), Math.max(1, Math.min(q.limit, CSV_PAGE_ROWS)));
  }

  /**
   * The same filter as CSV lines (header first), read in pages of CSV_PAGE_ROWS along the cursor.
   * Invalid filters throw here, before the first line, so the caller can still answer 400.
   */
  adminCsv(p: AdminPrincipal, q: Omit<AdminUsageQuery, 'limit'>): AsyncIterable<string> {
    const range = resolveRange(q.from, q.to); // fixed once: every page filters the same window
    adminConditions(p, { ...q, limit: 1 }, range, new SqlParams());
    checkRowCursor(q.cursor);
    return this.csvLines(p, q, range);
  }

  private async *csvLines(
    p: AdminPrincipal,
    q: Omit<AdminUsageQuery, 'limit'>,
    range: TimeRange,
  ): AsyncGenerator<string> {
    yield usageCsvHeader();
    let cursor = q.cursor;
    for (;;) {
      const page = await this.listPage(p, { ...q, cursor, limit: CSV_PAGE_ROWS }, range, CSV_PAGE_ROWS);
      for (const row of page.data) yield usageCsvLine(row);
      if (!page.next_cursor) return;
      cursor = page.next_cursor;
    }
  }

  private async summaryPage(
    workspaceId: string,
    q: WorkspaceUsageQuery,
    range: TimeRange,
    pos: { date: string; model: string } | null,
  ): Promise<Array<SumsRow & { date: string; model: string }>> {
    const params = new SqlParams();
    // past the cursor's day nothing is needed: a tighter created_at bound scans fewer rows and months
    const to = pos && dayAfter(pos.date) < range.to ? { ...range, to: dayAfter(pos.date) } : range;
    const where = workspaceConditions(workspaceId, q, to, params);
    let after = '';
    if (pos) {
      const d = params.add(pos.date);
      after = `WHERE g.date < ${d} OR (g.date = ${d} AND g.model > ${params.add(pos.model)} COLLATE "C")`;
    }
    return this.db.query(
      `SELECT * FROM (
         SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS date, ${MODEL} AS model, ${SUMS}
         FROM usage_log WHERE ${where.join(' AND ')} GROUP BY 1, 2) g
       ${after}
       ORDER BY g.date DESC, g.model ASC LIMIT ${params.add(q.limit + 1)}`,
      params.values,
    );
  }

  /** Totals and spend per model over the whole filtered range, in one scan (GROUPING SETS). */
  private async summaryTotals(
    workspaceId: string,
    q: WorkspaceUsageQuery,
    range: TimeRange,
  ): Promise<Pick<WorkspaceUsageSummary, 'totals' | 'by_model'>> {
    const params = new SqlParams();
    const where = workspaceConditions(workspaceId, q, range, params);
    const rows = (await this.db.query(
      `SELECT GROUPING(u.model) = 1 AS is_total, u.model, ${SUMS}
       FROM (SELECT ${MODEL} AS model, status, input_tokens, cached_input_tokens, output_tokens, cost
             FROM usage_log WHERE ${where.join(' AND ')}) u
       GROUP BY GROUPING SETS ((u.model), ())`,
      params.values,
    )) as Array<SumsRow & { is_total: boolean; model: string | null }>;
    const total = rows.find((r) => r.is_total);
    const perModel = rows.filter((r) => !r.is_total);
    perModel.sort((a, b) => {
      const d = BigInt(b.cost) - BigInt(a.cost);
      return d > 0n ? 1 : d < 0n ? -1 : (a.model ?? '') < (b.model ?? '') ? -1 : 1;
    });
    const by_model: UsageModelSpend[] = perModel.map((r) => ({
      model: r.model || null,
      requests: Number(r.requests),
      cost: formatAmount(BigInt(r.cost)),
    }));
    return { totals: sums(total ?? ZERO), by_model };
  }

  private async listPage(
    p: AdminPrincipal,
    q: AdminUsageQuery,
    range: TimeRange,
    limit: number,
  ): Promise<Page<UsageRow>> {
    const params = new SqlParams();
    const where = adminConditions(p, q, range, params);
    if (!where) return { data: [], next_cursor: null };
    const pos = checkRowCursor(q.cursor);
    if (pos) {
      const at = params.add(pos.at);
      // the plain bound lets the (…, created_at) indexes and partition pruning use the cursor too
      where.push(
        `created_at <= ${at}::timestamptz`,
        `(created_at, id) < (${at}::timestamptz, ${params.add(pos.id)}::uuid)`,
      );
    }
    const rows = (await this.db.query(
      `SELECT ${ROW_COLUMNS} FROM usage_log WHERE ${where.join(' AND ')}
       ORDER BY created_at DESC, id DESC LIMIT ${params.add(limit + 1)}`,
      params.values,
    )) as DbRow[];
    const more = rows.length > limit;
    const data = more ? rows.slice(0, limit) : rows;
    const last = data[data.length - 1];
    return {
      data: data.map(toUsageRow),
      next_cursor: more && last ? encodeCursor({ at: last.cursor_at, id: last.id }) : null,
    };
  }
}

const ZERO: SumsRow = {
  requests: '0',
  errors: '0',
  input_tokens: '0',
  cached_input_tokens: '0',
  output_tokens: '0',
  cost: '0',
};

function workspaceConditions(
  workspaceId: string,
  q: WorkspaceUsageQuery,
  range: TimeRange,
  params: SqlParams,
): string[] {
  if (!isUuid(workspaceId)) throw new GatewayError('bad_request', 'workspace id must be a uuid', 'workspace_id');
  const where = [
    `workspace_id = ${params.add(workspaceId)}`,
    `created_at >= ${params.add(range.from)}`,
    `created_at < ${params.add(range.to)}`,
  ];
  if (q.model) where.push(`coalesce(model_used, model_requested) = ${params.add(q.model)}`);
  return where;
}

function checkRowCursor(cursor: string | undefined): { at: string; id: string } | null {
  const pos = decodeCursor(cursor);
  if (pos && !isUuid(pos.id))
    throw new GatewayError('bad_request', 'cursor is not a cursor returned by this API', 'cursor');
  return pos;
}

// token sums are bigint in SQL; a workspace's tokens stay far below 2^53, so numbers are exact
function sums(r: SumsRow): Omit<UsageDayModel, 'date' | 'model'> {
  return {
    requests: Number(r.requests),
    errors: Number(r.errors),
    input_tokens: Number(r.input_tokens),
    cached_input_tokens: Number(r.cached_input_tokens),
    output_tokens: Number(r.output_tokens),
    cost: formatAmount(BigInt(r.cost)),
  };
}

function toUsageRow(r: DbRow): UsageRow {
  return {
    id: r.id,
    request_id: r.request_id,
    created_at: r.created_at.toISOString(),
    agent_id: r.agent_id,
    workspace_id: r.workspace_id,
    api_key_id: r.api_key_id,
    endpoint: r.endpoint,
    model_requested: r.model_requested,
    model_used: r.model_used,
    provider_id: r.provider_id,
    status: r.status,
    error_code: r.error_code,
    input_tokens: r.input_tokens,
    cached_input_tokens: r.cached_input_tokens,
    output_tokens: r.output_tokens,
    cost: formatAmount(BigInt(r.cost)),
    latency_ms: r.latency_ms,
    ttft_ms: r.ttft_ms,
    stream: r.stream,
    client_label: r.client_label,
    fallback_depth: r.fallback_depth,
    client_ip: r.client_ip,
  };
}
