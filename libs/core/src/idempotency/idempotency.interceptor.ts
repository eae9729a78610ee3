// Idempotency-Key on mutating admin routes: the first response is stored and replayed. The money
// itself is also protected in the ledger (each movement carries the key as its unique reference).
import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Observable, from, of, throwError } from 'rxjs';
import { catchError, mergeMap } from 'rxjs/operators';
import { IdempotencyService } from './idempotency.service';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export type IdempotentRequest = Request & { user?: { userId: string }; idempotency?: { scope: string; key: string } };

@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly idem: IdempotencyService) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = ctx.switchToHttp().getRequest<IdempotentRequest>();
    const res = ctx.switchToHttp().getResponse<Response>();
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || !MUTATING.has(req.method) || !req.user) return next.handle();
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
          mergeMap((body) =>
            from(this.idem.complete(scope, key, res.statusCode, {}, Buffer.from(JSON.stringify(body ?? null)))).pipe(
              mergeMap(() => of(body)),
            ),
          ),
          catchError((e: unknown) => from(this.idem.abandon(scope, key)).pipe(mergeMap(() => throwError(() => e)))),
        );
      }),
    );
  }
}
