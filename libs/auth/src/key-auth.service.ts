// API key authentication for /v1. A warm key costs no database round trip: contexts are cached in
// memory, refreshed in the background after KEY_CACHE_TTL_MS/2, and reloaded synchronously after the
// TTL. Admin changes (revoke, limits, allowlists) publish an invalidation that every process applies at
// once; the TTL bounds staleness if a message is lost.
import { Injectable, OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { DataSource } from 'typeorm';
import { AppConfig, GatewayError, InvalidationBus, sha256Hex } from '@switchyard/core';
import { looksLikeApiKey } from './api-key-format';
import { KeyContext } from './key-context';

interface Entry {
  ctx: KeyContext | null; // null: no such key (negative cache)
  revokedAt: number | null;
  expiresAt: number | null;
  loadedAt: number;
  refreshing?: boolean;
}

interface Row {
  id: string;
  prefix: string;
  workspace_id: string;
  agent_id: string;
  revoked_at: Date | null;
  expires_at: Date | null;
  k_rpm: number | null;
  k_tpm: number | null;
  k_daily_requests: number | null;
  k_daily_spend: string | null;
  k_allowlist: string[] | null;
  w_rpm: number | null;
  w_tpm: number | null;
  w_daily_requests: number | null;
  w_daily_spend: string | null;
  w_allowlist: string[] | null;
  a_allowlist: string[] | null;
}

const NEGATIVE_TTL_MS = 5_000;

@Injectable()
export class KeyAuthService implements OnModuleInit {
  private readonly cache = new LRUCache<string, Entry>({ max: 100_000 });

  constructor(
    private readonly db: DataSource,
    private readonly config: AppConfig,
    private readonly bus: InvalidationBus,
  ) {}

  onModuleInit(): void {
    const drop = (pred: (c: KeyContext) => boolean) => {
      for (const [hash, e] of this.cache.entries()) if (e.ctx && pred(e.ctx)) this.cache.delete(hash);
    };
    this.bus.on('key', (id) => drop((c) => c.keyId === id));
    this.bus.on('workspace', (id) => drop((c) => c.workspaceId === id));
    this.bus.on('agent', (id) => drop((c) => c.agentId === id));
  }

  /**
   * The caller's context, or 401 invalid_api_key (unknown, revoked, expired: distinct messages).
   * `hash` is keyHash(rawKey) when the caller computed it already (one SHA-256 a request).
   */
  async authenticate(rawKey: string, hash?: string | null): Promise<KeyContext> {
    if (!looksLikeApiKey(rawKey)) throw invalid('Invalid API key. Keys look like sk-sy-…; check the key you sent.');
    hash ??= sha256Hex(rawKey);
    const now = Date.now();
    let entry = this.cache.get(hash);
    const ttl = this.config.keyCacheTtlMs;
    if (!this.fresh(entry, now)) {
      entry = await this.load(hash);
    } else if (entry.ctx && now - entry.loadedAt >= ttl / 2 && !entry.refreshing) {
      entry.refreshing = true;
      this.load(hash).catch(() => (entry!.refreshing = false));
    }
    if (!entry.ctx) throw invalid('Invalid API key: no such key. Check the key you sent.');
    if (entry.revokedAt !== null) throw invalid('This API key has been revoked.');
    if (entry.expiresAt !== null && entry.expiresAt <= now) {
      throw invalid(`This API key expired at ${new Date(entry.expiresAt).toISOString()}.`);
    }
    return entry.ctx;
  }

  /**
   * Whether authenticate of the key with this keyHash would wait for Postgres (a key not in the cache, or expired there),
   * so the caller can first let the per-IP net refuse a flood of unknown keys without a query.
   */
  needsLookup(hash: string | null): boolean {
    return hash !== null && !this.fresh(this.cache.get(hash), Date.now());
  }

  /** What the cache knows a key by; null for a string that cannot be a key (authenticate refuses it). */
  keyHash(rawKey: string): string | null {
    return looksLikeApiKey(rawKey) ? sha256Hex(rawKey) : null;
  }

  private fresh(entry: Entry | undefined, now: number): entry is Entry {
    const ttl = this.config.keyCacheTtlMs;
    return !!entry && now - entry.loadedAt < (entry.ctx ? ttl : Math.min(ttl, NEGATIVE_TTL_MS));
  }

  private async load(hash: string): Promise<Entry> {
    const rows: Row[] = await this.db.query(
      `SELECT k.id, k.prefix, k.workspace_id, w.agent_id, k.revoked_at, k.expires_at,
              k.rpm AS k_rpm, k.tpm AS k_tpm, k.daily_requests AS k_daily_requests, k.daily_spend AS k_daily_spend,
              k.allowlist AS k_allowlist,
              w.rpm AS w_rpm, w.tpm AS w_tpm, w.daily_requests AS w_daily_requests, w.daily_spend AS w_daily_spend,
              w.allowlist AS w_allowlist, a.allowlist AS a_allowlist
         FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id JOIN agents a ON a.id = w.agent_id
        WHERE k.key_hash = $1`,
      [hash],
    );
    const r = rows[0];
    const entry: Entry = r
      ? {
          ctx: {
            keyId: r.id,
            keyPrefix: r.prefix,
            workspaceId: r.workspace_id,
            agentId: r.agent_id,
            keyLimits: limits(r.k_rpm, r.k_tpm, r.k_daily_requests, r.k_daily_spend),
            workspaceLimits: limits(r.w_rpm, r.w_tpm, r.w_daily_requests, r.w_daily_spend),
            allowlists: { agent: r.a_allowlist, workspace: r.w_allowlist, key: r.k_allowlist },
          },
          revokedAt: r.revoked_at ? r.revoked_at.getTime() : null,
          expiresAt: r.expires_at ? r.expires_at.getTime() : null,
          loadedAt: Date.now(),
        }
      : { ctx: null, revokedAt: null, expiresAt: null, loadedAt: Date.now() };
    this.cache.set(hash, entry);
    return entry;
  }
}

function limits(rpm: number | null, tpm: number | null, daily: number | null, spend: string | null) {
  return { rpm, tpm, daily_requests: daily, daily_spend: spend === null ? null : BigInt(spend) };
}

function invalid(message: string): GatewayError {
  return new GatewayError('invalid_api_key', message);
}
