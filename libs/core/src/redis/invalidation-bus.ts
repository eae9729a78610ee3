// Cache invalidation across processes: an admin change publishes {topic, id}; every process drops what
// it cached for it. Caches also expire on their own, so a lost message only delays a change (bounded).
import { Injectable } from '@nestjs/common';
import { RedisService } from './redis.service';

export type InvalidationTopic = 'key' | 'workspace' | 'agent' | 'catalog' | 'admin-token' | 'wallet';
type Handler = (id: string) => void;

@Injectable()
export class InvalidationBus {
  private readonly handlers = new Map<InvalidationTopic, Handler[]>();
  private subscribed?: Promise<void>;

  constructor(private readonly redis: RedisService) {}

  on(topic: InvalidationTopic, handler: Handler): void {
    this.handlers.set(topic, [...(this.handlers.get(topic) ?? []), handler]);
    this.subscribed ??= this.redis.subscribe('invalidate', (msg) => this.dispatch(msg)).catch(() => undefined);
  }

  /** Drops the local caches at once, then tells the other processes. */
  async publish(topic: InvalidationTopic, id: string): Promise<void> {
    this.dispatch(JSON.stringify({ topic, id }));
    try {
      await this.redis.publish('invalidate', JSON.stringify({ topic, id }));
    } catch {
      // other processes fall back on their cache TTL
    }
  }

  private dispatch(message: string): void {
    let parsed: { topic: InvalidationTopic; id: string };
    try {
      parsed = JSON.parse(message) as { topic: InvalidationTopic; id: string };
    } catch {
      return;
    }
    for (const h of this.handlers.get(parsed.topic) ?? []) h(parsed.id);
  }
}
