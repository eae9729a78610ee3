// One ioredis connection for commands (fails fast when Redis is away, so limits can fail open or
// closed by policy) and one for pub/sub cache invalidation. Keys are built with `key()` so every key
// carries the deployment prefix; callers add {hash tags} where a Lua script touches several keys.
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { LOGGER, Logger } from '../logging/logger';
import { createRedisClient, RedisClient } from './redis-client';

@Injectable()
export class RedisService implements OnApplicationShutdown {
  readonly client: RedisClient;
  private subscriber?: RedisClient;
  private readonly handlers = new Map<string, Array<(message: string) => void>>();

  constructor(
    private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.client = createRedisClient(config, {
      enableOfflineQueue: true,
      maxRetriesPerRequest: 1,
      commandTimeout: 1000,
      connectTimeout: 3000,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    let down = false;
    this.client.on('error', (e: Error) => {
      if (!down) this.logger.warn({ err: e.message }, 'redis connection error');
      down = true;
    });
    this.client.on('ready', () => {
      if (down) this.logger.info('redis connection restored');
      down = false;
    });
  }

  key(...parts: string[]): string {
    return this.config.redisPrefix + parts.join(':');
  }

  /** A pub/sub channel, delivered to every process of the deployment (cache invalidation). */
  async subscribe(channel: string, handler: (message: string) => void): Promise<void> {
    const full = this.key('ch', channel);
    if (!this.subscriber) {
      this.subscriber = createRedisClient(this.config, { retryStrategy: (t) => Math.min(t * 200, 2000) });
      this.subscriber.on('error', () => undefined);
      this.subscriber.on('message', (ch: string, msg: string) => {
        for (const h of this.handlers.get(ch) ?? []) h(msg);
      });
    }
    const list = this.handlers.get(full) ?? [];
    list.push(handler);
    this.handlers.set(full, list);
    if (list.length === 1) await this.subscriber.subscribe(full);
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.client.publish(this.key('ch', channel), message);
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.client.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  onApplicationShutdown(): void {
    this.client.disconnect();
    this.subscriber?.disconnect();
  }
}
