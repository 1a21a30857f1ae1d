import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createTestDatabase, deleteRedisPrefix, testEnv } from '#libs/testing';
import { fmt } from './stats.js';
import { freePort } from './processes.js';

/**
 * One client guessing tokens as fast as it can against the API as a process (dist/apps/api/src/main.js):
 * tenant tokens (each guess a database lookup unless refused first), then the platform admin token.
 * Run once with the rate limits out of reach and once with the defaults (20 failed authentications per
 * address and 10 per token prefix a minute). Prints guesses/s, how many were answered 401 (checked)
 * and 429 (refused before any lookup), and the token lookups Postgres counted (pg_stat_user_tables).
 * BENCH_SECONDS sets each run's length (default 10), BENCH_CONCURRENCY the client's requests in flight (8).
 */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const API_MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'apps', 'api', 'src', 'main.js');
const UNREACHABLE = '10000000';

interface Tally {
  guesses: number;
  unauthorized: number;
  limited: number;
  other: number;
  lookups: number;
}

const database = await createTestDatabase();
const pool = new pg.Pool({ connectionString: database.url, max: 1 });
try {
  console.log(`auth guessing: one client, ${CONCURRENCY} requests in flight, ${SECONDS} s per run (Node ${process.version})`);
  const targets = [
    ['tenant tokens', () => `tt_${randomBytes(32).toString('base64url')}`],
    ['admin token', () => `admin-${randomBytes(24).toString('base64url')}`],
  ] as const;
  for (const [label, limits] of [
    ['limiter off', { RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: UNREACHABLE, RATE_LIMIT_AUTH_FAILURES_PER_TOKEN_PREFIX: UNREACHABLE }],
    ['limiter on (defaults)', { RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: undefined, RATE_LIMIT_AUTH_FAILURES_PER_TOKEN_PREFIX: undefined }],
  ] as const) {
    // one API process (and Redis prefix) per run, so no run inherits another's counts
    for (const [target, guess] of targets) {
      const env = testEnv(database.url, { ...limits, LOG_LEVEL: 'warn', PORT: String(await freePort()) });
      const api = spawn(process.execPath, [API_MAIN], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
      const baseUrl = `http://127.0.0.1:${env.PORT}`;
      try {
        await waitFor(async () => (await fetch(`${baseUrl}/health`)).status === 200, api);
        print(`${label}, ${target}`, await guessFor(baseUrl, guess, pool));
      } finally {
        await stop(api);
        await deleteRedisPrefix(env.REDIS_URL!, env.REDIS_PREFIX!);
      }
    }
  }
} finally {
  await pool.end();
  await database.drop();
}

/** Sends guesses for SECONDS with CONCURRENCY in flight; counts the answers and the token table's scans. */
async function guessFor(baseUrl: string, guess: () => string, db: pg.Pool): Promise<Tally> {
  const tally: Tally = { guesses: 0, unauthorized: 0, limited: 0, other: 0, lookups: 0 };
  const scansBefore = await tokenScans(db);
  const deadline = Date.now() + SECONDS * 1000;
  const client = async () => {
    while (Date.now() < deadline) {
      const res = await fetch(`${baseUrl}/v1/me`, { headers: { authorization: `Bearer ${guess()}` } });
      await res.arrayBuffer();
      tally.guesses++;
      if (res.status === 401) tally.unauthorized++;
      else if (res.status === 429) tally.limited++;
      else tally.other++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  // a tenant-token guess answered 401 was looked up; an admin-token guess never is (compared in process)
  const expected = guess().startsWith('tt_') ? tally.unauthorized : 0;
  tally.lookups = (await tokenScans(db, scansBefore + expected)) - scansBefore;
  return tally;
}

/**
 * Index and sequential scans of tenant_tokens so far. Backends report their counts to the statistics
 * system in batches (an idle one after up to 10 s), so after a run it waits (up to 12 s) until the count
 * reaches `expected`, the number of lookups the answers imply.
 */
async function tokenScans(db: pg.Pool, expected = 0): Promise<number> {
  const until = Date.now() + 12_000;
  for (;;) {
    await db.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await db.query<{ scans: string }>(
      "SELECT (coalesce(idx_scan, 0) + coalesce(seq_scan, 0))::text AS scans FROM pg_stat_user_tables WHERE relname = 'tenant_tokens'",
    );
    const scans = Number(rows[0]?.scans ?? 0);
    if (scans >= expected || Date.now() > until) return scans;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function print(label: string, t: Tally): void {
  console.log(
    `  ${label.padEnd(36)} ${fmt(t.guesses / SECONDS, 0).padStart(7)} guesses/s  401 ${String(t.unauthorized).padStart(6)}  429 ${String(t.limited).padStart(6)}` +
      `  other ${t.other}  token lookups in Postgres ${t.lookups}`,
  );
}

async function waitFor(ready: () => Promise<boolean>, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await ready().catch(() => false))) {
    if (child.exitCode !== null) throw new Error(`the API process exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error('the API process did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
