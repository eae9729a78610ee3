// @nestjs/throttler (the admin login's brute-force brake) speaking the contract of DESIGN.md "Errors":
// X-RateLimit-Reset as an ISO 8601 time (the library sends seconds to go), the X-RateLimit-* headers
// on the 429 as well, and the 429 as rate_limit_exceeded in the surface's envelope.
import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail } from '@nestjs/throttler';
import { GatewayError } from '@switchyard/core';
import { isoSeconds } from './refusal';

const inSeconds = (s: number) => isoSeconds((Date.now() + Math.max(0, s) * 1000) * 1000);

@Injectable()
export class ContractThrottlerGuard extends ThrottlerGuard {
  protected override setResponseHeader(res: Record<string, unknown>, name: string, value: string | number): void {
    super.setResponseHeader(res, name, name.startsWith('X-RateLimit-Reset') ? inSeconds(Number(value)) : value);
  }

  protected override throwThrottlingException(_context: ExecutionContext, d: ThrottlerLimitDetail): Promise<void> {
    const retry = Math.max(1, d.timeToBlockExpire);
    throw new GatewayError(
      'rate_limit_exceeded',
      `Too many requests: at most ${d.limit} per ${Math.round(d.ttl / 1000)} s from this address. Retry after ${retry} s.`,
      null,
      {
        'X-RateLimit-Limit': String(d.limit),
        'X-RateLimit-Remaining': '0',
        'X-RateLimit-Reset': inSeconds(retry),
        'Retry-After': String(retry),
      },
    );
  }
}
