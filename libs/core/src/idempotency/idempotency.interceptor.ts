// Idempotency-Key on mutating admin routes: the first response is stored and replayed. The money
// itself is also protected in the ledger (each movement carries the key as its unique reference).
// Secrets a route hands out once (a new API key, an agent API token) are never stored: the replay
// answers the same record with those fields set to null.
import { CallHandler, ExecutionContext, Injectable, NestInterceptor, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { Observable, from, of, throwError } from 'rxjs';
import { catchError, mergeMap } from 'rxjs/operators';
import { IdempotencyService } from './idempotency.service';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const SECRET_FIELDS = 'sy:idempotency-secret-fields';

export type IdempotentRequest = Request & { user?: { userId: string }; idempotency?: { scope: string; key: string } };

/**
 * Top-level response fields that are shown once: the stored copy of the response (and so a replay)
 * carries null in their place.
 */
export const ShownOnce = (...fields: string[]) => SetMetadata(SECRET_FIELDS, fields);

export function withoutSecrets(body: unknown, fields: readonly string[]): unknown {
  if (!fields.length || typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const copy: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  for (const f of fields) if (f in copy) copy[f] = null;
  return copy;
}

@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly idem: IdempotencyService,
    private readonly reflector: Reflector,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = ctx.switchToHttp().getRequest<IdempotentRequest>();
    const res = ctx.switchToHttp().getResponse<Response>();
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || !MUTATING.has(req.method) || !req.user) return next.handle();
    const secrets =
      this.reflector.getAllAndOverride<string[] | undefined>(SECRET_FIELDS, [ctx.getHandler(), ctx.getClass()]) ?? [];
    const scope = `admin:${req.user.userId}`;
    req.idempotency = { scope, key };
    const hash = IdempotencyService.hash(req.method, req.path, req.body);
    return from(this.idem.begin(scope, key, hash)).pipe(
      mergeMap((start) => {
        if (start.state === 'replay') {
          res.status(start.status).setHeader('idempotent-replayed', 'true');
          return of(JSON.parse(start.body.toString('utf8')) as unknown);
        }
        return next.handle().pipe(
          mergeMap((body) => {
            const stored = Buffer.from(JSON.stringify(withoutSecrets(body ?? null, secrets)));
            return from(this.idem.complete(scope, key, res.statusCode, {}, stored)).pipe(mergeMap(() => of(body)));
          }),
          catchError((e: unknown) => from(this.idem.abandon(scope, key)).pipe(mergeMap(() => throwError(() => e)))),
        );
      }),
    );
  }
}
