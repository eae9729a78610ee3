import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { AdminUser } from '@switchyard/tenancy';

/** A console session (from login) or a long-lived agent API token for scripts. Stored hashed. */
@Entity('admin_tokens')
@Check('admin_tokens_kind_check', `kind IN ('session', 'api')`)
export class AdminToken {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Index('admin_tokens_user_id_idx')
  @Column('uuid', { name: 'user_id' })
  user_id!: string;

  @ManyToOne(() => AdminUser, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'admin_tokens_user_id_fkey' })
  user?: AdminUser;

  @Column('text')
  kind!: 'session' | 'api';

  @Column('text', { nullable: true })
  name!: string | null;

  @Index('admin_tokens_token_hash_key', { unique: true })
  @Column('text', { name: 'token_hash' })
  token_hash!: string;

  @Column('text')
  prefix!: string;

  @Column('timestamptz', { name: 'expires_at', nullable: true })
  expires_at!: Date | null;

  @Column('timestamptz', { name: 'last_used_at', nullable: true })
  last_used_at!: Date | null;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revoked_at!: Date | null;

  @CreateDateColumn({ type: 'timestamptz', precision: 3, name: 'created_at' })
  created_at!: Date;
}
