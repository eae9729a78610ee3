import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Holds become of two kinds: `request` (one request or job, as before) and `lease` (a block of a
 * wallet's funds reserved by one gateway process, which serves many requests from it in memory and
 * charges them in batches). A lease may be spent down to zero before it is topped up or released.
 */
export class HoldsForWalletLeases1764100000005 implements MigrationInterface {
  name = 'HoldsForWalletLeases1764100000005';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE holds ADD COLUMN kind text NOT NULL DEFAULT 'request'`);
    await q.query(`ALTER TABLE holds ADD CONSTRAINT holds_kind_check CHECK (kind IN ('request', 'lease'))`);
    await q.query(`ALTER TABLE holds DROP CONSTRAINT holds_amount_positive`);
    await q.query(`ALTER TABLE holds ADD CONSTRAINT holds_amount_non_negative CHECK (amount >= 0)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM holds WHERE amount = 0`);
    await q.query(`ALTER TABLE holds DROP CONSTRAINT holds_amount_non_negative`);
    await q.query(`ALTER TABLE holds ADD CONSTRAINT holds_amount_positive CHECK (amount > 0)`);
    await q.query(`ALTER TABLE holds DROP CONSTRAINT holds_kind_check`);
    await q.query(`ALTER TABLE holds DROP COLUMN kind`);
  }
}
