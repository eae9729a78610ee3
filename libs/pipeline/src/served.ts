// What every /v1 capability does around its upstream call, in one place: record which route served
// the request, pump a stream to the client, and end a failed request.
import type { Response } from 'express';
import { GatewayError } from '@switchyard/core';
import { Attempt, ClientGoneError } from '@switchyard/routing';
import type { GatewayCall, GatewayRequest } from './gateway-call';
import type { Admission, GatewayPipeline } from './pipeline.service';
import { setHeaders } from './served-headers';
import type { SseWriter } from './sse-writer';

/** The route that answered, for the usage log (and, for streams, the time to the first chunk). */
export function markServed(call: GatewayCall, attempt: Attempt, req?: GatewayRequest): void {
  call.modelUsed = attempt.model.id;
  call.providerId = attempt.target.providerId;
  call.fallbackDepth = attempt.depth;
  if (req) call.ttftMs = Math.round(Number(process.hrtime.bigint() - req.startedAt) / 1e6);
}

/**
 * Writes a stream's first items and the rest as they come. Ends quietly when the client leaves
 * (`gone`), or with the upstream's failure after the stream started (`failure`); the caller charges
 * what was delivered either way.
 */
export async function pumpStream<T>(
  out: SseWriter,
  first: T[],
  rest: AsyncGenerator<T[]>,
  emit: (items: T[]) => Promise<void>,
): Promise<{ gone: boolean; failure?: GatewayError }> {
  try {
    await emit(first);
    for await (const items of rest) {
      await emit(items);
      if (out.closed) throw new ClientGoneError();
    }
    return { gone: false };
  } catch (e) {
    void rest.return(undefined);
    if (e instanceof ClientGoneError || out.closed) return { gone: true };
    return {
      gone: false,
      failure: e instanceof GatewayError ? e : new GatewayError('upstream_error', 'the upstream stream failed'),
    };
  }
}

/**
 * A request that failed before anything was sent: its reservation goes back, and the error (with the
 * rate-limit headers) goes to the client, unless the client already left.
 */
export function endFailed(pipeline: GatewayPipeline, adm: Admission, res: Response, e: unknown): void {
  pipeline.release(adm);
  if (e instanceof ClientGoneError) return;
  setHeaders(res, adm.rateHeaders);
  throw e;
}
