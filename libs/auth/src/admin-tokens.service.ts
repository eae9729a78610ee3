// Admin bearer tokens: console sessions (from login, expire) and agent API tokens (long-lived, for
// scripts). Stored as SHA-256; verified on every admin request with a short in-memory cache.
import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LRUCache } from 'lru-cache';
import { IsNull, Repository } from 'typeorm';
import { AppConfig, GatewayError, InvalidationBus, randomBase62, sha256Hex } from '@switchyard/core';
import { AdminPrincipal, AdminUser, isUuid } from '@switchyard/tenancy';
import { AdminToken } from './entities/admin-token.entity';

const CACHE_MS = 5_000;
const PREFIX = { session: 'sys_', api: 'sya_' } as const;

@Injectable()
export class AdminTokensService implements OnModuleInit {
  private readonly cache = new LRUCache<string, { p: AdminPrincipal | null; at: number }>({ max: 10_000 });

  constructor(
    @InjectRepository(AdminToken) private readonly tokens: Repository<AdminToken>,
    private readonly config: AppConfig,
    private readonly bus: InvalidationBus,
  ) {}

  onModuleInit(): void {
    this.bus.on('admin-token', (id) => {
      for (const [h, e] of this.cache.entries()) if (e.p?.tokenId === id || e.p?.userId === id) this.cache.delete(h);
    });
  }

  async issue(
    user: AdminUser,
    kind: 'session' | 'api',
    name: string | null = null,
  ): Promise<{ token: string; record: AdminToken }> {
    const token = PREFIX[kind] + randomBase62(40);
    const record = await this.tokens.save(
      this.tokens.create({
        user_id: user.id,
        kind,
        name,
        token_hash: sha256Hex(token),
        prefix: token.slice(0, 12),
        expires_at: kind === 'session' ? new Date(Date.now() + this.config.adminSessionTtlMs) : null,
      }),
    );
    return { token, record };
  }

  async verify(token: string): Promise<AdminPrincipal> {
    const hash = sha256Hex(token);
    const hit = this.cache.get(hash);
    let p: AdminPrincipal | null;
    if (hit && Date.now() - hit.at < CACHE_MS) p = hit.p;
    else {
      p = await this.load(hash);
      this.cache.set(hash, { p, at: Date.now() });
    }
    if (!p) throw new GatewayError('invalid_credentials', 'Invalid or expired token: sign in again.');
    return p;
  }

  private async load(hash: string): Promise<AdminPrincipal | null> {
    const t = await this.tokens.findOne({
      where: { token_hash: hash, revoked_at: IsNull() },
      relations: { user: true },
    });
    if (!t || !t.user || t.user.disabled_at) return null;
    if (t.expires_at && t.expires_at.getTime() <= Date.now()) return null;
    return {
      userId: t.user.id,
      email: t.user.email,
      role: t.user.role,
      agentId: t.user.agent_id,
      tokenId: t.id,
      tokenKind: t.kind,
    };
  }

  async listApiTokens(userId: string): Promise<AdminToken[]> {
    return this.tokens.find({
      where: { user_id: userId, kind: 'api', revoked_at: IsNull() },
      order: { created_at: 'DESC' },
    });
  }

  async revoke(userId: string, tokenId: string): Promise<void> {
    if (!isUuid(tokenId)) throw new GatewayError('not_found', 'No such token.');
    const res = await this.tokens.update(
      { id: tokenId, user_id: userId, revoked_at: IsNull() },
      { revoked_at: new Date() },
    );
    if (!res.affected) throw new GatewayError('not_found', 'No such token.');
    await this.bus.publish('admin-token', tokenId);
  }
}
