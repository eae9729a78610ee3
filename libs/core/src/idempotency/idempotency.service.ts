// Idempotency-Key (DESIGN.md): the same key with the same body within 24 h returns the first response
// (with `idempotent-replayed: true`); another body is 409 idempotency_key_reused; while the first is
// running, 409 idempotency_in_progress. Keys are scoped to the caller. Records live in Postgres, so a
// replay is answered the same by every process; only successful responses are kept (a failed first
// attempt may be retried).
import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { GatewayError } from '../errors/gateway-error';

export type IdempotencyStart =
  { state: 'new' } | { state: 'replay'; status: number; headers: Record<string, string>; body: Buffer };

const KEY_FORMAT = /^[\x21-\x7e]{1,255}$/;
const STALE_RUNNING = "interval '10 minutes'"; // a first attempt whose process died frees its key after this

@Injectable()
export class IdempotencyService {
  constructor(private readonly db: DataSource) {}

  static hash(method: string, path: string, body: unknown): string {
    return createHash('sha256')
      .update(`${method} ${path}\n`)
      .update(JSON.stringify(body ?? null))
      .digest('hex');
  }

  static validKey(key: string): boolean {
    return KEY_FORMAT.test(key);
  }

  async begin(scope: string, key: string, requestHash: string): Promise<IdempotencyStart> {
    if (!IdempotencyService.validKey(key)) {
      throw new GatewayError(
        'bad_request',
        'Idempotency-Key must be 1 to 255 printable characters.',
        'Idempotency-Key',
      );
    }
    const claimed = (await this.db.query(
      `INSERT INTO idempotency_keys (scope, key, request_hash, state, expires_at)
       VALUES ($1, $2, $3, 'running', now() + interval '24 hours')
       ON CONFLICT (scope, key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, state = 'running', status = NULL, headers = NULL, body = NULL,
             created_at = now(), expires_at = EXCLUDED.expires_at
       WHERE idempotency_keys.expires_at < now()
          OR (idempotency_keys.state = 'running' AND idempotency_keys.created_at < now() - ${STALE_RUNNING})
       RETURNING 1`,
      [scope, key, requestHash],
    )) as unknown[];
    if (claimed.length) return { state: 'new' };
    const rows = (await this.db.query(
      `SELECT request_hash, state, status, headers, body FROM idempotency_keys WHERE scope = $1 AND key = $2`,
      [scope, key],
    )) as Array<{ request_hash: string; state: string; status: number; headers: Record<string, string>; body: Buffer }>;
    const r = rows[0];
    if (!r) return this.begin(scope, key, requestHash); // deleted between the two statements
    if (r.request_hash !== requestHash) {
      throw new GatewayError(
        'idempotency_key_reused',
        'This Idempotency-Key was used with a different request body.',
        'Idempotency-Key',
      );
    }
    if (r.state === 'running') {
      throw new GatewayError(
        'idempotency_in_progress',
        'A request with this Idempotency-Key is still being processed.',
        'Idempotency-Key',
        {
          'Retry-After': '1',
        },
      );
    }
    return { state: 'replay', status: r.status, headers: r.headers ?? {}, body: r.body };
  }

  async complete(
    scope: string,
    key: string,
    status: number,
    headers: Record<string, string>,
    body: Buffer,
  ): Promise<void> {
    if (status >= 400) return this.abandon(scope, key);
    await this.db.query(
      `UPDATE idempotency_keys SET state = 'done', status = $3, headers = $4::jsonb, body = $5 WHERE scope = $1 AND key = $2`,
      [scope, key, status, JSON.stringify(headers), body],
    );
  }

  async abandon(scope: string, key: string): Promise<void> {
    await this.db.query(`DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND state = 'running'`, [
      scope,
      key,
    ]);
  }

  async purgeExpired(): Promise<number> {
    // wrapped in a SELECT: TypeORM answers a bare DELETE ... RETURNING with [rows, rowCount], not rows
    const rows = (await this.db.query(
      `WITH d AS (DELETE FROM idempotency_keys WHERE expires_at < now() RETURNING 1) SELECT 1 FROM d`,
    )) as unknown[];
    return rows.length;
  }
}
