import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The double-entry ledger (DESIGN.md "Money"): accounts with their balance and holds on the row,
 * append-only entries whose sum per transaction is zero (checked by the database at commit), and holds.
 */
export class CreateLedger1764100000002 implements MigrationInterface {
  name = 'CreateLedger1764100000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE accounts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        type text NOT NULL,
        owner_id uuid NULL,
        code text NULL,
        currency text NOT NULL,
        balance bigint NOT NULL DEFAULT 0,
        held bigint NOT NULL DEFAULT 0,
        status text NOT NULL DEFAULT 'active',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT accounts_type_check CHECK (type IN ('workspace', 'agent', 'system')),
        CONSTRAINT accounts_status_check CHECK (status IN ('active', 'suspended')),
        CONSTRAINT accounts_held_non_negative CHECK (held >= 0),
        -- the wallet invariant: what is left after holds never goes below zero (system accounts mint)
        CONSTRAINT accounts_available_non_negative CHECK (type = 'system' OR balance - held >= 0),
        CONSTRAINT accounts_owner_check CHECK ((type = 'system') = (owner_id IS NULL) AND (type = 'system') = (code IS NOT NULL))
      )`);
    await q.query(`CREATE UNIQUE INDEX accounts_owner_key ON accounts (type, owner_id) WHERE owner_id IS NOT NULL`);
    await q.query(`CREATE UNIQUE INDEX accounts_code_key ON accounts (code) WHERE code IS NOT NULL`);
    await q.query(`
      CREATE TABLE ledger_transactions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        kind text NOT NULL,
        reference text NULL,
        note text NULL,
        actor_id uuid NULL,
        metadata jsonb NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ledger_transactions_kind_check CHECK (kind IN ('recharge', 'transfer', 'usage', 'stripe_topup', 'adjustment'))
      )`);
    // A reference (request id, Stripe session id) is used once per kind: a replay cannot post twice.
    await q.query(
      `CREATE UNIQUE INDEX ledger_transactions_reference_key ON ledger_transactions (kind, reference) WHERE reference IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE ledger_entries (
        id bigserial PRIMARY KEY,
        transaction_id uuid NOT NULL REFERENCES ledger_transactions(id),
        account_id uuid NOT NULL REFERENCES accounts(id),
        amount bigint NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ledger_entries_amount_non_zero CHECK (amount <> 0)
      )`);
    await q.query(`CREATE INDEX ledger_entries_account_id_idx ON ledger_entries (account_id, id)`);
    await q.query(`CREATE INDEX ledger_entries_transaction_id_idx ON ledger_entries (transaction_id)`);
    await q.query(`
      CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF (SELECT coalesce(sum(amount), 0) FROM ledger_entries WHERE transaction_id = NEW.transaction_id) <> 0 THEN
          RAISE EXCEPTION 'ledger transaction % does not balance', NEW.transaction_id USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced()`);
    await q.query(`
      CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'ledger entries are append-only' USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
      FOR EACH ROW EXECUTE FUNCTION ledger_append_only()`);
    await q.query(`
      CREATE TABLE holds (
        id uuid PRIMARY KEY,
        account_id uuid NOT NULL REFERENCES accounts(id),
        amount bigint NOT NULL,
        request_id text NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        CONSTRAINT holds_amount_positive CHECK (amount > 0)
      )`);
    await q.query(`CREATE INDEX holds_expires_at_idx ON holds (expires_at)`);
    await q.query(`CREATE INDEX holds_account_id_idx ON holds (account_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE holds`);
    await q.query(`DROP TABLE ledger_entries`);
    await q.query(`DROP FUNCTION ledger_append_only()`);
    await q.query(`DROP FUNCTION ledger_check_balanced()`);
    await q.query(`DROP TABLE ledger_transactions`);
    await q.query(`DROP TABLE accounts`);
  }
}
