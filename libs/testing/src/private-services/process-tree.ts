import { readdirSync, readFileSync } from 'node:fs';

/**
 * Processes read from /proc, for servers that fork their own workers (Dovecot's master starts one
 * process per service and per connection): a stop must wait for all of them, since a worker still
 * holding a listening socket keeps the port from the next start.
 */

interface Stat {
  ppid: number;
  state: string;
}

function stat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after its last ')'
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

/** All descendants of `root` (children, their children, ...), not `root` itself. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const parent = stat(pid)?.ppid;
    if (parent === undefined) continue;
    children.set(parent, [...(children.get(parent) ?? []), pid]);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/**
 * Whether `pid` still runs. A zombie counts as gone: orphans are reparented to the container's init,
 * which may never reap them, yet they hold no socket or file any more.
 */
export function processRuns(pid: number): boolean {
  const state = stat(pid)?.state;
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** Whether `pid` is stopped by a signal (SIGSTOP), as `ps` shows state T. */
export function processStopped(pid: number): boolean {
  return stat(pid)?.state === 'T';
}

/** Sends `signal` to each of `pids` that still exists, ignoring those already gone. */
export function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}
