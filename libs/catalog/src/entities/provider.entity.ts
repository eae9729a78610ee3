import { Check, Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type ProviderKind = 'openai' | 'anthropic' | 'gemini';

/** Quirks of OpenAI-compatible servers, as data (libs/providers reads the same shape). */
export interface ProviderQuirks {
  drop_params?: string[];
  rename_params?: Record<string, string>;
  no_stream_options?: boolean;
  supports_n?: boolean;
  headers?: Record<string, string>;
}

/** An upstream: where to send requests, how to authenticate (key encrypted at rest), its quirks. */
@Entity('providers')
@Check('providers_kind_check', `kind IN ('openai', 'anthropic', 'gemini')`)
export class Provider {
  @PrimaryColumn('text')
  id!: string;

  @Column('text')
  kind!: ProviderKind;

  @Column('text', { name: 'base_url' })
  base_url!: string;

  /** AES-256-GCM with MASTER_KEY; never returned by any API */
  @Column('text', { name: 'api_key_enc', nullable: true })
  api_key_enc!: string | null;

  @Column('integer', { name: 'timeout_ms', default: 60000 })
  timeout_ms!: number;

  /** everything but `headers`, which live sealed in secret_headers */
  @Column('jsonb', { default: {} })
  quirks!: ProviderQuirks;

  /** quirks.headers, each value AES-256-GCM with MASTER_KEY (they often are credentials); never returned */
  @Column('jsonb', { name: 'secret_headers', default: {} })
  secret_headers!: Record<string, string>;

  @Column('boolean', { default: true })
  enabled!: boolean;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  created_at!: Date;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updated_at!: Date;
}
