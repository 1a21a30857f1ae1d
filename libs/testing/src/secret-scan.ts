import { Redis } from 'ioredis';
import pg from 'pg';

export interface ScanHit {
  where: string;
  excerpt: string;
}

/**
 * Every text, json and bytea value of every table in the public schema, as text. bytea is decoded
 * with 'escape', so a plaintext stored as bytes would show.
 */
export async function scanPostgres(databaseUrl: string, needles: string[]): Promise<ScanHit[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const hits: ScanHit[] = [];
  try {
    const { rows: columns } = await client.query<{ table_name: string; column_name: string; data_type: string }>(
      `SELECT table_name, column_name, data_type FROM information_schema.columns
       WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'bytea', 'USER-DEFINED', 'ARRAY')`,
    );
    for (const { table_name, column_name, data_type } of columns) {
      const expression = data_type === 'bytea' ? `encode("${column_name}", 'escape')` : `"${column_name}"::text`;
      const { rows } = await client.query<{ value: string | null }>(`SELECT ${expression} AS value FROM "${table_name}"`);
      for (const { value } of rows) collect(hits, `postgres ${table_name}.${column_name}`, value ?? '', needles);
    }
  } finally {
    await client.end();
  }
  return hits;
}

/** Every key under `prefix` and every value in it, whatever its Redis type. */
export async function scanRedis(redisUrl: string, prefix: string, needles: string[]): Promise<{ hits: ScanHit[]; keys: number; values: string[] }> {
  const redis = new Redis(redisUrl);
  const hits: ScanHit[] = [];
  const values: string[] = [];
  let keys = 0;
  try {
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      for (const key of batch) {
        keys++;
        const text = `${key} ${await dumpValue(redis, key)}`;
        values.push(text);
        collect(hits, `redis ${key}`, text, needles);
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return { hits, keys, values };
}

async function dumpValue(redis: Redis, key: string): Promise<string> {
  switch (await redis.type(key)) {
    case 'string':
      return (await redis.get(key)) ?? '';
    case 'hash':
      return JSON.stringify(await redis.hgetall(key));
    case 'list':
      return JSON.stringify(await redis.lrange(key, 0, -1));
    case 'set':
      return JSON.stringify(await redis.smembers(key));
    case 'zset':
      return JSON.stringify(await redis.zrange(key, 0, -1, 'WITHSCORES'));
    case 'stream':
      return JSON.stringify(await redis.xrange(key, '-', '+'));
    default:
      return '';
  }
}

export function scanTexts(where: string, texts: string[], needles: string[]): ScanHit[] {
  const hits: ScanHit[] = [];
  texts.forEach((text, index) => collect(hits, `${where} #${index}`, text, needles));
  return hits;
}

function collect(hits: ScanHit[], where: string, text: string, needles: string[]): void {
  const lower = text.toLowerCase();
  for (const needle of needles) {
    const at = lower.indexOf(needle.toLowerCase());
    if (at >= 0) hits.push({ where, excerpt: text.slice(Math.max(0, at - 40), at + needle.length + 40) });
  }
}
