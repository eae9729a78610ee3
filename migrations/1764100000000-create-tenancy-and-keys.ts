import { MigrationInterface, QueryRunner } from 'typeorm';

/** Agents (resellers), admin users and their tokens, workspaces (customers) and API keys. */
export class CreateTenancyAndKeys1764100000000 implements MigrationInterface {
  name = 'CreateTenancyAndKeys1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE agents (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        allowlist text[] NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE admin_users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email text NOT NULL,
        password_hash text NOT NULL,
        role text NOT NULL,
        agent_id uuid NULL REFERENCES agents(id) ON DELETE CASCADE,
        disabled_at timestamptz NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT admin_users_role_check CHECK (role IN ('platform_admin', 'agent')),
        CONSTRAINT admin_users_agent_check CHECK ((role = 'agent') = (agent_id IS NOT NULL))
      )`);
    await q.query(`CREATE UNIQUE INDEX admin_users_email_key ON admin_users (lower(email))`);
    await q.query(`CREATE INDEX admin_users_agent_id_idx ON admin_users (agent_id)`);
    await q.query(`
      CREATE TABLE admin_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES admin_users(id) ON DELETE CASCADE,
        kind text NOT NULL,
        name text NULL,
        token_hash text NOT NULL,
        prefix text NOT NULL,
        expires_at timestamptz NULL,
        last_used_at timestamptz NULL,
        revoked_at timestamptz NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT admin_tokens_kind_check CHECK (kind IN ('session', 'api'))
      )`);
    await q.query(`CREATE UNIQUE INDEX admin_tokens_token_hash_key ON admin_tokens (token_hash)`);
    await q.query(`CREATE INDEX admin_tokens_user_id_idx ON admin_tokens (user_id)`);
    await q.query(`
      CREATE TABLE workspaces (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        agent_id uuid NOT NULL REFERENCES agents(id) ON DELETE RESTRICT,
        name text NOT NULL,
        rpm integer NULL,
        tpm integer NULL,
        daily_requests integer NULL,
        daily_spend bigint NULL,
        storage_limit_bytes bigint NULL,
        allowlist text[] NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX workspaces_agent_id_idx ON workspaces (agent_id, created_at)`);
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        name text NOT NULL,
        key_hash text NOT NULL,
        prefix text NOT NULL,
        rpm integer NULL,
        tpm integer NULL,
        daily_requests integer NULL,
        daily_spend bigint NULL,
        allowlist text[] NULL,
        expires_at timestamptz NULL,
        revoked_at timestamptz NULL,
        last_used_at timestamptz NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX api_keys_key_hash_key ON api_keys (key_hash)`);
    await q.query(`CREATE INDEX api_keys_workspace_id_idx ON api_keys (workspace_id, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_keys`);
    await q.query(`DROP TABLE workspaces`);
    await q.query(`DROP TABLE admin_tokens`);
    await q.query(`DROP TABLE admin_users`);
    await q.query(`DROP TABLE agents`);
  }
}
