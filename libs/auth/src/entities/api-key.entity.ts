import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { bigintColumn } from '@switchyard/core';
import { Workspace } from '@switchyard/tenancy';

/** A workspace's API key. Only its SHA-256 is stored; `prefix` is what the console shows. */
@Entity('api_keys')
@Index('api_keys_workspace_id_idx', ['workspace_id', 'created_at'])
export class ApiKey {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'workspace_id' })
  workspace_id!: string;

  @ManyToOne(() => Workspace, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workspace_id', foreignKeyConstraintName: 'api_keys_workspace_id_fkey' })
  workspace?: Workspace;

  @Column('text')
  name!: string;

  @Index('api_keys_key_hash_key', { unique: true })
  @Column('text', { name: 'key_hash' })
  key_hash!: string;

  @Column('text')
  prefix!: string;

  @Column('integer', { nullable: true })
  rpm!: number | null;

  @Column('integer', { nullable: true })
  tpm!: number | null;

  @Column('integer', { name: 'daily_requests', nullable: true })
  daily_requests!: number | null;

  @Column('bigint', { name: 'daily_spend', nullable: true, transformer: bigintColumn })
  daily_spend!: bigint | null;

  @Column('text', { array: true, nullable: true })
  allowlist!: string[] | null;

  @Column('timestamptz', { name: 'expires_at', nullable: true })
  expires_at!: Date | null;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revoked_at!: Date | null;

  @Column('timestamptz', { name: 'last_used_at', nullable: true })
  last_used_at!: Date | null;

  @CreateDateColumn({ type: 'timestamptz', precision: 3, name: 'created_at' })
  created_at!: Date;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updated_at!: Date;
}
