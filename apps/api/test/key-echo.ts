import { Redis } from 'ioredis';

/**
 * Every `size`-character piece of a key. A search for these finds the key, or any distinctive part
 * of it (its middle, a cut-off copy, a masked form that keeps too much), where a search for a
 * common prefix such as `sk-` would match anything or nothing.
 */
export function keyFragments(key: string, size = 12): string[] {
  if (key.length <= size) return [key];
  return Array.from({ length: key.length - size + 1 }, (_, i) => key.slice(i, i + size));
}

/**
 * Where a piece of one of `keys` shows in `texts` (case-insensitively), as `where #index: key N`;
 * [] when none does. The answer never quotes a key, so a failing assertion prints none.
 */
export function keyEchoes(where: string, texts: readonly string[], keys: readonly string[]): string[] {
  const fragments = keys.map((key) => keyFragments(key).map((fragment) => fragment.toLowerCase()));
  const found: string[] = [];
  texts.forEach((text, index) => {
    const lower = text.toLowerCase();
    fragments.forEach((pieces, keyIndex) => {
      if (pieces.some((piece) => lower.includes(piece))) found.push(`${where} #${index}: key ${keyIndex}`);
    });
  });
  return found;
}

/** Every key under `prefix` with its whole value as text (hash fields and values, list and set members, ...). */
export async function redisEntries(redisUrl: string, prefix: string): Promise<{ key: string; text: string }[]> {
  const redis = new Redis(redisUrl);
  const entries: { key: string; text: string }[] = [];
  try {
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      for (const key of batch) {
        const value = await readValue(redis, key);
        entries.push({ key, text: `${key} ${JSON.stringify(value)}` });
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return entries;
}

async function readValue(redis: Redis, key: string): Promise<unknown> {
  switch (await redis.type(key)) {
    case 'string':
      return redis.get(key);
    case 'hash':
      return redis.hgetall(key);
    case 'list':
      return redis.lrange(key, 0, -1);
    case 'set':
      return redis.smembers(key);
    case 'zset':
      return redis.zrange(key, 0, -1);
    case 'stream':
      return redis.xrange(key, '-', '+');
    default:
      return null;
  }
}
