import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  createTestDatabase,
  deleteRedisPrefix,
  FRAGMENT_LENGTH,
  LogCapture,
  RedisPubSubRecorder,
  type ScanHit,
  SecretScanner,
  scanPostgres,
  scanRedis,
  scanTexts,
  type TestDatabase,
} from '#libs/testing';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const randomText = (length: number) => [...randomBytes(length)].map((byte) => ALPHABET[byte % ALPHABET.length]).join('');

/**
 * The controls of the secret scanners: a canary planted where each scanner must look (every
 * encoding; every Postgres column type, schema and table kind; every Redis type and pub/sub; log
 * lines cut across writes) must be found, so a scanner switched off or narrowed fails here. And
 * what a hit prints never holds the secret.
 */
describe('secret scanners find a planted canary wherever they must look', () => {
  const key = `sk-${randomText(40)}`;
  const hitsOf = (text: string, needle = key) => new SecretScanner([{ name: 'canary', value: needle }]).scan('here', text);
  const encodings = (hits: ScanHit[]) => hits.map((hit) => hit.encoding);

  describe('in texts, in every encoding', () => {
    it('finds the secret as it is, in any case, wherever it sits in a text', () => {
      expect(encodings(hitsOf(`{"apiKey":"${key}"}`))).toEqual(['literal']);
      expect(encodings(hitsOf(`AUTHORIZATION: BEARER ${key.toUpperCase()}`))).toEqual(['literal']);
      expect(encodings(hitsOf(key))).toEqual(['literal']);
    });

    it('finds it URL-encoded, either as encodeURIComponent writes it or with every byte escaped', () => {
      const special = `sk-${randomText(20)}/+=?&${randomText(8)}`;
      expect(encodings(hitsOf(`https://x.test/v1?key=${encodeURIComponent(special)}&alt=json`, special))).toEqual(['url']);
      const everyByte = [...Buffer.from(key)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
      expect(encodings(hitsOf(`q=${everyByte}`))).toEqual(['url']);
    });

    it('finds it as hex, lower or upper case', () => {
      const hex = Buffer.from(`{"key":"${key}"}`).toString('hex');
      expect(encodings(hitsOf(`\\x${hex}`))).toEqual(['hex']);
      expect(encodings(hitsOf(hex.toUpperCase()))).toEqual(['hex']);
    });

    it('finds it base64-encoded at any byte offset inside a larger blob', () => {
      for (const offset of [0, 1, 2, 3, 4, 5]) {
        const blob = Buffer.from(`${'x'.repeat(offset)}${key}-and-more`).toString('base64');
        expect([offset, encodings(hitsOf(`data: ${blob}`))]).toEqual([offset, ['base64']]);
      }
    });

    it('finds it base64url-encoded at any byte offset, where base64 and base64url differ', () => {
      // '?' and '>' bytes encode to '/' and '+' in base64, to '_' and '-' in base64url
      const needle = `sk-${randomText(12)}???>>>???>>>???>>>${randomText(12)}`;
      for (const offset of [0, 1, 2]) {
        const blob = Buffer.from(`${'x'.repeat(offset)}${needle}-and-more`).toString('base64url');
        expect(blob).toMatch(/[-_]/);
        expect([offset, encodings(hitsOf(blob, needle))]).toEqual([offset, ['base64url']]);
      }
    });

    it(`finds any ${FRAGMENT_LENGTH} characters of it in a row (a key cut off), never fewer`, () => {
      expect(encodings(hitsOf(`key=${key.slice(7, 7 + FRAGMENT_LENGTH)}…`))).toEqual(['fragment']);
      expect(encodings(hitsOf(`truncated: ${key.slice(0, 20)}`))).toEqual(['fragment']);
      expect(encodings(hitsOf(`…${key.slice(-FRAGMENT_LENGTH)}"`))).toEqual(['fragment']);
      expect(encodings(hitsOf(`line one ${key.slice(0, 25)}\n${key.slice(25)} line two`))).toEqual(['fragment']);
      expect(hitsOf(`key=${key.slice(7, 7 + FRAGMENT_LENGTH - 1)}…`)).toEqual([]);
      expect(hitsOf(`key ...${key.slice(-4)}`)).toEqual([]);
    });

    it('reports each secret by its name, once per encoding and text, and nothing for other values', () => {
      const other = `sk-${randomText(40)}`;
      const scanner = new SecretScanner([key, { name: 'the other key', value: other }]);
      expect(
        scanner.scan('a text', `${key} ${key} ${Buffer.from(other).toString('hex')}`).map((hit) => [hit.where, hit.needle, hit.encoding]),
      ).toEqual([
        ['a text', 'needle 0', 'literal'],
        ['a text', 'the other key', 'hex'],
      ]);
      const innocent = [
        `sk-${randomText(40)}`,
        randomBytes(64).toString('hex'),
        randomBytes(64).toString('base64'),
        `${key.slice(0, 3)}...${key.slice(-4)}`,
        randomUUID(),
      ].join('\n');
      expect(scanner.scan('innocent', innocent)).toEqual([]);
      expect(scanTexts('lines', ['nothing', `a ${key}`], [key]).map((hit) => hit.where)).toEqual(['lines #1']);
      expect(() => new SecretScanner(['short'])).toThrow('shorter than 8 characters');
    });

    it('never prints the secret: a hit says where, and a short excerpt with every secret masked', () => {
      const other = `AIza${randomText(35)}`;
      // the other key right after the first: unmasked, either excerpt would show 12 characters of a key
      const text = `{"a":"${randomText(30)}","apiKey":"${key}${other}","c":"${key.slice(0, 30)}"}`;
      const hits = new SecretScanner([key, other]).scan('somewhere', text);
      expect(hits.map((hit) => [hit.needle, hit.encoding])).toEqual([
        ['needle 0', 'literal'],
        ['needle 0', 'fragment'],
        ['needle 1', 'literal'],
      ]);
      for (const hit of hits) expect(hit.excerpt.length).toBeLessThanOrEqual(70);
      expect(hits[0].excerpt).toMatch(/^…","apiKey":"‹needle 0 literal, 43 chars›•{12}…$/);
      expect(hits[2].excerpt).toMatch(/^…•{12}‹needle 1 literal, 39 chars›","c":"•{5}…$/);
      // what a failure message would print holds no secret in any encoding, nor any fragment of one
      expect(new SecretScanner([key, other]).scan('the hits', JSON.stringify(hits))).toEqual([]);
    });
  });

  describe('in Postgres: every schema, every column type, every kind of table, large objects', () => {
    let database: TestDatabase;
    let client: pg.Client;

    beforeAll(async () => {
      database = await createTestDatabase();
      client = new pg.Client({ connectionString: database.url });
      await client.connect();
    });
    afterAll(async () => {
      await client?.end();
      await database?.drop();
    });

    it('reads every column of every base table of the migrated schema, and finds nothing there', async () => {
      const scan = await scanPostgres(database.url, [key]);
      expect(scan.hits).toEqual([]);
      const { rows } = await client.query<{ id: string }>(
        `SELECT c.table_schema || '.' || c.table_name || '.' || c.column_name AS id FROM information_schema.columns c
           JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
          WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
      );
      expect(scan.columns.map((c) => `${c.schema}.${c.table}.${c.column}`).sort()).toEqual(rows.map((r) => r.id).sort());
      const types = scan.columns.map((c) => c.type);
      expect(['text', 'jsonb', 'bytea', 'uuid', 'integer', 'boolean', 'backfill_status'].filter((type) => !types.includes(type))).toEqual([]);
      expect(scan.rows).toBeGreaterThan(0);
    });

    it('finds a canary planted in each column type, in another schema, a materialized view, a partitioned table and a large object', async () => {
      const base64 = Buffer.from(`{"secret":"${key}"}`).toString('base64');
      await client.query(`
        CREATE SCHEMA scan_control;
        CREATE TYPE scan_control.label AS ENUM ('plain', '${key}');
        CREATE DOMAIN scan_control.secret_bytes AS bytea;
        CREATE TYPE scan_control.pair AS (name text, value text);
        CREATE TABLE scan_control.planted (
          id int PRIMARY KEY, t text, v varchar(100), c char(100), j json, jb jsonb, b bytea, d scan_control.secret_bytes,
          ta text[], ba bytea[], e scan_control.label, p scan_control.pair, x xml, encoded text
        );
        CREATE TABLE scan_control.parted (t text, part int) PARTITION BY LIST (part);
        CREATE TABLE scan_control.parted_1 PARTITION OF scan_control.parted FOR VALUES IN (1);`);
      const plant = (id: number, column: string, value: unknown) =>
        client.query(`INSERT INTO scan_control.planted (id, ${column}) VALUES ($1, $2)`, [id, value]);
      const bytes = Buffer.concat([Buffer.from([0, 255, 1]), Buffer.from(key), Buffer.from([254, 0])]);
      await plant(1, 't', `text ${key}`);
      await plant(2, 'v', key);
      await plant(3, 'c', key);
      await plant(4, 'j', JSON.stringify({ nested: { apiKey: key } }));
      await plant(5, 'jb', JSON.stringify({ items: [1, { key }] }));
      await plant(6, 'b', bytes);
      await plant(7, 'd', bytes);
      await plant(8, 'ta', ['a', key]);
      await plant(9, 'ba', [Buffer.from('a'), Buffer.from(key)]);
      await client.query(`INSERT INTO scan_control.planted (id, e) VALUES (10, $1::scan_control.label)`, [key]);
      await client.query(`INSERT INTO scan_control.planted (id, p) VALUES (11, ROW('apiKey', $1::text)::scan_control.pair)`, [key]);
      await plant(12, 'x', `<key>${key}</key>`);
      await plant(13, 'encoded', `blob:${base64}`);
      await client.query(`INSERT INTO scan_control.parted VALUES ($1, 1)`, [key]);
      await client.query(`CREATE MATERIALIZED VIEW scan_control.summary AS SELECT 'seen ' || v AS line FROM scan_control.planted WHERE id = 2`);
      const { rows } = await client.query<{ oid: string }>('SELECT lo_from_bytea(0, $1)::text AS oid', [Buffer.from(`large ${key} object`)]);
      // the app's own tables: a secret row's ciphertext (bytea) and an AI job's input (jsonb)
      const tenant = randomUUID();
      await client.query(`INSERT INTO tenants (id, subdomain, plan_type, ai_key_mode) VALUES ($1, $2, 'team', 'byok')`, [tenant, `t-${tenant}`]);
      await client.query(
        `INSERT INTO tenant_settings (id, tenant_id, setting_key, is_secret, ciphertext, iv, auth_tag, key_version, fingerprint, updated_at)
         VALUES ($1, $2, 'OPENAI_API_KEY', true, $3, '\\x00', '\\x00', 'v1', 'f', now())`,
        [randomUUID(), tenant, Buffer.from(key)],
      );
      await client.query(`INSERT INTO ai_jobs (id, tenant_id, type, input, updated_at) VALUES ($1, $2, 'extract', $3, now())`, [
        randomUUID(),
        tenant,
        JSON.stringify({ text: 'hello', requestKey: key }),
      ]);

      const scan = await scanPostgres(database.url, [{ name: 'canary', value: key }]);
      expect(scan.hits.map((hit) => `${hit.where} (${hit.encoding})`).sort()).toEqual(
        [
          ...['t', 'v', 'c', 'j', 'jb', 'b', 'd', 'ta', 'e', 'p', 'x'].map((column) => `postgres scan_control.planted.${column} (literal)`),
          // bytea[] prints as hex
          'postgres scan_control.planted.ba (hex)',
          'postgres scan_control.planted.encoded (base64)',
          'postgres scan_control.parted.t (literal)',
          'postgres scan_control.summary.line (literal)',
          `postgres large object ${rows[0].oid} (literal)`,
          'postgres public.tenant_settings.ciphertext (literal)',
          'postgres public.ai_jobs.input (literal)',
        ].sort(),
      );
      expect(scan.columns.filter((c) => c.table === 'parted_1')).toEqual([]);
      expect(scan.largeObjects).toBe(1);
    });
  });

  describe('in Redis: every type under the prefix, the whole keyspace on request, pub/sub messages', () => {
    const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
    const prefix = `byok-test:secret-scan-${randomBytes(6).toString('hex')}`;
    const outside = `secret-scan-outside-${randomBytes(6).toString('hex')}`;
    let redis: Redis;

    beforeAll(() => {
      redis = new Redis(redisUrl);
    });
    afterAll(async () => {
      await redis.del(outside);
      redis.disconnect();
      await deleteRedisPrefix(redisUrl, prefix);
    });

    it('finds a canary in a key of each type, in hash fields, in key names, in bytes and encoded', async () => {
      expect((await scanRedis(redisUrl, prefix, [key])).keys).toBe(0);
      const k = (name: string) => `${prefix}:${name}`;
      await redis.set(k('string'), `x${key}x`);
      await redis.set(k('bytes'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(key), Buffer.from([0x80])]));
      await redis.set(k('encoded'), Buffer.from(`{"key":"${key}"}`).toString('base64'));
      await redis.hset(k('hash'), 'field', `{"sealedKey":"${key}"}`);
      await redis.hset(k('hash-field'), key, 'value');
      await redis.rpush(k('list'), 'a', key, 'b');
      await redis.sadd(k('set'), 'a', key);
      await redis.zadd(k('zset'), 1, key, 2, 'other');
      await redis.xadd(k('stream'), '*', 'event', 'failed', 'failedReason', `401 for ${key}`);
      await redis.set(`${prefix}:name-${key}`, 'innocent value');
      await redis.set(outside, key);
      await redis.set(k('innocent'), 'nothing here');

      const scan = await scanRedis(redisUrl, prefix, [{ name: 'canary', value: key }]);
      expect(scan.hits.map((hit) => `${hit.where} (${hit.encoding})`).sort()).toEqual(
        [
          `redis string ${k('string')} (literal)`,
          `redis string ${k('bytes')} (literal)`,
          `redis string ${k('encoded')} (base64)`,
          `redis hash ${k('hash')} (literal)`,
          `redis hash ${k('hash-field')} (literal)`,
          `redis list ${k('list')} (literal)`,
          `redis set ${k('set')} (literal)`,
          `redis zset ${k('zset')} (literal)`,
          `redis stream ${k('stream')} (literal)`,
          `redis string ${prefix}:name-••• (literal)`,
        ].sort(),
      );
      // what a failure would print, where included, holds no secret
      expect(new SecretScanner([key]).scan('the hits', JSON.stringify(scan.hits))).toEqual([]);
      expect(scan.types).toEqual({ string: 5, hash: 2, list: 1, set: 1, zset: 1, stream: 1 });
      expect(scan.unscanned).toEqual([]);
      expect(scan.entries.find((entry) => entry.key === k('hash'))?.parts).toEqual(['field', `{"sealedKey":"${key}"}`]);

      // a key outside the prefix shows when the whole keyspace is read
      const everywhere = await scanRedis(redisUrl, prefix, [{ name: 'canary', value: key }], { pattern: '*' });
      expect(everywhere.hits.map((hit) => hit.where)).toEqual(expect.arrayContaining([`redis string ${outside}`, `redis string ${k('string')}`]));
    });

    it('keeps every message published under the prefix and finds the canary in one', async () => {
      const recorder = await RedisPubSubRecorder.start(redisUrl, prefix);
      try {
        await redis.publish(`${prefix}:invalidate:tenant`, 'an id');
        await redis.publish(`${prefix}:invalidate:keys`, `{"apiKey":"${key}"}`);
        await redis.publish(`${prefix}:channel-${key}`, 'innocent');
        await recorder.flush();
        expect(recorder.messages.slice(0, 3).map((m) => m.channel)).toEqual([
          `${prefix}:invalidate:tenant`,
          `${prefix}:invalidate:keys`,
          `${prefix}:channel-${key}`,
        ]);
        expect(recorder.scan([{ name: 'canary', value: key }]).map((hit) => hit.where)).toEqual([
          `redis pubsub ${prefix}:invalidate:keys #1`,
          `redis pubsub ${prefix}:channel-••• #2`,
        ]);
      } finally {
        await recorder.stop();
      }
    });
  });

  describe('in captured logs', () => {
    it('keeps a line written in pieces whole, and a last line without its newline', async () => {
      const logs = new LogCapture();
      logs.write(`{"level":30,"msg":"first"}\n{"level":40,"apiKey":"${key.slice(0, 20)}`);
      logs.write(`${key.slice(20)}"}\n{"level":50,"msg":"${key}`);
      expect(logs.lines).toHaveLength(2);
      expect(scanTexts('log', logs.all(), [key]).map((hit) => [hit.where, hit.encoding])).toEqual([
        ['log #1', 'literal'],
        ['log #2', 'literal'],
      ]);
      await new Promise<void>((resolve) => logs.end(resolve));
      expect(logs.lines).toHaveLength(3);
    });
  });
});
