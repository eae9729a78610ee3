import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { bigintColumn } from '@switchyard/core';
import { Account } from './account.entity';

/**
 * Funds reserved on a wallet: for one request or job (`request`), or a process's lease that serves many
 * requests and is charged in batches (`lease`). Settled, released, or swept after `expires_at`.
 */
@Entity('holds')
@Check('holds_amount_non_negative', `amount >= 0`)
@Check('holds_kind_check', `kind IN ('request', 'lease')`)
export class Hold {
  @PrimaryColumn('uuid')
  id!: string;

  @Index('holds_account_id_idx')
  @Column('uuid', { name: 'account_id' })
  account_id!: string;

  @ManyToOne(() => Account)
  @JoinColumn({ name: 'account_id', foreignKeyConstraintName: 'holds_account_id_fkey' })
  account?: Account;

  @Column('bigint', { transformer: bigintColumn })
  amount!: bigint;

  @Column('text', { default: 'request' })
  kind!: 'request' | 'lease';

  @Column('text', { name: 'request_id', nullable: true })
  request_id!: string | null;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  created_at!: Date;

  @Index('holds_expires_at_idx')
  @Column('timestamptz', { name: 'expires_at' })
  expires_at!: Date;
}
