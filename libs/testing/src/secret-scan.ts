import { Redis } from 'ioredis';
import pg from 'pg';

/**
 * A secret to look for: the value itself (named `needle N` in hits) or a value with a name to report
 * instead. Hits never carry the value, so a failure message never prints a key.
 */
export type Needle = string | { name: string; value: string };

/**
 * How a secret was found: as it is (case-insensitive), URL-encoded, hex (either case), base64 or
 * base64url (at any byte alignment, so inside a larger encoded blob too), or as a `fragment`: any
 * FRAGMENT_LENGTH characters of it in a row (a key cut off, or split across a line).
 */
export type SecretEncoding = 'literal' | 'url' | 'hex' | 'base64' | 'base64url' | 'fragment';

export interface ScanHit {
  where: string;
  needle: string;
  encoding: SecretEncoding;
  /** A few characters either side of the hit; the hit itself and any other secret material are masked. */
  excerpt: string;
}

/** The shortest run of a secret's characters that counts as a leak. */
export const FRAGMENT_LENGTH = 12;
const MIN_NEEDLE_LENGTH = 8;
const CONTEXT_CHARS = 12;
const MAX_MATCHES_PER_PATTERN = 100;

interface Pattern {
  encoding: Exclude<SecretEncoding, 'fragment'>;
  text: string;
  caseInsensitive: boolean;
}

interface CompiledNeedle {
  name: string;
  value: string;
  patterns: Pattern[];
  /** Aligned pieces of FRAGMENT_LENGTH / 2 characters: every FRAGMENT_LENGTH window contains one. */
  blocks: { offset: number; text: string }[];
}

interface Match {
  needle: CompiledNeedle;
  encoding: SecretEncoding;
  start: number;
  end: number;
}

/**
 * Finds secrets in texts, in every encoding of SecretEncoding. Compiles its needles once, so one
 * scanner can go through many texts.
 */
export class SecretScanner {
  private readonly needles: CompiledNeedle[];

  constructor(needles: readonly Needle[]) {
    this.needles = needles.map((needle, index) => compile(typeof needle === 'string' ? { name: `needle ${index}`, value: needle } : needle));
  }

  /**
   * Every (needle, encoding) found in `text`, each reported once (its first place). `where` is
   * masked too: a Redis key or a channel can be named after a secret.
   */
  scan(where: string, text: string): ScanHit[] {
    if (!text) return [];
    const matches = this.matches(text);
    if (matches.length === 0) return [];
    const place = this.mask(where);
    const hits: ScanHit[] = [];
    const reported = new Set<string>();
    for (const match of matches) {
      const id = `${match.needle.name}\u0000${match.encoding}`;
      if (reported.has(id)) continue;
      reported.add(id);
      hits.push({ where: place, needle: match.needle.name, encoding: match.encoding, excerpt: excerptOf(text, match, matches) });
    }
    return hits;
  }

  /** `text` with every secret in it, in any encoding, replaced by `•••`. */
  mask(text: string): string {
    const matches = this.matches(text);
    let out = '';
    for (let i = 0; i < text.length; i++) {
      if (!matches.some((m) => m.start <= i && i < m.end)) out += text[i];
      else if (!out.endsWith('•••')) out += '•••';
    }
    return out;
  }

  private matches(text: string): Match[] {
    const lower = asciiLower(text);
    return this.needles.flatMap((needle) => findNeedle(text, lower, needle));
  }
}

/** Scans each of `texts`; hits say `${where} #${index}`. */
export function scanTexts(where: string, texts: readonly string[], needles: readonly Needle[]): ScanHit[] {
  const scanner = new SecretScanner(needles);
  return texts.flatMap((text, index) => scanner.scan(`${where} #${index}`, text));
}

function compile({ name, value }: { name: string; value: string }): CompiledNeedle {
  if (value.length < MIN_NEEDLE_LENGTH)
    throw new Error(`The needle ${name} is shorter than ${MIN_NEEDLE_LENGTH} characters: it would match by chance`);
  const bytes = Buffer.from(value, 'utf8');
  const candidates: Pattern[] = [
    { encoding: 'literal', text: asciiLower(value), caseInsensitive: true },
    { encoding: 'url', text: asciiLower(encodeURIComponent(value)), caseInsensitive: true },
    { encoding: 'url', text: [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''), caseInsensitive: true },
    { encoding: 'hex', text: bytes.toString('hex'), caseInsensitive: true },
  ];
  for (const alignment of [0, 1, 2]) {
    const base64 = alignedBase64(bytes, alignment);
    candidates.push({ encoding: 'base64', text: base64, caseInsensitive: false });
    candidates.push({ encoding: 'base64url', text: base64.replaceAll('+', '-').replaceAll('/', '_'), caseInsensitive: false });
  }
  const patterns: Pattern[] = [];
  for (const candidate of candidates) {
    if (candidate.text.length < MIN_NEEDLE_LENGTH) continue;
    if (patterns.some((p) => p.text === candidate.text && p.caseInsensitive === candidate.caseInsensitive)) continue;
    patterns.push(candidate);
  }
  const size = FRAGMENT_LENGTH / 2;
  const blocks: CompiledNeedle['blocks'] = [];
  if (value.length >= FRAGMENT_LENGTH) {
    for (let offset = 0; offset + size <= value.length; offset += size) blocks.push({ offset, text: value.slice(offset, offset + size) });
  }
  return { name, value, patterns, blocks };
}

/**
 * The part of base64(k zero bytes + secret) that depends on the secret's bytes alone: what any
 * base64 text holding the secret at a byte offset of k (mod 3) contains.
 */
function alignedBase64(bytes: Buffer, alignment: number): string {
  const encoded = Buffer.concat([Buffer.alloc(alignment), bytes]).toString('base64');
  const skip = [0, 2, 3][alignment];
  const complete = Math.floor(((alignment + bytes.length) * 8) / 6);
  return encoded.slice(skip, complete);
}

function findNeedle(text: string, lower: string, needle: CompiledNeedle): Match[] {
  const matches: Match[] = [];
  for (const pattern of needle.patterns) {
    const haystack = pattern.caseInsensitive ? lower : text;
    for (let at = haystack.indexOf(pattern.text), n = 0; at >= 0 && n < MAX_MATCHES_PER_PATTERN; at = haystack.indexOf(pattern.text, at + 1), n++) {
      matches.push({ needle, encoding: pattern.encoding, start: at, end: at + pattern.text.length });
    }
  }
  // a fragment: FRAGMENT_LENGTH or more characters of the secret in a row, not already inside a match
  const value = needle.value;
  for (const block of needle.blocks) {
    for (let at = text.indexOf(block.text), n = 0; at >= 0 && n < MAX_MATCHES_PER_PATTERN; at = text.indexOf(block.text, at + 1), n++) {
      let start = at;
      let offset = block.offset;
      while (start > 0 && offset > 0 && text[start - 1] === value[offset - 1]) {
        start--;
        offset--;
      }
      let end = at + block.text.length;
      let tail = block.offset + block.text.length;
      while (end < text.length && tail < value.length && text[end] === value[tail]) {
        end++;
        tail++;
      }
      if (end - start < FRAGMENT_LENGTH) continue;
      if (matches.some((m) => m.start <= start && end <= m.end)) continue;
      matches.push({ needle, encoding: 'fragment', start, end });
    }
  }
  return matches;
}

/** Lower-cases ASCII letters only, so every index stays where it was. */
function asciiLower(text: string): string {
  const lower = text.toLowerCase();
  return lower.length === text.length ? lower : text.replace(/[A-Z]+/g, (run) => run.toLowerCase());
}

function excerptOf(text: string, match: Match, all: readonly Match[]): string {
  const from = Math.max(0, match.start - CONTEXT_CHARS);
  const to = Math.min(text.length, match.end + CONTEXT_CHARS);
  const masked = (start: number, end: number) => {
    let out = '';
    for (let i = start; i < end; i++) {
      const secret = all.some((m) => m.start <= i && i < m.end);
      const char = text[i];
      out += secret ? '•' : char.charCodeAt(0) < 0x20 || char === '\x7f' ? ' ' : char;
    }
    return out;
  };
  return [
    from > 0 ? '…' : '',
    masked(from, match.start),
    `‹${match.needle.name} ${match.encoding}, ${match.end - match.start} chars›`,
    masked(match.end, to),
    to < text.length ? '…' : '',
  ].join('');
}

// ---------------------------------------------------------------- Postgres

export interface ScannedColumn {
  schema: string;
  table: string;
  column: string;
  /** As Postgres names it (`text`, `jsonb`, `bytea`, `text[]`, an enum's name, ...). */
  type: string;
}

export interface PostgresScan {
  hits: ScanHit[];
  /** Every column read, of every table (and materialized view) in every schema but Postgres' own. */
  columns: ScannedColumn[];
  rows: number;
  largeObjects: number;
}

/**
 * Reads every column of every row of every table, partitioned table and materialized view in every
 * schema but Postgres' own (pg_catalog, information_schema, pg_toast), whatever the column's type:
 * bytea (and domains over it) as raw bytes, everything else as Postgres prints it (json and jsonb,
 * arrays, enums, composites, ...); and every large object. One read-only snapshot.
 */
export async function scanPostgres(databaseUrl: string, needles: readonly Needle[]): Promise<PostgresScan> {
  const scanner = new SecretScanner(needles);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const hits: ScanHit[] = [];
  let rows = 0;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows: columns } = await client.query<ScannedColumn & { bytes: boolean }>(
      `SELECT n.nspname AS schema, c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
              COALESCE(NULLIF(t.typbasetype, 0), t.oid) = 'bytea'::regtype AS bytes
         FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         JOIN pg_type t ON t.oid = a.atttypid
        WHERE c.relkind IN ('r', 'p', 'm') AND NOT c.relispartition AND c.relispopulated
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'
        ORDER BY n.nspname, c.relname, a.attnum`,
    );
    const tables = new Map<string, (ScannedColumn & { bytes: boolean })[]>();
    for (const column of columns) {
      const id = `${quote(column.schema)}.${quote(column.table)}`;
      tables.set(id, [...(tables.get(id) ?? []), column]);
    }
    for (const [table, tableColumns] of tables) {
      const select = tableColumns.map((c) => (c.bytes ? quote(c.column) : `${quote(c.column)}::text`)).join(', ');
      const result = await client.query<unknown[]>({ text: `SELECT ${select} FROM ${table}`, rowMode: 'array' });
      rows += result.rows.length;
      for (const row of result.rows) {
        row.forEach((value, index) => {
          const { schema, table: name, column } = tableColumns[index];
          hits.push(...scanner.scan(`postgres ${schema}.${name}.${column}`, asText(value)));
        });
      }
    }
    const { rows: objects } = await client.query<{ oid: string; data: Buffer }>(
      'SELECT oid::text AS oid, lo_get(oid) AS data FROM pg_largeobject_metadata',
    );
    for (const { oid, data } of objects) hits.push(...scanner.scan(`postgres large object ${oid}`, data.toString('latin1')));
    await client.query('COMMIT');
    return { hits, columns: columns.map(({ schema, table, column, type }) => ({ schema, table, column, type })), rows, largeObjects: objects.length };
  } finally {
    await client.end();
  }
}

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

function asText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  return typeof value === 'string' ? value : JSON.stringify(value);
}

// ---------------------------------------------------------------- Redis

export interface RedisEntry {
  key: string;
  type: string;
  /** The value's parts in Redis' order (a hash: field, value, field, value...), bytes as latin1. */
  parts: string[];
}

export interface RedisScan {
  hits: ScanHit[];
  keys: number;
  /** How many keys of each type were read. */
  types: Record<string, number>;
  entries: RedisEntry[];
  /** Keys of a type the scanner cannot read (a module's): a test should insist there are none. */
  unscanned: string[];
}

/**
 * Every key matching `${prefix}:*` (or `options.pattern`, e.g. `*` for the whole database), its
 * name and its whole value whatever its type: string, hash (fields and values), list, set, zset
 * (members and scores), stream (ids, fields and values). Values are read as bytes.
 */
export async function scanRedis(
  redisUrl: string,
  prefix: string,
  needles: readonly Needle[],
  options: { pattern?: string } = {},
): Promise<RedisScan> {
  const scanner = new SecretScanner(needles);
  const redis = new Redis(redisUrl);
  const scan: RedisScan = { hits: [], keys: 0, types: {}, entries: [], unscanned: [] };
  try {
    let cursor = '0';
    do {
      const [next, batch] = await redis.scanBuffer(cursor, 'MATCH', options.pattern ?? `${prefix}:*`, 'COUNT', 500);
      cursor = next.toString();
      for (const keyBytes of batch) {
        const key = keyBytes.toString('latin1');
        const read = await readKey(redis, keyBytes);
        if (!read) continue; // gone since SCAN listed it
        const { type, parts } = read;
        if (!parts) {
          scan.unscanned.push(`${key} (${type})`);
          continue;
        }
        scan.keys++;
        scan.types[type] = (scan.types[type] ?? 0) + 1;
        scan.entries.push({ key, type, parts });
        scan.hits.push(...scanner.scan(`redis ${type} ${key}`, [key, ...parts].join('\n')));
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return scan;
}

/** The command that reads a whole value of each type, and its arguments after the key. */
const READERS: Readonly<Record<string, readonly [string, ...(string | number)[]]>> = {
  string: ['GET'],
  hash: ['HGETALL'],
  list: ['LRANGE', 0, -1],
  set: ['SMEMBERS'],
  zset: ['ZRANGE', 0, -1, 'WITHSCORES'],
  stream: ['XRANGE', '-', '+'],
};

/** The key's type and value; undefined once the key is gone (other processes write meanwhile). */
async function readKey(redis: Redis, key: Buffer): Promise<{ type: string; parts: string[] | undefined } | undefined> {
  for (let attempt = 1; ; attempt++) {
    const type = await redis.type(key);
    if (type === 'none') return undefined;
    try {
      return { type, parts: await readValue(redis, key, type) };
    } catch (error) {
      // deleted and written again as another type between TYPE and the read: read it again
      if (attempt >= 3 || !(error instanceof Error) || !error.message.startsWith('WRONGTYPE')) throw error;
    }
  }
}

async function readValue(redis: Redis, key: Buffer, type: string): Promise<string[] | undefined> {
  const reader = READERS[type];
  if (!reader) return undefined;
  const [command, ...args] = reader;
  return flatten(await redis.callBuffer(command, key, ...args));
}

function flatten(reply: unknown): string[] {
  if (reply === null || reply === undefined) return [];
  if (Buffer.isBuffer(reply)) return [reply.toString('latin1')];
  if (Array.isArray(reply)) return reply.flatMap(flatten);
  return [typeof reply === 'string' || typeof reply === 'number' ? String(reply) : JSON.stringify(reply)];
}

/** One message published on a channel the recorder listens to. */
export interface PubSubMessage {
  channel: string;
  message: string;
}

/**
 * Keeps every message published on a channel under `${prefix}:` (PSUBSCRIBE `${prefix}:*`), from
 * `start` to `stop`: start it before the app so nothing it publishes is missed.
 */
export class RedisPubSubRecorder {
  readonly messages: PubSubMessage[] = [];
  private readonly waiting: { channel: string; resolve: () => void }[] = [];

  private constructor(
    private readonly subscriber: Redis,
    private readonly publisher: Redis,
    private readonly prefix: string,
  ) {
    subscriber.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, message: Buffer) => {
      const entry = { channel: channel.toString('latin1'), message: message.toString('latin1') };
      this.messages.push(entry);
      for (const waiter of this.waiting.filter((w) => w.channel === entry.channel)) {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        waiter.resolve();
      }
    });
  }

  static async start(redisUrl: string, prefix: string): Promise<RedisPubSubRecorder> {
    const recorder = new RedisPubSubRecorder(new Redis(redisUrl), new Redis(redisUrl), prefix);
    await recorder.subscriber.psubscribe(`${prefix}:*`);
    return recorder;
  }

  /**
   * Resolves once every message published before the call has been received: Redis delivers in the
   * order it executed the PUBLISHes, so a marker published now arrives after all of them.
   */
  async flush(): Promise<void> {
    const channel = `${this.prefix}:secret-scan:flush`;
    const arrived = new Promise<void>((resolve) => this.waiting.push({ channel, resolve }));
    await this.publisher.publish(channel, 'flush');
    await arrived;
  }

  /** Hits say `redis pubsub ${channel} #${index}`; channel names are scanned with their messages. */
  scan(needles: readonly Needle[]): ScanHit[] {
    const scanner = new SecretScanner(needles);
    return this.messages.flatMap((m, index) => scanner.scan(`redis pubsub ${m.channel} #${index}`, `${m.channel}\n${m.message}`));
  }

  async stop(): Promise<void> {
    await Promise.all([this.subscriber.quit(), this.publisher.quit()]);
  }
}
