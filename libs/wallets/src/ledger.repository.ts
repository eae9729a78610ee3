// Every money movement, in SQL where the SQL matters. Each movement is one database transaction (most
// are one statement) that writes balanced entries and updates the account rows it touches. Lock order
// is fixed to rule out deadlocks: wallet rows first (by id when there are two), system accounts last.
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { AccountType, SystemAccount } from './entities/account.entity';
import type { TransactionKind } from './entities/ledger-transaction.entity';

export interface HoldResult {
  /** null: no active wallet, or not enough available */
  granted: bigint | null;
  status: 'active' | 'suspended' | null;
  available: bigint;
}

export interface Movement {
  kind: TransactionKind;
  /** unique per kind: a second movement with the same reference is refused (returns null) */
  reference: string | null;
  note?: string | null;
  actorId?: string | null;
  metadata?: Record<string, unknown> | null;
}

// STALE_CHECK: the one-statement movements lock the wallet row in a CTE (FOR UPDATE returns its latest
// version), then UPDATE it. Under READ COMMITTED that UPDATE first computes the new row from the version
// in the statement's snapshot, and Postgres checks the CHECK constraints on that candidate *before* it
// notices the concurrent update and recomputes on the latest version. A SET mixing the snapshot row with
// amounts derived from the latest one can fail `balance - held >= 0` spuriously under contention (and a
// failed settlement would leave the usage unpaid). So every SET is computed from the row's own columns
// only: self-consistent on any version, and on the locked version equal to what the CTE computed.

export class InsufficientFundsError extends Error {}
export class SuspendedError extends Error {}

@Injectable()
export class LedgerRepository {
  private systemIds = new Map<SystemAccount, string>();

  constructor(private readonly db: DataSource) {}

  /** Creates the system accounts once (any process may race to it). */
  async ensureSystemAccounts(currency: string): Promise<void> {
    for (const code of ['treasury', 'revenue', 'stripe_clearing'] as const) {
      await this.db.query(
        `INSERT INTO accounts (type, code, currency) VALUES ('system', $1, $2) ON CONFLICT (code) WHERE code IS NOT NULL DO NOTHING`,
        [code, currency],
      );
      const [row] = (await this.db.query(`SELECT id FROM accounts WHERE code = $1`, [code])) as Array<{ id: string }>;
      this.systemIds.set(code, row.id);
    }
  }

  system(code: SystemAccount): string {
    const id = this.systemIds.get(code);
    if (!id) throw new Error('system accounts are not loaded');
    return id;
  }

  async ensureWallet(
    type: Exclude<AccountType, 'system'>,
    ownerId: string,
    currency: string,
    m: EntityManager = this.db.manager,
  ): Promise<string> {
    const rows = (await m.query(
      `WITH ins AS (
         INSERT INTO accounts (type, owner_id, currency) VALUES ($1, $2, $3)
         ON CONFLICT (type, owner_id) WHERE owner_id IS NOT NULL DO NOTHING RETURNING id)
       SELECT id FROM ins UNION ALL SELECT id FROM accounts WHERE type = $1 AND owner_id = $2`,
      [type, ownerId, currency],
    )) as Array<{ id: string }>;
    return rows[0].id;
  }

  // ---- hot path: one statement each ----

  /**
   * Reserves up to `worst` (at least `minimum`) of the workspace's available balance. One statement: the
   * wallet row is locked, the grant computed from its latest values, `held` raised and the hold written.
   */
  async placeHold(p: {
    workspaceId: string;
    holdId: string;
    worst: bigint;
    minimum: bigint;
    requestId: string;
    ttlMs: number;
  }): Promise<HoldResult> {
    const rows = (await this.db.query(
      `WITH acc AS (
         SELECT id, status, balance - held AS available FROM accounts
          WHERE type = 'workspace' AND owner_id = $1 FOR UPDATE
       ), g AS (
         SELECT id, LEAST($2::bigint, available) AS amount FROM acc
          WHERE status = 'active' AND available >= $3::bigint AND LEAST($2::bigint, available) > 0
       ), upd AS (
         -- computed from the row's own columns (see STALE_CHECK at the top of this file): on the row version locked above
         -- this is exactly g.amount
         UPDATE accounts a SET held = a.held + LEAST($2::bigint, a.balance - a.held), updated_at = now()
           FROM g WHERE a.id = g.id RETURNING a.id
       ), ins AS (
         INSERT INTO holds (id, account_id, amount, request_id, expires_at)
         SELECT $4, g.id, g.amount, $5, now() + make_interval(secs => $6::double precision / 1000)
           FROM g JOIN upd ON upd.id = g.id
         RETURNING amount
       )
       SELECT acc.status, acc.available::text AS available, (SELECT amount::text FROM ins) AS granted FROM acc`,
      [p.workspaceId, p.worst.toString(), p.minimum.toString(), p.holdId, p.requestId, p.ttlMs],
    )) as Array<{ status: 'active' | 'suspended'; available: string; granted: string | null }>;
    const r = rows[0];
    if (!r) return { granted: null, status: null, available: 0n };
    return { granted: r.granted === null ? null : BigInt(r.granted), status: r.status, available: BigInt(r.available) };
  }

  /**
   * Ends a hold: charges `cost` (never more than the hold plus what is still available) to revenue and
   * releases the rest. Returns the amount charged, or null when the hold no longer exists (swept).
   */
  async settleHold(p: {
    holdId: string;
    cost: bigint;
    reference: string;
    metadata: Record<string, unknown>;
  }): Promise<bigint | null> {
    const rows = (await this.db.query(
      `WITH lock_first AS (
         -- the wallet row before the hold row, as every movement does (see the lock order above)
         SELECT a.id FROM accounts a JOIN holds x ON x.account_id = a.id WHERE x.id = $1 FOR UPDATE OF a
       ), h AS (
         DELETE FROM holds WHERE id = $1 AND EXISTS (SELECT 1 FROM lock_first) RETURNING account_id, amount
       ), acc AS (
         SELECT a.id, h.amount AS hold_amount, LEAST($2::bigint, a.balance - a.held + h.amount) AS charge
           FROM accounts a JOIN h ON a.id = h.account_id FOR UPDATE OF a
       ), w AS (
         -- acc.charge, recomputed from the row's own columns (see STALE_CHECK at the top of this file)
         UPDATE accounts a SET balance = a.balance - LEAST($2::bigint, a.balance - a.held + acc.hold_amount),
                held = a.held - acc.hold_amount, updated_at = now()
           FROM acc WHERE a.id = acc.id RETURNING acc.charge
       ), tx AS (
         INSERT INTO ledger_transactions (kind, reference, metadata)
         SELECT 'usage', $3, $4::jsonb FROM acc WHERE acc.charge > 0 RETURNING id
       ), e AS (
         INSERT INTO ledger_entries (transaction_id, account_id, amount)
         SELECT tx.id, v.account_id, v.amount
           FROM tx CROSS JOIN acc CROSS JOIN LATERAL (VALUES (acc.id, -acc.charge), ($5::uuid, acc.charge)) AS v(account_id, amount)
         RETURNING 1
       ), r AS (
         UPDATE accounts SET balance = balance + (SELECT charge FROM acc), updated_at = now()
          WHERE id = $5 AND EXISTS (SELECT 1 FROM tx) RETURNING 1
       )
       SELECT (SELECT charge::text FROM w) AS charged, (SELECT count(*) FROM e) AS entries, (SELECT count(*) FROM r) AS revenue`,
      [p.holdId, p.cost.toString(), p.reference, JSON.stringify(p.metadata), this.system('revenue')],
    )) as Array<{ charged: string | null }>;
    return rows[0]?.charged == null ? null : BigInt(rows[0].charged);
  }

  /** Usage whose hold was already swept: charge what is available, at most once per reference. */
  async chargeWithoutHold(p: {
    workspaceId: string;
    cost: bigint;
    reference: string;
    metadata: Record<string, unknown>;
  }): Promise<bigint> {
    if (p.cost <= 0n) return 0n;
    const rows = (await this.db.query(
      `WITH acc AS (
         SELECT id, LEAST($2::bigint, balance - held) AS charge FROM accounts
          WHERE type = 'workspace' AND owner_id = $1 FOR UPDATE
       ), tx AS (
         INSERT INTO ledger_transactions (kind, reference, metadata)
         SELECT 'usage', $3, $4::jsonb FROM acc WHERE acc.charge > 0
         ON CONFLICT (kind, reference) WHERE reference IS NOT NULL DO NOTHING RETURNING id
       ), w AS (
         -- acc.charge, recomputed from the row's own columns (see STALE_CHECK at the top of this file)
         UPDATE accounts a SET balance = a.balance - LEAST($2::bigint, a.balance - a.held), updated_at = now()
           FROM acc, tx WHERE a.id = acc.id RETURNING acc.charge
       ), e AS (
         INSERT INTO ledger_entries (transaction_id, account_id, amount)
         SELECT tx.id, v.account_id, v.amount
           FROM tx CROSS JOIN acc CROSS JOIN LATERAL (VALUES (acc.id, -acc.charge), ($5::uuid, acc.charge)) AS v(account_id, amount)
         RETURNING 1
       ), r AS (
         UPDATE accounts SET balance = balance + (SELECT charge FROM w), updated_at = now()
          WHERE id = $5 AND EXISTS (SELECT 1 FROM w) RETURNING 1
       )
       SELECT (SELECT charge::text FROM w) AS charged, (SELECT count(*) FROM e) AS entries, (SELECT count(*) FROM r) AS revenue`,
      [p.workspaceId, p.cost.toString(), p.reference, JSON.stringify(p.metadata), this.system('revenue')],
    )) as Array<{ charged: string | null }>;
    return rows[0]?.charged == null ? 0n : BigInt(rows[0].charged);
  }

  /** Releases holds past their expiry (left by a crashed process). Returns how many were released. */
  async sweepExpiredHolds(limit = 1000): Promise<number> {
    return this.db.transaction(async (m) => {
      // wallet rows first (in id order), then the hold rows, like every other movement
      const due = (await m.query(
        `SELECT DISTINCT account_id FROM (SELECT account_id FROM holds WHERE expires_at < now() LIMIT $1) d`,
        [limit],
      )) as Array<{
        account_id: string;
      }>;
      if (!due.length) return 0;
      const ids = due.map((d) => d.account_id).sort();
      await m.query(`SELECT id FROM accounts WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, [ids]);
      // wrapped in a SELECT: TypeORM answers a bare DELETE ... RETURNING with [rows, rowCount], not rows
      const holds = (await m.query(
        `WITH d AS (DELETE FROM holds WHERE expires_at < now() AND account_id = ANY($1::uuid[]) RETURNING account_id, amount)
         SELECT account_id, amount::text AS amount FROM d`,
        [ids],
      )) as Array<{ account_id: string; amount: string }>;
      const byAccount = new Map<string, bigint>();
      for (const h of holds) byAccount.set(h.account_id, (byAccount.get(h.account_id) ?? 0n) + BigInt(h.amount));
      for (const [id, amount] of byAccount) {
        await m.query(`UPDATE accounts SET held = held - $2::bigint, updated_at = now() WHERE id = $1`, [
          id,
          amount.toString(),
        ]);
      }
      return holds.length;
    });
  }

  // ---- admin movements ----

  /**
   * Moves `amount` from one account to another in one transaction. Wallet rows are locked in id order;
   * a wallet source must have the funds available and be active. Returns the transaction id, or null
   * when `reference` was already used for this kind (the movement happened before: nothing is done).
   */
  async move(
    p: Movement & { from: string; to: string; amount: bigint; sourceMustCover: boolean },
  ): Promise<string | null> {
    if (p.amount <= 0n) throw new RangeError('amount must be positive');
    return this.db.transaction(async (m) => {
      const locked = (await m.query(
        `SELECT id, type, status, (balance - held)::text AS available FROM accounts WHERE id = ANY($1::uuid[]) ORDER BY (type = 'system'), id FOR UPDATE`,
        [[p.from, p.to]],
      )) as Array<{ id: string; type: AccountType; status: string; available: string }>;
      const src = locked.find((a) => a.id === p.from);
      if (!src || !locked.find((a) => a.id === p.to)) throw new Error('account not found');
      if (p.sourceMustCover) {
        if (src.status !== 'active') throw new SuspendedError();
        if (BigInt(src.available) < p.amount) throw new InsufficientFundsError();
      }
      const tx = (await m.query(
        `INSERT INTO ledger_transactions (kind, reference, note, actor_id, metadata) VALUES ($1, $2, $3, $4, $5::jsonb)
         ON CONFLICT (kind, reference) WHERE reference IS NOT NULL DO NOTHING RETURNING id`,
        [p.kind, p.reference, p.note ?? null, p.actorId ?? null, p.metadata ? JSON.stringify(p.metadata) : null],
      )) as Array<{ id: string }>;
      if (!tx.length) return null;
      const amount = p.amount.toString();
      await m.query(
        `INSERT INTO ledger_entries (transaction_id, account_id, amount) VALUES ($1, $2, -$4::bigint), ($1, $3, $4::bigint)`,
        [tx[0].id, p.from, p.to, amount],
      );
      await m.query(
        `UPDATE accounts SET balance = balance + CASE WHEN id = $2 THEN $3::bigint ELSE -$3::bigint END, updated_at = now()
          WHERE id = ANY(ARRAY[$1, $2]::uuid[])`,
        [p.from, p.to, amount],
      );
      return tx[0].id;
    });
  }

  async transactionByReference(
    kind: TransactionKind,
    reference: string,
    m: EntityManager = this.db.manager,
  ): Promise<string | null> {
    const rows = (await m.query(`SELECT id FROM ledger_transactions WHERE kind = $1 AND reference = $2`, [
      kind,
      reference,
    ])) as Array<{ id: string }>;
    return rows[0]?.id ?? null;
  }

  async setStatus(accountId: string, status: 'active' | 'suspended'): Promise<void> {
    await this.db.query(`UPDATE accounts SET status = $2, updated_at = now() WHERE id = $1`, [accountId, status]);
  }
}
