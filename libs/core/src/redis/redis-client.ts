// One place that turns REDIS_URL (and REDIS_CLUSTER) into an ioredis client. With REDIS_CLUSTER=true
// the URL names one node of a Redis Cluster and ioredis discovers the others; every multi-key script
// keeps its keys under one {hash tag}, so each call lands on one node.
import Redis, { Cluster, RedisOptions } from 'ioredis';
import type { AppConfig } from '../config/app-config';

export type RedisClient = Redis | Cluster;

export function createRedisClient(
  config: Pick<AppConfig, 'redisUrl' | 'redisCluster'>,
  options: RedisOptions,
): RedisClient {
  if (!config.redisCluster) return new Redis(config.redisUrl, options);
  const u = new URL(config.redisUrl);
  const { retryStrategy, enableOfflineQueue, ...node } = options;
  return new Cluster([{ host: u.hostname, port: Number(u.port || 6379) }], {
    enableOfflineQueue,
    clusterRetryStrategy: retryStrategy ? (times) => retryStrategy(times) : undefined,
    redisOptions: {
      ...node,
      username: u.username ? decodeURIComponent(u.username) : undefined,
      password: u.password ? decodeURIComponent(u.password) : undefined,
      tls: u.protocol === 'rediss:' ? {} : undefined,
    },
  });
}
