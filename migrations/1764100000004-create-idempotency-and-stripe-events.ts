import { MigrationInterface, QueryRunner } from 'typeorm';

/** Stored first responses for Idempotency-Key, and the Stripe events already processed. */
export class CreateIdempotencyAndStripeEvents1764100000004 implements MigrationInterface {
  name = 'CreateIdempotencyAndStripeEvents1764100000004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idempotency_keys (
        scope text NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        state text NOT NULL,
        status integer NULL,
        headers jsonb NULL,
        body bytea NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (scope, key),
        CONSTRAINT idempotency_keys_state_check CHECK (state IN ('running', 'done'))
      )`);
    await q.query(`CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at)`);
    await q.query(`
      CREATE TABLE stripe_events (
        id text PRIMARY KEY,
        type text NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE stripe_events`);
    await q.query(`DROP TABLE idempotency_keys`);
  }
}
