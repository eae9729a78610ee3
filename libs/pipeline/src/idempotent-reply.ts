// Idempotency-Key on non-stream POSTs under /v1 (DESIGN.md): a retried completion is answered from the
// stored first response, and so charged once. Streams are not replayable and ignore the header.
import type { Response } from 'express';
import { IdempotencyService } from '@switchyard/core';
import type { GatewayRequest } from './gateway-call';
import { setHeaders } from './served-headers';

export interface IdempotencyHandle {
  scope: string;
  key: string;
}

/**
 * null: no Idempotency-Key; 'replayed': the first response was sent again (the caller stops here);
 * otherwise the handle to complete or abandon.
 */
export async function idempotencyStart(
  idem: IdempotencyService,
  req: GatewayRequest,
  res: Response,
  body: unknown,
): Promise<IdempotencyHandle | null | 'replayed'> {
  const key = req.headers['idempotency-key'];
  if (typeof key !== 'string') return null;
  const scope = `key:${req.call!.key!.keyId}`;
  const start = await idem.begin(scope, key, IdempotencyService.hash('POST', req.path.replace(/^\/api\//, '/'), body));
  if (start.state === 'new') return { scope, key };
  setHeaders(res, { ...start.headers, 'idempotent-replayed': 'true' });
  res.status(start.status).type('application/json').end(start.body);
  return 'replayed';
}

/** Sends a JSON answer, storing it first for replays when the request had an Idempotency-Key. */
export async function replyJson(
  res: Response,
  headers: Record<string, string>,
  payload: unknown,
  idem: IdempotencyService,
  handle: IdempotencyHandle | null,
): Promise<void> {
  const bytes = Buffer.from(JSON.stringify(payload));
  if (handle) await idem.complete(handle.scope, handle.key, 200, headers, bytes);
  setHeaders(res, headers);
  res.status(200).type('application/json').end(bytes);
}

export async function idempotencyAbandon(idem: IdempotencyService, handle: IdempotencyHandle | null): Promise<void> {
  if (handle) await idem.abandon(handle.scope, handle.key).catch(() => undefined);
}
