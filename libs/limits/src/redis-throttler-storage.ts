// @nestjs/throttler's storage in Redis instead of process memory, so every gateway process counts the
// same admin login attempts. Contract (v6): ttl and blockDuration in ms; timeToExpire and
// timeToBlockExpire in seconds, as the in-memory ThrottlerStorageService answers.
import { Injectable } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { RedisService } from '@switchyard/core';
import { LimitsRedis } from './limits-redis';

export interface ThrottlerStorageRecord {
  totalHits: number;
  timeToExpire: number;
  isBlocked: boolean;
  timeToBlockExpire: number;
}

@Injectable()
export class RedisThrottlerStorage implements ThrottlerStorage {
  constructor(
    private readonly redis: RedisService,
    private readonly conn: LimitsRedis,
  ) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    // the guard's key is already a sha256 of route and tracker; the tag keeps both keys in one slot
    const base = this.redis.key('thr', `{${key}:${throttlerName}}`);
    let reply: unknown;
    try {
      reply = await this.conn.client.syThrottler(
        `${base}:hits`,
        `${base}:block`,
        String(Math.ceil(ttl)),
        String(limit),
        String(Math.ceil(blockDuration)),
      );
    } catch (e) {
      // LIMITS_ON_REDIS_FAILURE applies here too: 'closed' throws 503, 'open' lets the attempt through
      this.conn.onCheckFailure(e);
      return { totalHits: 0, timeToExpire: Math.ceil(ttl / 1000), isBlocked: false, timeToBlockExpire: 0 };
    }
    const [hits, msToExpire, blocked, msToBlockExpire] = (reply as unknown[]).map(Number);
    return {
      totalHits: hits,
      timeToExpire: Math.ceil(msToExpire / 1000),
      isBlocked: blocked === 1,
      timeToBlockExpire: Math.ceil(msToBlockExpire / 1000),
    };
  }
}
