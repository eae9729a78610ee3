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
import { Agent } from './agent.entity';

/** A reseller's customer: one wallet, API keys, limits, an optional model allowlist. */
@Entity('workspaces')
@Index('workspaces_agent_id_idx', ['agent_id', 'created_at'])
export class Workspace {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'agent_id' })
  agent_id!: string;

  @ManyToOne(() => Agent, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'agent_id', foreignKeyConstraintName: 'workspaces_agent_id_fkey' })
  agent?: Agent;

  @Column('text')
  name!: string;

  @Column('integer', { nullable: true })
  rpm!: number | null;

  @Column('integer', { nullable: true })
  tpm!: number | null;

  @Column('integer', { name: 'daily_requests', nullable: true })
  daily_requests!: number | null;

  /** nanos of currency per UTC day */
  @Column('bigint', { name: 'daily_spend', nullable: true, transformer: bigintColumn })
  daily_spend!: bigint | null;

  @Column('bigint', { name: 'storage_limit_bytes', nullable: true, transformer: bigintColumn })
  storage_limit_bytes!: bigint | null;

  @Column('text', { array: true, nullable: true })
  allowlist!: string[] | null;

  @CreateDateColumn({ type: 'timestamptz', precision: 3, name: 'created_at' })
  created_at!: Date;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updated_at!: Date;
}
