import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type TransactionKind = 'recharge' | 'transfer' | 'usage' | 'stripe_topup' | 'adjustment';

/** One money movement. `reference` (request id, Stripe session, idempotency key) is unique per kind. */
@Entity('ledger_transactions')
@Index('ledger_transactions_reference_key', ['kind', 'reference'], { unique: true, where: 'reference IS NOT NULL' })
@Check('ledger_transactions_kind_check', `kind IN ('recharge', 'transfer', 'usage', 'stripe_topup', 'adjustment')`)
export class LedgerTransaction {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('text')
  kind!: TransactionKind;

  @Column('text', { nullable: true })
  reference!: string | null;

  @Column('text', { nullable: true })
  note!: string | null;

  @Column('uuid', { name: 'actor_id', nullable: true })
  actor_id!: string | null;

  @Column('jsonb', { nullable: true })
  metadata!: Record<string, unknown> | null;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  created_at!: Date;
}
