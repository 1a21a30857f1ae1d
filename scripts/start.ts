import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppConfig, ConfigError } from '#libs/config';
import { applyMigrations } from '#libs/database';
import { WORKER_NODE_FLAGS } from '../apps/worker/src/node-flags.js';
import { ensureLocalEnv } from './local-env.js';
import {
  acquireLock,
  AlreadyRunningError,
  processStartTime,
  recordService,
  releaseLock,
  type Service,
  serviceFromPidFile,
  stopLeftovers,
} from './local-services/lock.js';
import { embeddedDatabaseUrl, StartError, startEmbeddedPostgres } from './local-services/postgres.js';
import { LocalRedis, planRedis, portIsFree } from './local-services/redis.js';
import { say, Supervisor, waitForHealthy } from './local-services/supervisor.js';

/**
 * `npm start`: everything a fresh clone needs, then the API and the worker as two processes. Redis is
 * checked first (a private redis-server when none answers on this machine); Postgres comes from
 * DATABASE_URL or an embedded server. Data, the pid file and the private servers' files live in
 * DATA_DIR (default `.data`); the generated secrets in ENV_FILE (default `.env`). Whatever stops it
 * (Ctrl-C, a bad setting, a child that dies) stops everything it started.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const supervisor = new Supervisor();

/**
 * Runs `step`, which writes at `path` (the setting `setting` names it): a file system error there (a
 * folder that is a file, no permission, a read-only disk) becomes a StartError, one line naming the
 * setting, rather than a stack trace.
 * @throws StartError
 */
function onDisk<T>(setting: string, path: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    const { code, syscall } = error as NodeJS.ErrnoException;
    if (typeof code !== 'string' || typeof syscall !== 'string') throw error;
    throw new StartError(`${setting} ${path} cannot be written (${code} on ${syscall}): set ${setting} to a path this user can write`);
  }
}

try {
  const envFile = resolve(root, process.env.ENV_FILE || '.env');
  const local = onDisk('ENV_FILE', envFile, () => ensureLocalEnv(envFile, process.env));
  if (local.created) say(`Wrote ${envFile} with fresh master keys and an admin token (ADMIN_API_TOKEN). Keep it; never commit it.`);
  const env: NodeJS.ProcessEnv = { ...local.values, ...process.env };
  const dataDir = resolve(root, env.DATA_DIR || '.data');
  onDisk('DATA_DIR', dataDir, () => mkdirSync(dataDir, { recursive: true }));

  // first, so a second start says so (rather than trip over the first one's servers), and a start that
  // was killed (SIGKILL: no chance to clean up) has the servers it left stopped before they are needed
  const lock = join(dataDir, 'start.pid');
  const stale = onDisk('DATA_DIR', dataDir, () =>
    acquireLock(lock, { pid: process.pid, port: Number(env.PORT) || 3000, startedAt: processStartTime(process.pid) }),
  );
  supervisor.onStop('the pid file', () => Promise.resolve(releaseLock(lock)));
  const leftovers = stale ? await stopLeftovers(stale) : [];
  // a start killed while its Redis or Postgres was starting never recorded it: their own pid files in
  // DATA_DIR name them (checked to run in that folder), and this start holds DATA_DIR now
  const servers: Record<string, Service> = {};
  const redisPid = serviceFromPidFile(join(dataDir, 'redis', 'redis.pid'), 'redis-server', join(dataDir, 'redis'));
  if (redisPid) servers['redis-server'] = redisPid;
  const postmaster = serviceFromPidFile(join(dataDir, 'postgres', 'postmaster.pid'), 'postgres', join(dataDir, 'postgres'));
  if (postmaster) servers.postgres = postmaster;
  leftovers.push(...(await stopLeftovers({ services: servers })));
  if (leftovers.length) say(`Stopped what a start that was killed left running: ${leftovers.join(', ')}`);

  const redis = await planRedis(env.REDIS_URL);
  if (redis.kind === 'missing') await supervisor.fail(redis.message);
  if (redis.kind === 'private') env.REDIS_URL = `redis://127.0.0.1:${redis.port}`;
  const pgPort = Number(env.EMBEDDED_POSTGRES_PORT || 54329);
  const embedded = !env.DATABASE_URL;
  if (embedded) env.DATABASE_URL = embeddedDatabaseUrl(pgPort);

  // every setting is checked before anything starts, so a bad one leaves nothing running
  const config = AppConfig.fromEnv(env);
  // another program on the API's port would answer the health check in the API's place: the launcher
  // would say it is up, then the API would die on EADDRINUSE and take everything down with it
  if (!(await portIsFree(config.port, undefined))) {
    throw new StartError(`Port ${config.port} is in use by another program (another API?): stop it, or set PORT to a free port`);
  }

  if (redis.kind === 'private') {
    const server = await LocalRedis.start(join(dataDir, 'redis'), redis.port);
    supervisor.onStop('Redis', () => server.stop());
    if (server.pid) recordService(lock, 'redis-server', { pid: server.pid, program: 'redis-server' });
    say(
      `No Redis answered: started redis-server on 127.0.0.1:${redis.port} (pid ${server.pid}), data in ${join(dataDir, 'redis')}; it stops with npm start`,
    );
  }
  if (embedded && !supervisor.isStopping) {
    const db = await startEmbeddedPostgres(join(dataDir, 'postgres'), pgPort);
    supervisor.onStop('Postgres', () => db.stop());
    recordService(lock, 'postgres', { pid: db.pid, program: 'postgres' });
    say(`No DATABASE_URL: embedded Postgres on 127.0.0.1:${pgPort}, data in ${join(dataDir, 'postgres')}`);
  }
  const { applied } = await applyMigrations(config.databaseUrl);
  say(applied.length ? `Applied migrations: ${applied.join(', ')}` : 'Database schema is up to date');

  if (!supervisor.isStopping) {
    // the API first, the worker once it answers: on two cores the two boots would share them, and the
    // API is what a person waits for
    const api = supervisor.spawnNode('api', [join(root, 'dist', 'apps', 'api', 'src', 'main.js')], env);
    if (api.pid) recordService(lock, 'api', { pid: api.pid, program: 'node' });
    const healthy = await waitForHealthy(`http://127.0.0.1:${config.port}/health`, () => api.exitCode === null && !supervisor.isStopping);
    if (!healthy && !supervisor.isStopping) await supervisor.fail(`The API did not answer GET /health on port ${config.port} within 60 s`);
    if (!supervisor.isStopping) {
      const worker = supervisor.spawnNode('worker', [...WORKER_NODE_FLAGS, join(root, 'dist', 'apps', 'worker', 'src', 'main.js')], env);
      if (worker.pid) recordService(lock, 'worker', { pid: worker.pid, program: 'node' });
      say(`API on http://localhost:${config.port} (docs at /docs), worker starting. Ctrl-C stops both.`);
    }
  }
} catch (error) {
  // a bad setting or a second start is the user's to fix: its one line, no stack trace
  const known = error instanceof ConfigError || error instanceof AlreadyRunningError || error instanceof StartError;
  await supervisor.fail(known ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error));
}
