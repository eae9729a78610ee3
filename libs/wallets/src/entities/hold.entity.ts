import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { bigintColumn } from '@switchyard/core';
import { Account } from './account.entity';

/** Funds reserved for one in-flight request; settled, released, or swept after `expires_at`. */
@Entity('holds')
@Check('holds_amount_positive', `amount > 0`)
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

  @Column('text', { name: 'request_id', nullable: true })
  request_id!: string | null;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  created_at!: Date;

  @Index('holds_expires_at_idx')
  @Column('timestamptz', { name: 'expires_at' })
  expires_at!: Date;
}
