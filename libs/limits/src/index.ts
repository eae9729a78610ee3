// Public face of libs/limits: rate limits and quotas in Redis (atomic Lua), and a Redis storage for
// @nestjs/throttler.
export * from './limits.module';
export * from './limits.service';
export * from './limits-redis';
export * from './redis-throttler-storage';
export * from './contract-throttler.guard';
