import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
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
