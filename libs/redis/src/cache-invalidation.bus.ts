import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisService } from './redis.service.js';

/** Called with the id to drop, or with null to drop everything (messages may have been missed). */
type Handler = (id: string | null) => void;

/**
 * Tells every process (API and workers) to drop a cached entry, so a changed key or a moved
 * workspace is seen everywhere at once. Caches also expire on their own, which bounds staleness
 * while Redis is unreachable.
 */
@Injectable()
export class CacheInvalidationBus implements OnModuleDestroy {
  private readonly logger = new Logger(CacheInvalidationBus.name);
  private readonly handlers = new Map<string, Handler[]>();
  private subscriber: Redis | undefined;
  private subscribed: Promise<unknown> | undefined;

  constructor(private readonly redis: RedisService) {}

  /** Registers a handler for a cache's topic; the subscription itself is shared. */
  on(topic: string, handler: Handler): void {
    const channel = this.redis.key('invalidate', topic);
    const list = this.handlers.get(channel) ?? [];
    list.push(handler);
    this.handlers.set(channel, list);
    this.subscriber ??= this.createSubscriber();
    this.subscribed = this.subscriber.subscribe(channel).catch((error: Error) => {
      this.logger.warn(`Cache invalidation subscription failed: ${error.message}`);
    });
  }

  /**
   * Waits until every registered topic is subscribed (tests call it before they publish).
   * @public
   */
  async ready(): Promise<void> {
    await this.subscribed;
  }

  async publish(topic: string, id: string): Promise<void> {
    const channel = this.redis.key('invalidate', topic);
    // local handlers run at once, so this process never serves its own stale entry
    for (const handler of this.handlers.get(channel) ?? []) handler(id);
    try {
      await this.redis.client.publish(channel, id);
    } catch (error) {
      this.logger.warn(`Cache invalidation not broadcast (${(error as Error).message}); other processes catch up when their entry expires`);
    }
  }

  onModuleDestroy(): void {
    this.handlers.clear();
  }

  private createSubscriber(): Redis {
    const subscriber = this.redis.duplicate();
    subscriber.on('message', (channel: string, id: string) => {
      for (const handler of this.handlers.get(channel) ?? []) handler(id);
    });
    // pub/sub does not queue: whatever was published while this connection was down is lost, so a
    // reconnect drops every cached entry (a revoked token must not outlive the outage by the TTL)
    let connectedBefore = false;
    subscriber.on('ready', () => {
      if (connectedBefore) for (const list of this.handlers.values()) for (const handler of list) handler(null);
      connectedBefore = true;
    });
    return subscriber;
  }
}
