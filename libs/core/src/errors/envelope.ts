// The contract's error envelopes (DESIGN.md "Errors"): OpenAI's on /v1 and /admin/api, Anthropic's on
// /v1/messages. When a stream already started, the error is a final SSE event instead.
import type { Request, Response } from 'express';
import { anthropicErrorType } from './error-codes';
import { GatewayError } from './gateway-error';

export type Surface = 'openai' | 'anthropic' | 'admin';

const ANTHROPIC_PATH = /^\/(api\/)?v1\/messages(\/|$|\?)/;

export function surfaceOf(path: string): Surface {
  if (ANTHROPIC_PATH.test(path)) return 'anthropic';
  if (path.startsWith('/admin')) return 'admin';
  return 'openai';
}

export function envelope(err: GatewayError, surface: Surface): unknown {
  if (surface === 'anthropic') {
    return { type: 'error', error: { type: anthropicErrorType(err.status), message: err.message } };
  }
  return { error: { message: err.message, type: err.type, param: err.param, code: err.code } };
}

/** Writes the error in the caller's envelope; ends an SSE stream with an error event if it started. */
export function sendError(req: Request, res: Response, err: GatewayError): void {
  const surface = surfaceOf(req.originalUrl ?? req.url);
  res.locals.errorCode = err.code; // for the usage log
  if (res.headersSent) {
    if (!res.writableEnded) {
      const isSse = String(res.getHeader('content-type') ?? '').startsWith('text/event-stream');
      if (isSse) {
        const body = JSON.stringify(envelope(err, surface));
        res.end(surface === 'anthropic' ? `event: error\ndata: ${body}\n\n` : `data: ${body}\n\n`);
      } else {
        res.end();
      }
    }
    return;
  }
  for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
  res.status(err.status).json(envelope(err, surface));
}
