import { existsSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';

/** What the pid file of a running launcher records. */
export interface LockOwner {
  pid: number;
  /** The API's port. */
  port: number;
  /** What it started, by name (`api`, `redis-server`, ...): a start that was killed leaves them running. */
  services?: Record<string, Service>;
  /**
   * When its process started (processStartTime), so a pid reused by another process after the launcher
   * was killed (or after a reboot) does not pass for it.
   */
  startedAt?: string;
}

/** A process the launcher started: its id and the program it runs (as /proc/<pid>/stat names it). */
export interface Service {
  pid: number;
  program: string;
  /** The folder it must run in (its working directory: postgres and redis-server change into their data folder), when known. */
  dir?: string;
}

/** Another launcher holds the lock: it runs as `owner.pid`, its API on `owner.port`. */
export class AlreadyRunningError extends Error {
  override name = 'AlreadyRunningError';
  constructor(readonly owner: LockOwner) {
    super(`already running (pid ${owner.pid}, API on http://localhost:${owner.port}); stop it first`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by someone else
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * When process `pid` started, in clock ticks since boot (/proc/<pid>/stat's 22nd field), as a string;
 * undefined where there is no /proc (macOS) or no such process.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the fields after the name (which may hold spaces and parentheses) start at the 3rd
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether the launcher `owner` names still runs: its pid is alive and, when the file says when it started, is the same process. */
function holderRuns(owner: LockOwner): boolean {
  if (!alive(owner.pid)) return false;
  const started = owner.startedAt === undefined ? undefined : processStartTime(owner.pid);
  return started === undefined || started === owner.startedAt;
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    return typeof owner.pid === 'number' && typeof owner.port === 'number'
      ? {
          pid: owner.pid,
          port: owner.port,
          services: owner.services ?? {},
          ...(typeof owner.startedAt === 'string' ? { startedAt: owner.startedAt } : {}),
        }
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the pid file at `path` for `owner` (JSON { pid, port, startedAt, services }), created exclusively
 * so two launchers starting together cannot both win. A file whose process is gone (or is another
 * process now, by its start time), or that is unreadable, is stale and taken over; its holder is
 * returned, so its servers can be stopped (stopLeftovers).
 * @throws AlreadyRunningError when a live process holds it
 */
export function acquireLock(path: string, owner: LockOwner): LockOwner | undefined {
  let stale: LockOwner | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, `${JSON.stringify(owner)}\n`, { flag: 'wx' });
      return stale;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readOwner(path);
    if (holder && holder.pid !== process.pid && holderRuns(holder)) throw new AlreadyRunningError(holder);
    stale = holder;
    rmSync(path, { force: true });
  }
  throw new Error(`Could not take the lock file ${path}`);
}

/** Records in the pid file this process holds that it started `name` (`service`). */
export function recordService(path: string, name: string, service: Service): void {
  const owner = readOwner(path);
  if (owner?.pid !== process.pid) return;
  writeFileSync(path, `${JSON.stringify({ ...owner, services: { ...owner.services, [name]: service } })}\n`);
}

/**
 * Whether `pid` runs `program` (read from /proc where there is one), in `dir` when given (its working
 * directory). A zombie counts as gone.
 */
function runs(pid: number, program: string, dir?: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    if (name !== program.slice(0, 15) || ['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0])) return false;
    return dir === undefined || realpathSync(`/proc/${pid}/cwd`) === realpathSync(dir);
  } catch (error) {
    // no /proc (macOS): whether the process exists at all; a folder cannot be checked there, so a
    // process found only by a pid file in that folder is left alone
    return (error as NodeJS.ErrnoException).code === 'ENOENT' && dir === undefined && !existsSync('/proc/self') && alive(pid);
  }
}

/**
 * The server whose pid file is `pidFile` (its first line), as a Service running `program` in `dir`;
 * undefined when there is no such file. For the servers a start killed before it recorded them: their
 * own pid files (postmaster.pid, redis.pid) name them.
 */
export function serviceFromPidFile(pidFile: string, program: string, dir: string): Service | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0].trim());
    return Number.isSafeInteger(pid) && pid > 0 ? { pid, program, dir } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Stops what a killed start left running (its pid file's `services`, each only if that pid still runs
 * that program, in its folder when the service names one), last started first: SIGINT (fast shutdown) for postgres, SIGTERM for the others; waits
 * up to `timeoutMs` (ms) for each. Returns what it stopped, as `name (pid)`.
 */
export async function stopLeftovers(stale: Pick<LockOwner, 'services'>, timeoutMs = 15_000): Promise<string[]> {
  const stopped: string[] = [];
  for (const [name, { pid, program, dir }] of Object.entries(stale.services ?? {}).reverse()) {
    if (!runs(pid, program, dir)) continue;
    process.kill(pid, program === 'postgres' ? 'SIGINT' : 'SIGTERM');
    const deadline = Date.now() + timeoutMs;
    while (runs(pid, program, dir) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    stopped.push(`${name} (pid ${pid})`);
  }
  return stopped;
}

/** Removes the pid file at `path` if this process holds it. */
export function releaseLock(path: string): void {
  if (readOwner(path)?.pid === process.pid) rmSync(path, { force: true });
}
