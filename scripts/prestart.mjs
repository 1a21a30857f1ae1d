// `npm start`'s first step, before any build: stops at once, in one line, when the start cannot succeed
// (another start holds DATA_DIR's pid file; nothing answers at REDIS_URL and no private redis-server can
// take its place), then rebuilds only if a source changed (build-if-stale.mjs). Plain Node: dist may
// not exist yet. dist/scripts/start.js repeats these checks itself and starts the private Redis.
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import { parse } from 'dotenv';
import { buildIfStale } from './build-if-stale.mjs';

// the package's folder, where npm runs scripts (not this file's real path: see build-if-stale.mjs)
const root = process.cwd();
const envFile = resolve(root, process.env.ENV_FILE || '.env');
const env = { ...(existsSync(envFile) ? parse(readFileSync(envFile)) : {}), ...process.env };
const stop = (line) => {
  process.stderr.write(`[start] ${line}\n`);
  process.exit(1);
};

const lock = join(resolve(root, env.DATA_DIR || '.data'), 'start.pid');
// when a process started, in clock ticks since boot (/proc/<pid>/stat's 22nd field); undefined without /proc
const startTime = (pid) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
};
if (existsSync(lock)) {
  let holder;
  try {
    const { pid, port, startedAt } = JSON.parse(readFileSync(lock, 'utf8'));
    process.kill(pid, 0);
    // a pid reused by another process since that start was killed (or since a reboot) is not it
    const started = startedAt === undefined ? undefined : startTime(pid);
    if (started === undefined || started === startedAt) holder = { pid, port };
  } catch {
    // gone or unreadable: start.js takes the stale file over
  }
  if (holder) stop(`already running (pid ${holder.pid}, API on http://localhost:${holder.port}); stop it first`);
}

// as start.js's parseRedisUrl: "localhost:6379" parses as the scheme "localhost:" with no host; the value
// is never shown (it may hold a password)
let url;
try {
  url = new URL(env.REDIS_URL || 'redis://127.0.0.1:6379');
} catch {
  url = undefined;
}
if (!url || !['redis:', 'rediss:'].includes(url.protocol) || !url.hostname) {
  stop('REDIS_URL must be a redis:// or rediss:// URL with a host, such as redis://127.0.0.1:6379');
}
const answers = await new Promise((done) => {
  const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 6379) });
  const end = (ok) => {
    socket.destroy();
    done(ok);
  };
  socket.setTimeout(1_000, () => end(false));
  socket.once('connect', () => socket.write('PING\r\n'));
  socket.once('data', (chunk) => end(/^[+\-:$*]/.test(chunk.toString('latin1'))));
  socket.once('error', () => end(false));
});
if (!answers) {
  const shown = url.href.replace(/\/\/[^@/]*@/, '//***@');
  const local = url.protocol === 'redis:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) && !url.password;
  const installed = (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, 'redis-server')));
  if (!local) stop(`Redis does not answer at ${shown}: start it, or set REDIS_URL to one that runs.`);
  if (!installed) {
    stop(
      `Redis does not answer at ${shown} and redis-server is not installed: install Redis (apt-get install redis-server, brew install redis) or run docker compose up -d redis, or set REDIS_URL.`,
    );
  }
}

buildIfStale(root);
