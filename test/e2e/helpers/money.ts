// Money checks shared by the billing e2e suites: catalog prices and exact costs computed here (not with
// the product's pricing code), wallet rows and ledger invariants read straight from Postgres, and a
// small /v1 client (JSON and SSE) that can vanish mid-stream.
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { DataSource } from 'typeorm';

export const ROOT = join(__dirname, '../../..');
export const DEFAULT_CATALOG = join(ROOT, 'catalog', 'default.yaml');

/** "0.15" -> 150_000_000n (nanos); at most 9 decimals, as the ledger. */
export function nanos(decimal: string): bigint {
  const m = /^(-)?(\d+)(?:\.(\d{1,9}))?$/.exec(decimal.trim());
  if (!m) throw new Error(`not a decimal amount: ${decimal}`);
  const v = BigInt(m[2]) * 1_000_000_000n + BigInt((m[3] ?? '').padEnd(9, '0'));
  return m[1] ? -v : v;
}

export interface TokenPrice {
  input: bigint;
  cached: bigint;
  output: bigint;
}

/** Prices per million tokens of every model of a catalog file, in nanos. */
export function catalogPrices(file = DEFAULT_CATALOG): Map<string, TokenPrice> {
  const doc = parse(readFileSync(file, 'utf8')) as { models: Array<{ id: string; price?: Record<string, string> }> };
  const out = new Map<string, TokenPrice>();
  for (const m of doc.models) {
    const p = m.price ?? {};
    const input = p.input_per_mtok ? nanos(p.input_per_mtok) : 0n;
    out.set(m.id, {
      input,
      cached: p.cached_input_per_mtok ? nanos(p.cached_input_per_mtok) : input,
      output: p.output_per_mtok ? nanos(p.output_per_mtok) : 0n,
    });
  }
  return out;
}

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
}

/** DESIGN.md: cost = ceil of the exact sum, in nanos. Prices are per million tokens. */
export function tokenCost(price: TokenPrice, u: OpenAIUsage): bigint {
  const cached = BigInt(u.prompt_tokens_details?.cached_tokens ?? 0);
  const micro =
    (BigInt(u.prompt_tokens) - cached) * price.input +
    cached * price.cached +
    BigInt(u.completion_tokens) * price.output;
  return (micro + 999_999n) / 1_000_000n;
}

/** The default catalog plus extra providers and models, written to a temp file (for startStack's catalogFile). */
export function catalogWith(extra: {
  providers?: Array<Record<string, unknown>>;
  models?: Array<Record<string, unknown>>;
}): string {
  const doc = parse(readFileSync(DEFAULT_CATALOG, 'utf8')) as { providers: unknown[]; models: unknown[] };
  doc.providers.push(...(extra.providers ?? []));
  doc.models.push(...(extra.models ?? []));
  const file = join(mkdtempSync(join(tmpdir(), 'sy-catalog-')), 'catalog.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

// ---- the database ----

export interface WalletRow {
  id: string;
  balance: bigint;
  held: bigint;
  status: string;
}

export async function walletOf(db: DataSource, type: 'workspace' | 'agent', ownerId: string): Promise<WalletRow> {
  const rows = (await db.query(
    `SELECT id, balance::text, held::text, status FROM accounts WHERE type = $1 AND owner_id = $2`,
    [type, ownerId],
  )) as Array<{
    id: string;
    balance: string;
    held: string;
    status: string;
  }>;
  if (!rows[0]) throw new Error(`no ${type} wallet for ${ownerId}`);
  return { id: rows[0].id, balance: BigInt(rows[0].balance), held: BigInt(rows[0].held), status: rows[0].status };
}

export async function holdsOf(db: DataSource, accountId: string): Promise<number> {
  const rows = (await db.query(`SELECT count(*)::int AS n FROM holds WHERE account_id = $1`, [accountId])) as Array<{
    n: number;
  }>;
  return rows[0].n;
}

export interface UsageLogRow {
  request_id: string;
  status: number;
  model_used: string | null;
  /** model_used, or the model asked for when none served */
  model: string | null;
  endpoint: string;
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  cost: bigint;
  stream: boolean;
  error_code: string | null;
}

export async function usageRows(db: DataSource, workspaceId: string): Promise<UsageLogRow[]> {
  const rows = (await db.query(
    `SELECT request_id, status, model_used, coalesce(model_used, model_requested) AS model, endpoint, input_tokens, cached_input_tokens, output_tokens, cost::text AS cost, stream, error_code
       FROM usage_log WHERE workspace_id = $1 ORDER BY created_at, id`,
    [workspaceId],
  )) as Array<Omit<UsageLogRow, 'cost'> & { cost: string }>;
  return rows.map((r) => ({ ...r, cost: BigInt(r.cost) }));
}

/** Polls until the usage log holds `n` rows for the workspace (the writer flushes on a timer). */
export async function waitForUsage(
  db: DataSource,
  workspaceId: string,
  n: number,
  timeoutMs = 10_000,
): Promise<UsageLogRow[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await usageRows(db, workspaceId);
    if (rows.length >= n) return rows;
    if (Date.now() > deadline) throw new Error(`usage log: ${rows.length} of ${n} rows for ${workspaceId}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met in time`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Every ledger invariant over the whole database, as a list of violations (empty when all hold): no
 * wallet below zero now or at any point of its entry history, balanced non-empty transactions,
 * balances equal to the sum of entries, `held` equal to the live holds.
 */
export async function ledgerViolations(db: DataSource): Promise<string[]> {
  const out: string[] = [];
  const check = async (name: string, sql: string) => {
    const rows = (await db.query(sql)) as unknown[];
    if (rows.length) out.push(`${name}: ${JSON.stringify(rows.slice(0, 5))}`);
  };
  await check(
    'wallet below zero',
    `SELECT id, balance::text, held::text FROM accounts WHERE type <> 'system' AND (balance < 0 OR held < 0 OR balance - held < 0)`,
  );
  await check(
    'unbalanced transaction',
    `SELECT transaction_id, sum(amount)::text FROM ledger_entries GROUP BY transaction_id HAVING sum(amount) <> 0`,
  );
  await check(
    'transaction without two entries',
    `SELECT t.id FROM ledger_transactions t WHERE (SELECT count(*) FROM ledger_entries e WHERE e.transaction_id = t.id) < 2`,
  );
  await check(
    'balance differs from its entries',
    `SELECT a.id, a.balance::text, coalesce(e.s, 0)::text AS entries FROM accounts a
       LEFT JOIN (SELECT account_id, sum(amount) AS s FROM ledger_entries GROUP BY account_id) e ON e.account_id = a.id
      WHERE a.balance <> coalesce(e.s, 0)`,
  );
  await check(
    'held differs from live holds',
    `SELECT a.id, a.held::text FROM accounts a LEFT JOIN (SELECT account_id, sum(amount) AS s FROM holds GROUP BY account_id) h ON h.account_id = a.id
      WHERE a.held <> coalesce(h.s, 0)`,
  );
  // entries of one wallet are written under its row lock, so id order is the order of the movements
  await check(
    'running balance went below zero',
    `SELECT account_id, min(running)::text AS lowest FROM (
       SELECT e.account_id, sum(e.amount) OVER (PARTITION BY e.account_id ORDER BY e.id) AS running
         FROM ledger_entries e JOIN accounts a ON a.id = e.account_id WHERE a.type <> 'system') r
      GROUP BY account_id HAVING min(running) < 0`,
  );
  return out;
}

/**
 * Per workspace wallet, what the ledger posted for usage against what the usage log says its requests
 * cost (x-credits-used, usage.cost): a list of the wallets where the two differ, empty when all agree.
 */
export async function usageMismatches(db: DataSource, workspaceId?: string): Promise<string[]> {
  const rows = (await db.query(
    `WITH posted AS (
       SELECT a.owner_id AS workspace_id, sum(-e.amount) AS s FROM ledger_entries e
         JOIN ledger_transactions t ON t.id = e.transaction_id JOIN accounts a ON a.id = e.account_id
        WHERE t.kind = 'usage' AND a.type = 'workspace' GROUP BY a.owner_id),
     logged AS (SELECT workspace_id, sum(cost) AS s FROM usage_log WHERE workspace_id IS NOT NULL GROUP BY workspace_id)
     SELECT coalesce(p.workspace_id, l.workspace_id) AS workspace_id, coalesce(p.s, 0)::text AS posted, coalesce(l.s, 0)::text AS logged
       FROM posted p FULL JOIN logged l ON l.workspace_id = p.workspace_id
      WHERE coalesce(p.s, 0) <> coalesce(l.s, 0) AND ($1::uuid IS NULL OR coalesce(p.workspace_id, l.workspace_id) = $1::uuid)`,
    [workspaceId ?? null],
  )) as Array<{ workspace_id: string; posted: string; logged: string }>;
  return rows.map((r) => `workspace ${r.workspace_id}: ledger posted ${r.posted}, usage log says ${r.logged}`);
}

// ---- a /v1 client ----

export interface ChatReply {
  status: number;
  headers: Headers;
  body: any;
}

export async function postChat(
  base: string,
  key: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<ChatReply> {
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

export interface StreamReply {
  status: number;
  headers: Headers;
  /** parsed `data:` events, [DONE] excluded */
  events: any[];
  done: boolean;
  aborted: boolean;
  body?: any;
}

/**
 * Streams a chat completion. `abortAfter`: the client vanishes (AbortController) once it has read that
 * many content chunks; `onChunk` runs for every content chunk read before that.
 */
export async function streamChat(
  base: string,
  key: string,
  body: Record<string, unknown>,
  opts: { abortAfter?: number; onChunk?: (n: number) => Promise<void> | void; headers?: Record<string, string> } = {},
): Promise<StreamReply> {
  const ac = new AbortController();
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...(opts.headers ?? {}) },
    body: JSON.stringify({ ...body, stream: true }),
    signal: ac.signal,
  });
  if (!res.headers.get('content-type')?.startsWith('text/event-stream')) {
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // keep the text
    }
    return { status: res.status, headers: res.headers, events: [], done: false, aborted: false, body: parsed };
  }
  const events: any[] = [];
  let done = false;
  let contentChunks = 0;
  const decoder = new TextDecoder();
  let buf = '';
  const reader = res.body!.getReader();
  try {
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) break;
      buf += decoder.decode(value, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = block
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trimStart())
          .join('\n');
        if (!data) continue;
        if (data === '[DONE]') {
          done = true;
          continue;
        }
        const ev = JSON.parse(data);
        events.push(ev);
        if (ev.choices?.some((c: any) => typeof c.delta?.content === 'string' && c.delta.content.length)) {
          contentChunks++;
          await opts.onChunk?.(contentChunks);
          if (opts.abortAfter !== undefined && contentChunks >= opts.abortAfter) {
            ac.abort();
            await reader.cancel().catch(() => undefined);
            return { status: res.status, headers: res.headers, events, done: false, aborted: true };
          }
        }
      }
    }
  } catch (e) {
    if (!ac.signal.aborted) throw e;
  }
  return { status: res.status, headers: res.headers, events, done, aborted: false };
}

export function contentOf(events: any[]): string {
  return events.map((e) => (e.choices ?? []).map((c: any) => c.delta?.content ?? '').join('')).join('');
}
