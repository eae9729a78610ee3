// Public face of libs/core: configuration, errors, money, logging, metrics, Postgres and Redis plumbing.
export * from './config/app-config';
export * from './errors';
export * from './money/money';
export * from './crypto/secrets';
export * from './logging/logger';
export * from './metrics/metrics.service';
export * from './redis/redis.service';
export * from './redis/redis-client';
export * from './redis/invalidation-bus';
export * from './database/preflight';
export * from './http/bootstrap';
export * from './http/shutdown-state';
export * from './core.module';
export * from './database/column-types';
export * from './idempotency/idempotency.service';
export * from './idempotency/idempotency.interceptor';
