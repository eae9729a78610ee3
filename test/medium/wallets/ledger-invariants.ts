// The ledger's invariants over a whole database, for every money test.
import type { DataSource } from 'typeorm';

/**
 * Every invariant of the ledger, over the whole database: no wallet below zero (now, or at any point of
 * its entry history), every transaction balanced and non-empty, balances equal to the sum of entries,
 * `held` equal to the sum of live holds.
 */
export async function expectLedgerInvariantsIn(db: DataSource): Promise<void> {
  expect(
    await db.query(
      `SELECT id FROM accounts WHERE type <> 'system' AND (balance < 0 OR held < 0 OR balance - held < 0)`,
    ),
  ).toEqual([]);
  expect(
    await db.query(`SELECT transaction_id FROM ledger_entries GROUP BY transaction_id HAVING sum(amount) <> 0`),
  ).toEqual([]);
  expect(
    await db.query(
      `SELECT t.id FROM ledger_transactions t WHERE (SELECT count(*) FROM ledger_entries e WHERE e.transaction_id = t.id) < 2`,
    ),
  ).toEqual([]);
  expect(
    await db.query(
      `SELECT a.id, a.balance::text, coalesce(e.s, 0)::text AS entries FROM accounts a
         LEFT JOIN (SELECT account_id, sum(amount) AS s FROM ledger_entries GROUP BY account_id) e ON e.account_id = a.id
        WHERE a.balance <> coalesce(e.s, 0)`,
    ),
  ).toEqual([]);
  expect(
    await db.query(
      `SELECT a.id FROM accounts a LEFT JOIN (SELECT account_id, sum(amount) AS s FROM holds GROUP BY account_id) h ON h.account_id = a.id
        WHERE a.held <> coalesce(h.s, 0)`,
    ),
  ).toEqual([]);
  // Each movement writes a wallet's entries while holding that wallet's row lock, so entry ids follow
  // the order the movements happened in: the running balance is the wallet's balance through time.
  expect(
    await db.query(
      `SELECT account_id, min(running)::text AS lowest FROM (
         SELECT e.account_id, sum(e.amount) OVER (PARTITION BY e.account_id ORDER BY e.id) AS running
           FROM ledger_entries e JOIN accounts a ON a.id = e.account_id WHERE a.type <> 'system') r
        GROUP BY account_id HAVING min(running) < 0`,
    ),
  ).toEqual([]);
}
