import { Module } from '@nestjs/common';
import { LimitsRedis } from './limits-redis';
import { LimitsService } from './limits.service';
import { RedisThrottlerStorage } from './redis-throttler-storage';

/** Rate limits and quotas; relies on the global CoreModule for config, Redis key names, metrics and the logger. */
@Module({
  providers: [LimitsRedis, LimitsService, RedisThrottlerStorage],
  exports: [LimitsService, RedisThrottlerStorage],
})
export class LimitsModule {}
