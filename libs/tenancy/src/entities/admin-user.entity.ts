import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { Agent } from './agent.entity';

export type AdminRole = 'platform_admin' | 'agent';

/** Someone who signs in to the console or the admin API: a platform admin, or an agent's user. */
@Entity('admin_users')
@Check('admin_users_role_check', `role IN ('platform_admin', 'agent')`)
@Check('admin_users_agent_check', `(role = 'agent') = (agent_id IS NOT NULL)`)
@Index('admin_users_email_key', { synchronize: false }) // unique on lower(email): declared in the migration
export class AdminUser {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('text')
  email!: string;

  @Column('text', { name: 'password_hash' })
  password_hash!: string;

  @Column('text')
  role!: AdminRole;

  @Index('admin_users_agent_id_idx')
  @Column('uuid', { name: 'agent_id', nullable: true })
  agent_id!: string | null;

  @ManyToOne(() => Agent, { onDelete: 'CASCADE', nullable: true })
  @JoinColumn({ name: 'agent_id', foreignKeyConstraintName: 'admin_users_agent_id_fkey' })
  agent?: Agent | null;

  @Column('timestamptz', { name: 'disabled_at', nullable: true })
  disabled_at!: Date | null;

  @CreateDateColumn({ type: 'timestamptz', precision: 3, name: 'created_at' })
  created_at!: Date;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updated_at!: Date;
}
