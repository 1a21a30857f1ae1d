import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, closeSync, constants, mkdirSync, openSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { StartError } from './postgres.js';

/**
 * `url` parsed, when it is a redis:// or rediss:// URL with a host; else StartError with one line that
 * shows the expected form, never the value (it may hold a password).
 * @throws StartError
 */
export function parseRedisUrl(url: string): URL {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  // "localhost:6379" parses, as the scheme "localhost:" with no host: a PING would go to the default port
  if (!parsed || !['redis:', 'rediss:'].includes(parsed.protocol) || !parsed.hostname) {
    throw new StartError('REDIS_URL must be a redis:// or rediss:// URL with a host, such as redis://127.0.0.1:6379');
  }
  return parsed;
}

/** The REDIS_URL everything defaults to. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Whether a Redis server answers at `url`: a bare socket sends PING and any RESP reply counts (an
 * `-NOAUTH` from a server with a password answers too). A socket rather than an ioredis client, so a
 * check of a port where nothing listens ends in one refused connect, with no retry timers left behind.
 * Resolves false after `timeoutMs` (ms) without a reply.
 */
export function redisAnswers(url: string, timeoutMs = 1_000): Promise<boolean> {
  const { hostname, port } = parseRedisUrl(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || 6379) });
    const done = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => done(/^[+\-:$*]/.test(chunk.toString('latin1'))));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/** Whether `command` is an executable file in one of PATH's folders. */
export function onPath(command: string, path = process.env.PATH ?? ''): boolean {
  return path
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => {
      try {
        accessSync(join(dir, command), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

/**
 * Where a private redis-server may listen for `url`: its port when `url` names this machine without a
 * password (nothing answered there, so the server takes its place), undefined for a remote or
 * password-protected Redis, which only its operator can start.
 */
export function privatePortFor(url: string): number | undefined {
  const parsed = parseRedisUrl(url);
  if (parsed.protocol !== 'redis:' || !LOCAL_HOSTS.has(parsed.hostname) || parsed.password) return undefined;
  return Number(parsed.port || 6379);
}

/** Whether nothing listens on `port` of `host` (127.0.0.1; undefined: every address, as the API listens) now. */
export function portIsFree(port: number, host: string | undefined = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host }, () => server.close(() => resolve(true)));
  });
}

/** A free port of 127.0.0.1 chosen by the system. */
export function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A redis-server run as a child of this process (`--daemonize no`, so it is reaped and its exit can be
 * awaited), bound to 127.0.0.1, with an append-only file in `dir` and no RDB snapshots. Output goes to
 * `dir`/redis.log.
 */
export class LocalRedis {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    private readonly exited: Promise<void>,
  ) {}

  /**
   * Starts redis-server on `port` and resolves once it answers PING.
   * @throws Error naming the log file when it exits or stays silent for `timeoutMs` (ms)
   */
  static async start(dir: string, port: number, timeoutMs = 10_000): Promise<LocalRedis> {
    mkdirSync(dir, { recursive: true });
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes'];
    // a pid file (written even when not daemonized, once asked for): a start killed before it recorded
    // this server finds it there
    args.push('--dir', dir, '--daemonize', 'no', '--logfile', '', '--pidfile', join(dir, 'redis.pid'));
    const logFile = join(dir, 'redis.log');
    const log = openSync(logFile, 'a');
    // its own process group: a Ctrl-C in the terminal reaches the launcher, which stops it in order
    const child = spawn('redis-server', args, { stdio: ['ignore', log, log], detached: true });
    closeSync(log);
    // a spawn that fails (no such file) emits error and never exit
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    const redis = new LocalRedis(child, port, exited);
    const deadline = Date.now() + timeoutMs;
    while (!(await redisAnswers(redis.url, 500))) {
      if (!redis.running || Date.now() > deadline) {
        await redis.stop();
        throw new StartError(`redis-server did not start on port ${port} (see ${logFile})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM (Redis flushes its append-only file and exits), then waits for the exit. */
  async stop(): Promise<void> {
    if (this.running) this.child.kill('SIGTERM');
    await this.exited;
  }
}

/** What to do about Redis: use the one that answers, start a private one on `port`, or stop with `message`. */
export type RedisPlan = { kind: 'answers'; url: string } | { kind: 'private'; port: number } | { kind: 'missing'; message: string };

/**
 * `url` without its user and password, for messages. From the parsed URL, not the text: a password with
 * an `@` in it ("p@ss") showed its tail to a pattern that stopped at the first `@`.
 */
export function maskRedisUrl(url: string): string {
  const parsed = parseRedisUrl(url);
  const credentials = parsed.username || parsed.password ? '***@' : '';
  return `${parsed.protocol}//${credentials}${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
}

/**
 * Decides, with one PING, how to get a Redis for `configured` (REDIS_URL; unset means
 * DEFAULT_REDIS_URL): the server that answers there; else a private redis-server when the URL names
 * this machine without a password and redis-server is on the PATH (port 6379, or any free port when
 * REDIS_URL is unset and 6379 is taken by something that is not Redis; a set URL's own port); else a
 * one-line message naming what to start.
 * @throws StartError when `configured` is not a redis:// or rediss:// URL (parseRedisUrl)
 */
export async function planRedis(configured: string | undefined, path = process.env.PATH): Promise<RedisPlan> {
  const url = configured || DEFAULT_REDIS_URL;
  parseRedisUrl(url);
  if (await redisAnswers(url)) return { kind: 'answers', url };
  const shown = maskRedisUrl(url);
  const port = privatePortFor(url);
  if (port === undefined) return { kind: 'missing', message: `Redis does not answer at ${shown}: start it, or set REDIS_URL to one that runs.` };
  if (!onPath('redis-server', path)) {
    return {
      kind: 'missing',
      message: `Redis does not answer at ${shown} and redis-server is not installed: install Redis (apt-get install redis-server, brew install redis) or run docker compose up -d redis, or set REDIS_URL.`,
    };
  }
  if (await portIsFree(port)) return { kind: 'private', port };
  if (!configured) return { kind: 'private', port: await anyFreePort() };
  return { kind: 'missing', message: `Port ${port} of ${shown} is taken by something that is not Redis: free it, or set REDIS_URL to another port.` };
}
