// Issuing and managing a workspace's API keys (admin side). The full key exists only in the response
// to its creation; the database keeps its SHA-256 and a display prefix.
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import { GatewayError, InvalidationBus } from '@switchyard/core';
import { isUuid, Page, decodeCursor, toPage } from '@switchyard/tenancy';
import { generateApiKey } from './api-key-format';
import { ApiKey } from './entities/api-key.entity';

export interface KeySettings {
  name?: string;
  rpm?: number | null;
  tpm?: number | null;
  daily_requests?: number | null;
  daily_spend?: bigint | null;
  allowlist?: string[] | null;
  expires_at?: Date | null;
}

@Injectable()
export class ApiKeysService {
  constructor(
    @InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>,
    private readonly bus: InvalidationBus,
  ) {}

  async issue(workspaceId: string, settings: KeySettings & { name: string }): Promise<{ key: string; record: ApiKey }> {
    const { key, hash, prefix } = generateApiKey();
    const record = await this.keys.save(
      this.keys.create({
        workspace_id: workspaceId,
        key_hash: hash,
        prefix,
        name: settings.name,
        rpm: settings.rpm ?? null,
        tpm: settings.tpm ?? null,
        daily_requests: settings.daily_requests ?? null,
        daily_spend: settings.daily_spend ?? null,
        allowlist: settings.allowlist ?? null,
        expires_at: settings.expires_at ?? null,
      }),
    );
    return { key, record };
  }

  async list(workspaceId: string, cursor: string | undefined, limit: number): Promise<Page<ApiKey>> {
    const pos = decodeCursor(cursor);
    const qb = this.keys
      .createQueryBuilder('k')
      .where('k.workspace_id = :ws', { ws: workspaceId })
      .orderBy('k.created_at', 'DESC')
      .addOrderBy('k.id', 'DESC')
      .take(limit + 1);
    if (pos) qb.andWhere('(k.created_at, k.id) < (:at::timestamptz, :id::uuid)', pos);
    return toPage(await qb.getMany(), limit);
  }

  /** The key with its workspace id, for the caller's tenancy check; 404 when unknown. */
  async get(id: string): Promise<ApiKey> {
    const k = isUuid(id) ? await this.keys.findOneBy({ id }) : null;
    if (!k) throw new GatewayError('not_found', 'No such key.');
    return k;
  }

  async update(key: ApiKey, changes: KeySettings): Promise<ApiKey> {
    Object.assign(key, changes);
    const saved = await this.keys.save(key);
    await this.bus.publish('key', key.id);
    return saved;
  }

  async revoke(key: ApiKey): Promise<ApiKey> {
    if (!key.revoked_at) {
      await this.keys.update({ id: key.id, revoked_at: IsNull() }, { revoked_at: new Date() });
    }
    await this.bus.publish('key', key.id);
    return (await this.keys.findOneBy({ id: key.id }))!;
  }

  /** Marks keys as used; called in batches by the usage writer, never on the request path. */
  async touch(keyIds: string[], at: Date): Promise<void> {
    if (!keyIds.length) return;
    await this.keys.query(
      `UPDATE api_keys SET last_used_at = $2 WHERE id = ANY($1::uuid[]) AND (last_used_at IS NULL OR last_used_at < $2)`,
      [keyIds, at],
    );
  }
}
