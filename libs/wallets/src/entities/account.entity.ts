import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { bigintColumn } from '@switchyard/core';

export type AccountType = 'workspace' | 'agent' | 'system';
export type SystemAccount = 'treasury' | 'revenue' | 'stripe_clearing';

/**
 * A ledger account: a workspace's or an agent's wallet, or a system account (treasury mints credit,
 * revenue receives usage, stripe_clearing funds card top-ups). `balance` is the sum of its entries,
 * kept on the row; `held` is reserved by in-flight requests. Checks live in the migration:
 * held >= 0 and, for wallets, balance - held >= 0.
 */
@Entity('accounts')
@Index('accounts_owner_key', ['type', 'owner_id'], { unique: true, where: 'owner_id IS NOT NULL' })
@Index('accounts_code_key', ['code'], { unique: true, where: 'code IS NOT NULL' })
@Check('accounts_type_check', `type IN ('workspace', 'agent', 'system')`)
@Check('accounts_status_check', `status IN ('active', 'suspended')`)
@Check('accounts_held_non_negative', `held >= 0`)
@Check('accounts_available_non_negative', `type = 'system' OR balance - held >= 0`)
@Check('accounts_owner_check', `(type = 'system') = (owner_id IS NULL) AND (type = 'system') = (code IS NOT NULL)`)
export class Account {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('text')
  type!: AccountType;

  @Column('uuid', { name: 'owner_id', nullable: true })
  owner_id!: string | null;

  @Column('text', { nullable: true })
  code!: SystemAccount | null;

  @Column('text')
  currency!: string;

  @Column('bigint', { default: 0, transformer: bigintColumn })
  balance!: bigint;

  @Column('bigint', { default: 0, transformer: bigintColumn })
  held!: bigint;

  @Column('text', { default: 'active' })
  status!: 'active' | 'suspended';

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  created_at!: Date;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updated_at!: Date;
}
