import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { GatewayError } from '@switchyard/core';
import { KeyContext } from './key-context';
import { KeyAuthService } from './key-auth.service';

export type KeyedRequest = Request & { key: KeyContext };

/** /v1 auth: `Authorization: Bearer <key>` (OpenAI SDKs) or `x-api-key: <key>` (Anthropic SDKs). */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly keys: KeyAuthService) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<KeyedRequest>();
    req.key = await this.keys.authenticate(extractKey(req));
    return true;
  }
}

export function extractKey(req: Request): string {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && auth.length) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (!m) throw new GatewayError('invalid_api_key', 'Invalid Authorization header: use "Bearer <key>".');
    return m[1];
  }
  const x = req.headers['x-api-key'];
  if (typeof x === 'string' && x.trim()) return x.trim();
  throw new GatewayError(
    'missing_authorization',
    'Missing API key: send "Authorization: Bearer <key>" or "x-api-key: <key>".',
  );
}
