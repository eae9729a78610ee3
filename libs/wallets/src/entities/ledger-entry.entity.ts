import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { bigintColumn } from '@switchyard/core';
import { Account } from './account.entity';
import { LedgerTransaction } from './ledger-transaction.entity';

/** A signed amount on one account. Append-only; a transaction's entries sum to zero (checked at commit). */
@Entity('ledger_entries')
@Check('ledger_entries_amount_non_zero', `amount <> 0`)
@Index('ledger_entries_account_id_idx', ['account_id', 'id'])
export class LedgerEntry {
  /** bigserial; pg hands it over as a string */
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Index('ledger_entries_transaction_id_idx')
  @Column('uuid', { name: 'transaction_id' })
  transaction_id!: string;

  @ManyToOne(() => LedgerTransaction)
  @JoinColumn({ name: 'transaction_id', foreignKeyConstraintName: 'ledger_entries_transaction_id_fkey' })
  transaction?: LedgerTransaction;

  @Column('uuid', { name: 'account_id' })
  account_id!: string;

  @ManyToOne(() => Account)
  @JoinColumn({ name: 'account_id', foreignKeyConstraintName: 'ledger_entries_account_id_fkey' })
  account?: Account;

  @Column('bigint', { transformer: bigintColumn })
  amount!: bigint;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  created_at!: Date;
}
