import { LRUCache } from 'lru-cache';
import type { CacheInvalidationBus } from './cache-invalidation.bus.js';

export interface InvalidatedCacheOptions {
  /** Entries kept at most (least recently used go first). */
  max: number;
  /** How long an entry lives (ms) even if nobody invalidates it: the bound on staleness while Redis is away. */
  ttlMs: number;
  /** Whether a load that found nothing (null) is kept too, sparing the store repeated misses. */
  cacheMisses?: boolean;
}

/**
 * An in-process LRU cache (lru-cache) whose entries every process drops when any process invalidates
 * them through the CacheInvalidationBus. A load that raced an invalidation returns what it read but
 * does not keep it, so a cache never holds a value older than the last invalidation it heard of.
 * A load answers null for a miss, which is kept only with `cacheMisses`.
 */
export class InvalidatedCache<V extends object | string> {
  private readonly entries: LRUCache<string, { value: V | null }>;
  private readonly cacheMisses: boolean;
  // bumped by every invalidation this process hears of
  private generation = 0;

  constructor(
    private readonly bus: CacheInvalidationBus,
    private readonly topic: string,
    options: InvalidatedCacheOptions,
  ) {
    this.entries = new LRUCache({ max: options.max, ttl: options.ttlMs });
    this.cacheMisses = options.cacheMisses ?? false;
    bus.on(topic, (id) => {
      this.generation++;
      if (id === null) this.entries.clear();
      else this.entries.delete(id);
    });
  }

  /** The cached value of `id`, else what `load` answers (kept unless an invalidation came meanwhile). */
  async get(id: string, load: () => Promise<V | null>): Promise<V | null> {
    const cached = this.entries.get(id);
    if (cached) return cached.value;
    const generation = this.generation;
    const value = await load();
    if (generation === this.generation && (value !== null || this.cacheMisses)) this.entries.set(id, { value });
    return value;
  }

  /** The cached value of `id`, or undefined when this process holds none: never loads anything. */
  peek(id: string): V | null | undefined {
    return this.entries.get(id)?.value;
  }

  /** Stores a value read alongside another one (e.g. a tenant read with its workspace). */
  set(id: string, value: V): void {
    this.entries.set(id, { value });
  }

  /** Drops `id` here at once and in every other process as soon as Redis delivers the message. */
  invalidate(id: string): Promise<void> {
    return this.bus.publish(this.topic, id);
  }
}
