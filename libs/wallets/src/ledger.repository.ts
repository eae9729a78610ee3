// Every money movement, in SQL where the SQL matters. Each movement is one database transaction (most
// are one statement) that writes balanced entries and updates the account rows it touches. Lock order
// is fixed to rule out deadlocks: wallet rows first (by id when there are two), system accounts last.
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { AccountType, SystemAccount } from './entities/account.entity';
import type { TransactionKind } from './entities/ledger-transaction.entity';

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

  /** A two-entry movement's transaction by its reference: from which account, to which, how much. */
  async movementByReference(
    kind: TransactionKind,
    reference: string,
  ): Promise<{ id: string; from: string; to: string; amount: bigint } | null> {
    const rows = (await this.db.query(
      `SELECT t.id, e.account_id, e.amount::text AS amount FROM ledger_transactions t
         JOIN ledger_entries e ON e.transaction_id = t.id WHERE t.kind = $1 AND t.reference = $2`,
      [kind, reference],
    )) as Array<{ id: string; account_id: string; amount: string }>;
    const from = rows.find((r) => BigInt(r.amount) < 0n);
    const to = rows.find((r) => BigInt(r.amount) > 0n);
    if (rows.length !== 2 || !from || !to) return null;
    return { id: to.id, from: from.account_id, to: to.account_id, amount: BigInt(to.amount) };
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
