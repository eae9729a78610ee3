import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A reseller: owns workspaces (its customers) and a wallet of its own. */
@Entity('agents')
export class Agent {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('text')
  name!: string;

  /** model patterns this agent (and so every workspace under it) may use; null: no restriction */
  @Column('text', { array: true, nullable: true })
  allowlist!: string[] | null;

  @CreateDateColumn({ type: 'timestamptz', precision: 3, name: 'created_at' })
  created_at!: Date;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updated_at!: Date;
}
