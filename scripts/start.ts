import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { loadConfigOrExit } from '#libs/config';
import { WORKER_NODE_FLAGS } from '../apps/worker/src/node-flags.js';
import { applyMigrations } from '#libs/database';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded-database.js';
import { ensureLocalEnv } from './local-env.js';

/**
 * `npm start`: everything a fresh clone needs, then the API and the worker as two processes.
 * Postgres comes from DATABASE_URL or, without one, an embedded server with its data in `.data/`.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const say = (line: string) => process.stdout.write(`[start] ${line}\n`);

const local = ensureLocalEnv(join(root, '.env'), process.env);
if (local.created) say('Wrote .env with fresh master keys and an admin token (ADMIN_API_TOKEN). Keep it; never commit it.');
const env: NodeJS.ProcessEnv = { ...local.values, ...process.env };

let embedded: EmbeddedDatabase | undefined;
if (!env.DATABASE_URL) {
  const port = Number(env.EMBEDDED_POSTGRES_PORT ?? 54329);
  embedded = await startEmbeddedPostgres(join(root, '.data', 'postgres'), port);
  env.DATABASE_URL = embedded.url;
  say(`No DATABASE_URL: embedded Postgres on 127.0.0.1:${port}, data in .data/postgres`);
}

const config = loadConfigOrExit(env);
await assertRedisAnswers(config.redisUrl);
const { applied } = await applyMigrations(config.databaseUrl);
say(applied.length ? `Applied migrations: ${applied.join(', ')}` : 'Database schema is up to date');

const children: ChildProcess[] = [];
for (const app of ['api', 'worker']) {
  const flags = app === 'worker' ? WORKER_NODE_FLAGS : [];
  const child = spawn(process.execPath, [...flags, join(root, 'dist', 'apps', app, 'src', 'main.js')], { env, stdio: 'inherit' });
  child.on('exit', (code, signal) => void shutdown(`${app} exited (${signal ?? code})`, code ?? 1));
  children.push(child);
}
say(`API on http://localhost:${config.port} (docs at /docs), worker started. Ctrl-C stops both.`);

let stopping = false;
async function shutdown(reason: string, code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  say(`Stopping: ${reason}`);
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.all(children.filter((c) => c.exitCode === null).map((c) => new Promise((r) => c.once('exit', r))));
  await embedded?.stop();
  process.exit(code);
}
process.on('SIGINT', () => void shutdown('SIGINT', 0));
process.on('SIGTERM', () => void shutdown('SIGTERM', 0));

async function assertRedisAnswers(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch {
    process.stderr.write(
      `Redis does not answer at ${url.replace(/\/\/[^@]*@/, '//***@')}: start it (redis-server --daemonize yes, or docker compose up -d redis) or set REDIS_URL.\n`,
    );
    await embedded?.stop();
    process.exit(1);
  } finally {
    redis.disconnect();
  }
}
