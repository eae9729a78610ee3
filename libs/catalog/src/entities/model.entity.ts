import { Check, Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { PriceSpec } from '../pricing';

export type ModelKind = 'chat' | 'embedding' | 'image' | 'speech' | 'transcription' | 'video' | 'music';

export interface Capabilities {
  vision?: boolean;
  tools?: boolean;
  json_mode?: boolean;
  audio_input?: boolean;
  multimodal?: boolean;
  dimensions?: number;
  context_length?: number;
  max_output_tokens?: number;
}

export interface ModelRoute {
  provider: string;
  /** the model id the upstream knows */
  model: string;
  /** lower first */
  priority?: number;
  /** spreads load among routes of equal priority */
  weight?: number;
}

/** A model clients ask for: its capabilities, prices, the routes that serve it, its fallbacks. */
@Entity('models')
@Check('models_kind_check', `kind IN ('chat', 'embedding', 'image', 'speech', 'transcription', 'video', 'music')`)
export class Model {
  @PrimaryColumn('text')
  id!: string;

  @Column('text')
  kind!: ModelKind;

  @Column('text', { name: 'owned_by' })
  owned_by!: string;

  /** other ids that reach this model, e.g. `anthropic/claude-sonnet-4.6` */
  @Column('text', { array: true, default: () => "'{}'" })
  aliases!: string[];

  @Column('jsonb', { default: {} })
  capabilities!: Capabilities;

  @Column('jsonb', { default: {} })
  price!: PriceSpec;

  @Column('jsonb', { default: [] })
  routes!: ModelRoute[];

  @Column('text', { array: true, default: () => "'{}'" })
  fallbacks!: string[];

  @Column('boolean', { default: true })
  enabled!: boolean;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  created_at!: Date;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updated_at!: Date;
}
