// SQL of wallet leases. A lease is a hold row of kind 'lease' owned by one process: grown by one
// statement, charged in batches (one transaction for every lease of the process that has pending
// charges), kept alive by a heartbeat, released when idle. Lock order as everywhere: wallet rows first
// (by id), then hold rows, the revenue account last; a statement that starts from a hold row locks its
// wallet row before touching the hold (otherwise a grow and a release of one lease deadlock).
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface LeaseGrowth {
  status: 'active' | 'suspended' | null;
  available: bigint;
  accountId: string | null;
  /** null: not granted (no wallet, suspended, or less than the minimum available) */
  granted: bigint | null;
}

export interface LeaseCharge {
  holdId: string;
  accountId: string;
  amount: bigint;
}

/** What one lease's charge took: from its hold row, and beyond it from the wallet's available funds. */
export interface LeasePosting {
  fromLease: bigint;
  loose: bigint;
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);
const max = (a: bigint, b: bigint) => (a > b ? a : b);

@Injectable()
export class LeaseRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Adds to a lease (creating its hold row the first time): at most `ideal`; when the wallet runs low, at
   * most half of what is available (leaving room for other processes) unless `full` is needed for the
   * request at hand; never less than `need`. Computed from the wallet row's own columns (see STALE_CHECK
   * in ledger.repository.ts).
   */
  async grow(p: {
    workspaceId: string;
    holdId: string;
    ideal: bigint;
    full: bigint;
    need: bigint;
    ttlMs: number;
  }): Promise<LeaseGrowth> {
    const amount = `LEAST($2::bigint, GREATEST($3::bigint, (a.balance - a.held) / 2), a.balance - a.held)`;
    const rows = (await this.db.query(
      `WITH acc AS (
         SELECT id, status, balance - held AS available FROM accounts a
          WHERE type = 'workspace' AND owner_id = $1 FOR UPDATE
       ), g AS (
         SELECT acc.id, LEAST($2::bigint, GREATEST($3::bigint, acc.available / 2), acc.available) AS amount FROM acc
          WHERE acc.status = 'active' AND acc.available >= $4::bigint
            AND LEAST($2::bigint, GREATEST($3::bigint, acc.available / 2), acc.available) > 0
       ), upd AS (
         UPDATE accounts a SET held = a.held + ${amount}, updated_at = now() FROM g WHERE a.id = g.id RETURNING a.id
       ), h AS (
         INSERT INTO holds (id, account_id, amount, kind, expires_at)
         SELECT $5, g.id, g.amount, 'lease', now() + make_interval(secs => $6::double precision / 1000) FROM g JOIN upd ON upd.id = g.id
         ON CONFLICT (id) DO UPDATE SET amount = holds.amount + EXCLUDED.amount, expires_at = EXCLUDED.expires_at
         RETURNING amount
       )
       SELECT acc.id, acc.status, acc.available::text AS available, (SELECT amount::text FROM g) AS granted, (SELECT count(*) FROM h) AS written FROM acc`,
      [p.workspaceId, p.ideal.toString(), p.full.toString(), p.need.toString(), p.holdId, p.ttlMs],
    )) as Array<{ id: string; status: 'active' | 'suspended'; available: string; granted: string | null }>;
    const r = rows[0];
    if (!r) return { status: null, available: 0n, accountId: null, granted: null };
    return {
      status: r.status,
      available: BigInt(r.available),
      accountId: r.id,
      granted: r.granted === null ? null : BigInt(r.granted),
    };
  }

  /**
   * Posts the pending charges of several leases in one transaction: each wallet pays from its lease (balance
   * and held go down together, so what is available does not change), revenue receives the total, and one
   * ledger transaction with balanced entries records it. A charge larger than what its lease row still
   * holds (the row was swept after the process stalled, or is short) takes all the row has, and only the
   * rest from what the wallet has available: never below zero, and never losing the part the lease covers.
   *
   * `reference` names the batch: a retry with the same reference (the first attempt's commit may have
   * happened without its acknowledgement reaching us) posts nothing and answers what the first one posted.
   * Returns, per hold, what was taken from the lease and what was taken loose.
   */
  async charge(
    charges: LeaseCharge[],
    revenueId: string,
    reference: string,
    metadata: Record<string, unknown>,
    ttlMs: number,
  ): Promise<Map<string, LeasePosting>> {
    const live = charges.filter((c) => c.amount > 0n);
    const posted = new Map<string, LeasePosting>();
    if (!live.length) return posted;
    await this.db.transaction(async (m) => {
      const accountIds = [...new Set(live.map((c) => c.accountId))].sort();
      // wallet rows locked in id order; each statement below sees them as locked (a fresh snapshot), and
      // no other statement changes these wallets' lease rows meanwhile (all of them lock the wallet first)
      const locked = (await m.query(
        `SELECT id, (balance - held)::text AS available FROM accounts WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
        [accountIds],
      )) as Array<{ id: string; available: string }>;
      // a first attempt of this batch that committed holds these locks until it is done: this sees it
      const prior = (await m.query(
        `SELECT metadata->'posted' AS posted FROM ledger_transactions WHERE kind = 'usage' AND reference = $1`,
        [reference],
      )) as Array<{ posted: Record<string, [string, string]> | null }>;
      if (prior.length) {
        for (const [holdId, [fromLease, loose]] of Object.entries(prior[0].posted ?? {}))
          posted.set(holdId, { fromLease: BigInt(fromLease), loose: BigInt(loose) });
        return;
      }
      const available = new Map(locked.map((r) => [r.id, BigInt(r.available)]));
      const rows = (await m.query(`SELECT id, amount::text AS amount FROM holds WHERE id = ANY($1::uuid[])`, [
        live.map((c) => c.holdId),
      ])) as Array<{ id: string; amount: string }>;
      const inLease = new Map(rows.map((r) => [r.id, BigInt(r.amount)]));
      const perAccount = new Map<string, { fromHold: bigint; loose: bigint }>();
      for (const c of live) {
        const a = perAccount.get(c.accountId) ?? { fromHold: 0n, loose: 0n };
        const fromLease = min(c.amount, inLease.get(c.holdId) ?? 0n);
        // beyond the lease row: only what the wallet has available
        const avail = available.get(c.accountId) ?? 0n;
        const loose = max(0n, min(c.amount - fromLease, avail));
        available.set(c.accountId, avail - loose);
        a.fromHold += fromLease;
        a.loose += loose;
        posted.set(c.holdId, { fromLease, loose });
        perAccount.set(c.accountId, a);
      }
      const taken = [...posted].filter(([, p]) => p.fromLease > 0n);
      if (taken.length)
        await m.query(
          `UPDATE holds h SET amount = h.amount - v.take, expires_at = now() + make_interval(secs => $3::double precision / 1000)
             FROM unnest($1::uuid[], $2::bigint[]) AS v(id, take) WHERE h.id = v.id`,
          [taken.map(([id]) => id), taken.map(([, p]) => p.fromLease.toString()), ttlMs],
        );
      const ids = [...perAccount.keys()];
      const charged = ids.map((i) => perAccount.get(i)!.fromHold + perAccount.get(i)!.loose);
      const total = charged.reduce((s, v) => s + v, 0n);
      if (total === 0n) return;
      await m.query(
        `UPDATE accounts a SET balance = a.balance - v.charged, held = a.held - v.from_hold, updated_at = now()
           FROM unnest($1::uuid[], $2::bigint[], $3::bigint[]) AS v(id, charged, from_hold) WHERE a.id = v.id`,
        [ids, charged.map(String), ids.map((i) => perAccount.get(i)!.fromHold.toString())],
      );
      const record = Object.fromEntries([...posted].map(([id, p]) => [id, [String(p.fromLease), String(p.loose)]]));
      const tx = (await m.query(
        `INSERT INTO ledger_transactions (kind, reference, metadata) VALUES ('usage', $1, $2::jsonb) RETURNING id`,
        [reference, JSON.stringify({ ...metadata, posted: record })],
      )) as Array<{ id: string }>;
      await m.query(
        `INSERT INTO ledger_entries (transaction_id, account_id, amount)
         SELECT $1::uuid, v.id, -v.amount FROM unnest($2::uuid[], $3::bigint[]) AS v(id, amount) WHERE v.amount <> 0
         UNION ALL SELECT $1::uuid, $4::uuid, $5::bigint`,
        [tx[0].id, ids, charged.map(String), revenueId, total.toString()],
      );
      await m.query(`UPDATE accounts SET balance = balance + $2::bigint, updated_at = now() WHERE id = $1`, [
        revenueId,
        total.toString(),
      ]);
    });
    return posted;
  }

  /** Gives a lease's unspent funds back to its wallet. The wallet row is locked before the lease row. */
  async shrink(holdId: string, amount: bigint): Promise<void> {
    if (amount <= 0n) return;
    await this.db.query(
      `WITH acc AS (SELECT a.id FROM accounts a JOIN holds l ON l.account_id = a.id WHERE l.id = $1 FOR UPDATE OF a),
       h AS (UPDATE holds SET amount = amount - $2::bigint WHERE id = $1 AND amount >= $2::bigint AND EXISTS (SELECT 1 FROM acc) RETURNING account_id)
       UPDATE accounts a SET held = a.held - $2::bigint, updated_at = now() FROM h WHERE a.id = h.account_id`,
      [holdId, amount.toString()],
    );
  }

  /** Deletes a lease's row and releases what it still held (wallet row locked first). */
  async release(holdId: string): Promise<void> {
    await this.db.query(
      `WITH acc AS (SELECT a.id FROM accounts a JOIN holds l ON l.account_id = a.id WHERE l.id = $1 FOR UPDATE OF a),
       h AS (DELETE FROM holds WHERE id = $1 AND EXISTS (SELECT 1 FROM acc) RETURNING account_id, amount)
       UPDATE accounts a SET held = a.held - h.amount, updated_at = now() FROM h WHERE a.id = h.account_id`,
      [holdId],
    );
  }

  /**
   * Keeps live leases from being swept. Returns the ids that no longer exist, and those whose wallet is
   * suspended (the suspension's pub/sub message may have been lost: this bounds how long it takes).
   */
  async heartbeat(holdIds: string[], ttlMs: number): Promise<{ gone: string[]; suspended: string[] }> {
    if (!holdIds.length) return { gone: [], suspended: [] };
    const rows = (await this.db.query(
      `WITH u AS (UPDATE holds SET expires_at = now() + make_interval(secs => $2::double precision / 1000) WHERE id = ANY($1::uuid[]) RETURNING id, account_id)
       SELECT u.id, a.status FROM u JOIN accounts a ON a.id = u.account_id`,
      [holdIds, ttlMs],
    )) as Array<{ id: string; status: string }>;
    const alive = new Set(rows.map((r) => r.id));
    return {
      gone: holdIds.filter((id) => !alive.has(id)),
      suspended: rows.filter((r) => r.status !== 'active').map((r) => r.id),
    };
  }
}
