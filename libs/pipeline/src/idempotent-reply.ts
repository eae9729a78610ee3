// Idempotency-Key on non-stream POSTs under /v1 (DESIGN.md): a retried completion is answered from the
// stored first response, and so charged once. Streams are not replayable and ignore the header.
import { Logger } from '@nestjs/common';
import type { Response } from 'express';
import { IdempotencyService } from '@switchyard/core';
import type { GatewayCall, GatewayRequest } from './gateway-call';
import { setHeaders } from './served-headers';

export interface IdempotencyHandle {
  scope: string;
  key: string;
  /** the request's call: once it was charged, the key is never given up (a retry would be charged again) */
  call?: GatewayCall;
}

// Nest's logger: the application's pino logger once the app runs (these helpers have no injector)
const log = new Logger('idempotency');
/** a reply that could not be stored is stored again a few times (a blip of the database heals) */
const STORE_RETRY_MS = [500, 2_000, 8_000];

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
  if (start.state === 'new') return { scope, key, call: req.call };
  setHeaders(res, { ...start.headers, 'idempotent-replayed': 'true' });
  res.status(start.status).type('application/json').end(start.body);
  return 'replayed';
}

/**
 * Sends a JSON answer, storing it first for replays when the request had an Idempotency-Key. The
 * request is charged by now: the answer goes out even if storing it fails (the key stays claimed, so
 * a retry gets 409 idempotency_in_progress rather than a second charge, and storing is tried again).
 */
export async function replyJson(
  res: Response,
  headers: Record<string, string>,
  payload: unknown,
  idem: IdempotencyService,
  handle: IdempotencyHandle | null,
): Promise<void> {
  const bytes = Buffer.from(JSON.stringify(payload));
  if (handle) {
    await idem.complete(handle.scope, handle.key, 200, headers, bytes).catch((e: unknown) => {
      const req = (res.req as GatewayRequest | undefined)?.id;
      log.error(`request ${req}: storing its Idempotency-Key reply failed, retrying: ${(e as Error).message}`);
      void storeLater(idem, handle, headers, bytes, req);
    });
  }
  setHeaders(res, headers);
  // what Express's res.status(200).type('application/json') sets, without its status check and mime lookup
  res.statusCode = 200;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(bytes);
}

async function storeLater(
  idem: IdempotencyService,
  handle: IdempotencyHandle,
  headers: Record<string, string>,
  bytes: Buffer,
  req: string | undefined,
): Promise<void> {
  for (const ms of STORE_RETRY_MS) {
    await new Promise((r) => setTimeout(r, ms).unref());
    try {
      await idem.complete(handle.scope, handle.key, 200, headers, bytes);
      return;
    } catch {
      // the next attempt, or the key's stale-running expiry, ends it
    }
  }
  log.error(`request ${req}: its Idempotency-Key reply was not stored; a retry runs again once the key goes stale`);
}

/** Gives the key up after a failure, so that a retry may run; never once the request was charged. */
export async function idempotencyAbandon(idem: IdempotencyService, handle: IdempotencyHandle | null): Promise<void> {
  if (!handle) return;
  const charged = handle.call?.charged ? await handle.call.charged.catch(() => 0n) : 0n;
  if (charged > 0n) return;
  await idem.abandon(handle.scope, handle.key).catch(() => undefined);
}
