import { readFileSync, rmSync, writeFileSync } from 'node:fs';

/** What the pid file of a running launcher records. */
export interface LockOwner {
  pid: number;
  /** The API's port. */
  port: number;
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

function readOwner(path: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    return typeof owner.pid === 'number' && typeof owner.port === 'number' ? { pid: owner.pid, port: owner.port } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the pid file at `path` for `owner` (JSON { pid, port }), created exclusively so two launchers
 * starting together cannot both win. A file whose process is gone (or that is unreadable) is stale and
 * taken over.
 * @throws AlreadyRunningError when a live process holds it
 */
export function acquireLock(path: string, owner: LockOwner): void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, `${JSON.stringify(owner)}\n`, { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readOwner(path);
    if (holder && holder.pid !== process.pid && alive(holder.pid)) throw new AlreadyRunningError(holder);
    rmSync(path, { force: true });
  }
  throw new Error(`Could not take the lock file ${path}`);
}

/** Removes the pid file at `path` if this process holds it. */
export function releaseLock(path: string): void {
  if (readOwner(path)?.pid === process.pid) rmSync(path, { force: true });
}
