import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CacheInvalidationBus, InvalidatedCache, RedisService } from '#libs/redis';
import type { Redis } from 'ioredis';
import { deleteRedisPrefix, testConfig } from '#libs/testing';

const config = testConfig('postgresql://unused/db');

/** One process's view: its own Redis connections, bus and cache on the shared topic. */
function processWith(options: { cacheMisses?: boolean } = {}) {
  const redis = new RedisService(config);
  const bus = new CacheInvalidationBus(redis);
  const cache = new InvalidatedCache<{ version: number }>(bus, 'things', { max: 100, ttlMs: 60_000, ...options });
  return { redis, bus, cache };
}

describe(InvalidatedCache.name, () => {
  const api = processWith();
  const worker = processWith();

  beforeAll(() => Promise.all([api.bus.ready(), worker.bus.ready()]));
  afterAll(async () => {
    await Promise.all([api.redis.onModuleDestroy(), worker.redis.onModuleDestroy()]);
    await deleteRedisPrefix(config.redisUrl, config.redisPrefix);
  });

  it('loads once, then answers from memory', async () => {
    let loads = 0;
    const load = () => Promise.resolve({ version: ++loads });
    await expect(api.cache.get('a', load)).resolves.toEqual({ version: 1 });
    await expect(api.cache.get('a', load)).resolves.toEqual({ version: 1 });
    expect(loads).toBe(1);
  });

  it('peeks without loading: undefined for an entry it does not hold, and none after an invalidation', async () => {
    expect(api.cache.peek('p')).toBeUndefined();
    await api.cache.get('p', () => Promise.resolve({ version: 1 }));
    expect(api.cache.peek('p')).toEqual({ version: 1 });
    await api.cache.invalidate('p');
    expect(api.cache.peek('p')).toBeUndefined();
  });

  it('drops an entry in every process when one of them invalidates it', async () => {
    await worker.cache.get('b', () => Promise.resolve({ version: 1 }));
    await api.cache.invalidate('b');

    // the message crosses Redis pub/sub: poll until the worker loads again (it would answer version 1 for ever otherwise)
    let seen = await worker.cache.get('b', () => Promise.resolve({ version: 2 }));
    for (let i = 0; i < 200 && seen?.version === 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      seen = await worker.cache.get('b', () => Promise.resolve({ version: 2 }));
    }
    expect(seen).toEqual({ version: 2 });
  });

  it('does not keep a value loaded while an invalidation came in', async () => {
    let release!: () => void;
    const stale = api.cache.get('c', () => new Promise((resolve) => (release = () => resolve({ version: 1 }))));
    await api.cache.invalidate('c');
    release();

    await expect(stale).resolves.toEqual({ version: 1 });
    await expect(api.cache.get('c', () => Promise.resolve({ version: 2 }))).resolves.toEqual({ version: 2 });
  });

  it('keeps misses only when asked to', async () => {
    const withMisses = processWith({ cacheMisses: true });
    try {
      await withMisses.cache.get('d', () => Promise.resolve(null));
      await expect(withMisses.cache.get('d', () => Promise.resolve({ version: 1 }))).resolves.toBeNull();
      await api.cache.get('d', () => Promise.resolve(null));
      await expect(api.cache.get('d', () => Promise.resolve({ version: 1 }))).resolves.toEqual({ version: 1 });
    } finally {
      await withMisses.redis.onModuleDestroy();
    }
  });

  it('drops every entry when its subscription reconnects, since messages sent meanwhile are lost', async () => {
    const lonely = processWith();
    try {
      await lonely.bus.ready();
      await lonely.cache.get('e', () => Promise.resolve({ version: 1 }));
      await api.cache.get('f', () => Promise.resolve({ version: 1 }));
      // the subscriber's connection drops (as when Redis restarts or the network blips) and comes back
      const subscriber = (lonely.bus as unknown as { subscriber: Redis }).subscriber;
      const ready = new Promise((resolve) => subscriber.once('ready', resolve));
      subscriber.disconnect(true);
      await ready;

      expect(lonely.cache.peek('e')).toBeUndefined();
      // another process's cache is left alone
      expect(api.cache.peek('f')).toEqual({ version: 1 });
    } finally {
      await lonely.redis.onModuleDestroy();
    }
  });
});
