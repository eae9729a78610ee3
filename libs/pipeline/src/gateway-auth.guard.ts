import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { extractKey, KeyAuthService } from '@switchyard/auth';
import { GatewayError } from '@switchyard/core';
import { LimitsService } from '@switchyard/limits';
import { callOf, GatewayRequest } from './gateway-call';
import { setHeaders } from './served-headers';

const LIMITED_AT_ADMISSION = 'switchyard:limited-at-admission';

/**
 * Marks a /v1 handler whose requests go through GatewayPipeline.admit: their rpm, per-IP net, daily
 * and token caps are checked there in one round trip, with the request's estimated tokens and cost.
 */
export const LimitedAtAdmission = () => SetMetadata(LIMITED_AT_ADMISSION, true);

/**
 * /v1 authentication, and the one place that makes every authenticated /v1 request count once
 * against its key's (and workspace's) rpm and the per-IP safety net:
 * - routes that admit (@LimitedAtAdmission) are counted by admit; one that ends before admission (400,
 *   403, an idempotent replay) is counted when its response closes, off the request path;
 * - every other route is checked here (one round trip), and its response carries the rate headers.
 * A key not in the cache is looked up in Postgres only after the per-IP net let the request through,
 * so a blocked address costs no query; a request without a valid key counts against the net too, so a
 * flood of bad keys meets 429 as well as 401.
 */
@Injectable()
export class GatewayAuthGuard implements CanActivate {
  constructor(
    private readonly keys: KeyAuthService,
    private readonly limits: LimitsService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const http = ctx.switchToHttp();
    const req = http.getRequest<GatewayRequest>();
    const ip = req.ip ?? '';
    const call = callOf(req, 'other');
    let ipCounted = false;
    try {
      const raw = extractKey(req);
      const hash = this.keys.keyHash(raw);
      if (this.keys.needsLookup(hash)) {
        await this.limits.checkIpOnly(ip);
        ipCounted = true;
      }
      call.key = await this.keys.authenticate(raw, hash);
    } catch (e) {
      if (!ipCounted && e instanceof GatewayError && e.status === 401) await this.limits.checkIpOnly(ip);
      throw e;
    }
    const key = call.key;
    call.limits = { ipCounted, checked: false };
    const limits = call.limits;
    if (this.reflector.get<boolean>(LIMITED_AT_ADMISSION, ctx.getHandler())) {
      http.getResponse<Response>().once('close', () => {
        if (!limits.checked) this.limits.check(key, ip, { ipCounted }).catch(() => undefined);
      });
      return true;
    }
    const { headers } = await this.limits.check(key, ip, { ipCounted });
    limits.checked = true;
    setHeaders(http.getResponse<Response>(), headers);
    return true;
  }
}
