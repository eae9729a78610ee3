import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One row per /v1 request, partitioned by month so it can grow for years (old months detach or drop
 * cheaply). The app creates the coming months' partitions at start; the default partition catches the rest.
 */
export class CreateUsageLog1764100000003 implements MigrationInterface {
  name = 'CreateUsageLog1764100000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE usage_log (
        id uuid NOT NULL,
        request_id text NOT NULL,
        created_at timestamptz NOT NULL,
        agent_id uuid NULL,
        workspace_id uuid NULL,
        api_key_id uuid NULL,
        endpoint text NOT NULL,
        model_requested text NULL,
        model_used text NULL,
        provider_id text NULL,
        status integer NOT NULL,
        error_code text NULL,
        input_tokens integer NOT NULL DEFAULT 0,
        cached_input_tokens integer NOT NULL DEFAULT 0,
        output_tokens integer NOT NULL DEFAULT 0,
        cost bigint NOT NULL DEFAULT 0,
        latency_ms integer NULL,
        ttft_ms integer NULL,
        stream boolean NOT NULL DEFAULT false,
        client_label text NULL,
        fallback_depth integer NOT NULL DEFAULT 0,
        client_ip text NULL,
        PRIMARY KEY (created_at, id)
      ) PARTITION BY RANGE (created_at)`);
    await q.query(`CREATE TABLE usage_log_default PARTITION OF usage_log DEFAULT`);
    await q.query(`CREATE INDEX usage_log_workspace_idx ON usage_log (workspace_id, created_at)`);
    await q.query(`CREATE INDEX usage_log_agent_idx ON usage_log (agent_id, created_at)`);
    await q.query(`CREATE INDEX usage_log_request_id_idx ON usage_log (request_id)`);
    // Creates the partition of the month containing `day` when it does not exist yet.
    await q.query(`
      CREATE FUNCTION usage_log_ensure_partition(day date) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        start_month date := date_trunc('month', day)::date;
        name text := 'usage_log_' || to_char(start_month, 'YYYY_MM');
      BEGIN
        IF to_regclass(name) IS NULL THEN
          EXECUTE format('CREATE TABLE %I PARTITION OF usage_log FOR VALUES FROM (%L) TO (%L)',
                         name, start_month, (start_month + interval '1 month')::date);
        END IF;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION usage_log_ensure_partition(date)`);
    await q.query(`DROP TABLE usage_log`);
  }
}
