import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { extractKey, KeyAuthService } from '@switchyard/auth';
import { GatewayError } from '@switchyard/core';
import { LimitsService } from '@switchyard/limits';
import { callOf, GatewayRequest } from './gateway-call';

/**
 * /v1 authentication. A request without a valid key still counts against the per-IP safety net, so a
 * flood of bad keys meets 429 as well as 401.
 */
@Injectable()
export class GatewayAuthGuard implements CanActivate {
  constructor(
    private readonly keys: KeyAuthService,
    private readonly limits: LimitsService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<GatewayRequest>();
    try {
      const key = await this.keys.authenticate(extractKey(req));
      callOf(req, 'other').key = key;
      return true;
    } catch (e) {
      if (e instanceof GatewayError && e.status === 401) await this.limits.checkIpOnly(req.ip ?? '');
      throw e;
    }
  }
}
