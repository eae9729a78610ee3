import { MigrationInterface, QueryRunner } from 'typeorm';

/** Providers (upstreams, keys encrypted at rest) and models (prices, capabilities, routes, fallbacks). */
export class CreateCatalog1764100000001 implements MigrationInterface {
  name = 'CreateCatalog1764100000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE providers (
        id text PRIMARY KEY,
        kind text NOT NULL,
        base_url text NOT NULL,
        api_key_enc text NULL,
        timeout_ms integer NOT NULL DEFAULT 60000,
        quirks jsonb NOT NULL DEFAULT '{}',
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT providers_kind_check CHECK (kind IN ('openai', 'anthropic', 'gemini'))
      )`);
    await q.query(`
      CREATE TABLE models (
        id text PRIMARY KEY,
        kind text NOT NULL,
        owned_by text NOT NULL,
        aliases text[] NOT NULL DEFAULT '{}',
        capabilities jsonb NOT NULL DEFAULT '{}',
        price jsonb NOT NULL DEFAULT '{}',
        routes jsonb NOT NULL DEFAULT '[]',
        fallbacks text[] NOT NULL DEFAULT '{}',
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT models_kind_check CHECK (kind IN ('chat', 'embedding', 'image', 'speech', 'transcription', 'video', 'music'))
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE models`);
    await q.query(`DROP TABLE providers`);
  }
}
