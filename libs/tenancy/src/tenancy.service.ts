// Agents, workspaces and admin users, with the tenancy rule applied in one place: an agent sees only
// its own workspaces; anything else answers 404 as if it did not exist (ids cannot be probed).
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { GatewayError, InvalidationBus } from '@switchyard/core';
import { AdminPrincipal, isPlatformAdmin } from './admin-principal';
import { AdminUser } from './entities/admin-user.entity';
import { Agent } from './entities/agent.entity';
import { Workspace } from './entities/workspace.entity';
import { isUuid, notFound, optionalQueryId } from './ids';
import { decodeCursor, encodeCursor, Page } from './pagination';
import { hashPassword } from './passwords';

export interface WorkspaceChanges {
  name?: string;
  rpm?: number | null;
  tpm?: number | null;
  daily_requests?: number | null;
  daily_spend?: bigint | null;
  storage_limit_bytes?: bigint | null;
}

@Injectable()
export class TenancyService {
  constructor(
    private readonly db: DataSource,
    @InjectRepository(Agent) private readonly agents: Repository<Agent>,
    @InjectRepository(Workspace) private readonly workspaces: Repository<Workspace>,
    @InjectRepository(AdminUser) private readonly users: Repository<AdminUser>,
    private readonly bus: InvalidationBus,
  ) {}

  // ---- agents (platform admin) ----

  async createAgent(input: {
    name: string;
    email: string;
    password: string;
  }): Promise<{ agent: Agent; user: AdminUser }> {
    const password_hash = await hashPassword(input.password);
    return this.db.transaction(async (m) => {
      const agent = await m.save(m.create(Agent, { name: input.name, allowlist: null }));
      try {
        const user = await m.save(
          m.create(AdminUser, { email: input.email.trim(), password_hash, role: 'agent', agent_id: agent.id }),
        );
        return { agent, user };
      } catch (e) {
        if ((e as { code?: string }).code === '23505')
          throw new GatewayError('conflict', 'an admin user with this email already exists', 'email');
        throw e;
      }
    });
  }

  async listAgents(cursor: string | undefined, limit: number): Promise<Page<Agent>> {
    const pos = decodeCursor(cursor);
    const qb = this.agents
      .createQueryBuilder('a')
      .orderBy('a.created_at', 'DESC')
      .addOrderBy('a.id', 'DESC')
      .take(limit + 1);
    if (pos) qb.where('(a.created_at, a.id) < (:at::timestamptz, :id::uuid)', pos);
    return toPage(await qb.getMany(), limit);
  }

  /** An agent reads only itself; a platform admin reads any. */
  async getAgent(p: AdminPrincipal, id: string): Promise<Agent> {
    if (!isPlatformAdmin(p) && p.agentId !== id) throw notFound('agent');
    const agent = isUuid(id) ? await this.agents.findOneBy({ id }) : null;
    if (!agent) throw notFound('agent');
    return agent;
  }

  async agentEmail(agentId: string): Promise<string | null> {
    const u = await this.users.findOne({ where: { agent_id: agentId }, order: { created_at: 'ASC' } });
    return u?.email ?? null;
  }

  async updateAgent(id: string, changes: { name?: string; allowlist?: string[] | null }): Promise<Agent> {
    const agent = isUuid(id) ? await this.agents.findOneBy({ id }) : null;
    if (!agent) throw notFound('agent');
    Object.assign(agent, changes);
    const saved = await this.agents.save(agent);
    await this.bus.publish('agent', id);
    return saved;
  }

  // ---- workspaces ----

  async createWorkspace(p: AdminPrincipal, input: { name: string; agent_id?: string }): Promise<Workspace> {
    let agentId: string;
    if (isPlatformAdmin(p)) {
      if (!input.agent_id)
        throw new GatewayError('bad_request', 'agent_id is required for a platform admin', 'agent_id');
      agentId = (await this.getAgent(p, input.agent_id)).id;
    } else {
      if (input.agent_id && input.agent_id !== p.agentId) throw notFound('agent');
      agentId = p.agentId!;
    }
    return this.workspaces.save(this.workspaces.create({ name: input.name, agent_id: agentId, allowlist: null }));
  }

  async listWorkspaces(
    p: AdminPrincipal,
    q: { cursor?: string; limit: number; search?: string; agent_id?: string },
  ): Promise<Page<Workspace>> {
    const pos = decodeCursor(q.cursor);
    const agentFilter = optionalQueryId(q.agent_id, 'agent_id');
    const qb = this.workspaces
      .createQueryBuilder('w')
      .orderBy('w.created_at', 'DESC')
      .addOrderBy('w.id', 'DESC')
      .take(q.limit + 1);
    if (!isPlatformAdmin(p)) qb.andWhere('w.agent_id = :agent', { agent: p.agentId });
    else if (agentFilter) qb.andWhere('w.agent_id = :agent', { agent: agentFilter });
    if (q.search) qb.andWhere('w.name ILIKE :s', { s: `%${q.search.replace(/[%_\\]/g, (c) => '\\' + c)}%` });
    if (pos) qb.andWhere('(w.created_at, w.id) < (:at::timestamptz, :id::uuid)', pos);
    return toPage(await qb.getMany(), q.limit);
  }

  /** The workspace if the caller may see it; 404 otherwise (never 403: ids are not confirmed). */
  async getWorkspace(p: AdminPrincipal, id: string): Promise<Workspace> {
    const ws = isUuid(id) ? await this.workspaces.findOneBy({ id }) : null;
    if (!ws || (!isPlatformAdmin(p) && ws.agent_id !== p.agentId)) throw notFound('workspace');
    return ws;
  }

  async updateWorkspace(
    p: AdminPrincipal,
    id: string,
    changes: WorkspaceChanges & { allowlist?: string[] | null },
  ): Promise<Workspace> {
    const ws = await this.getWorkspace(p, id);
    Object.assign(ws, changes);
    const saved = await this.workspaces.save(ws);
    await this.bus.publish('workspace', id);
    return saved;
  }

  // ---- admin users ----

  async findUserByEmail(email: string): Promise<AdminUser | null> {
    if (typeof email !== 'string') return null; // the login guard checks the body; this is the last line
    return this.users.createQueryBuilder('u').where('lower(u.email) = lower(:email)', { email: email.trim() }).getOne();
  }

  async countPlatformAdmins(): Promise<number> {
    return this.users.countBy({ role: 'platform_admin' });
  }

  async createPlatformAdmin(email: string, password: string): Promise<AdminUser> {
    return this.users.save(
      this.users.create({ email, password_hash: await hashPassword(password), role: 'platform_admin', agent_id: null }),
    );
  }
}

export function toPage<T extends { created_at: Date; id: string }>(rows: T[], limit: number): Page<T> {
  const more = rows.length > limit;
  const data = more ? rows.slice(0, limit) : rows;
  const last = data[data.length - 1];
  return { data, next_cursor: more && last ? encodeCursor({ at: last.created_at.toISOString(), id: last.id }) : null };
}
