import type { Queue } from 'bullmq';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { WORKER_NODE_FLAGS } from '../apps/worker/src/node-flags.js';

export { sleep };

const WORKER_MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'apps', 'worker', 'src', 'main.js');

// the tests' picker: a port below the ephemeral range, so a server a benchmark stopped is not handed out again at once
export { freePort } from '../libs/testing/src/private-services/free-port.js';

/** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Polls `check` every 100 ms (a rejection counts as not yet) until it holds; throws `failure` after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean>, failure: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(failure);
    await sleep(100);
  }
}

/** Node on the built program `main` with `flags`, on `env` (and PATH only); its stderr goes to this process's. */
export function spawnNode(main: string, flags: readonly string[], env: Record<string, string | undefined>): ChildProcess {
  return spawn(process.execPath, [...flags, main], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** The built worker (dist/apps/worker) on `env`, with production's V8 flags. */
export function spawnWorker(env: Record<string, string | undefined>): ChildProcess {
  return spawnNode(WORKER_MAIN, WORKER_NODE_FLAGS, env);
}

export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Resolves once `count` worker processes serve `queue` (BullMQ's list of its workers). */
export async function waitForWorkers(queue: Queue, count = 1): Promise<void> {
  await waitFor(async () => (await queue.getWorkers()).length >= count, `${count} worker process(es) did not start`);
}

/**
 * CPU time (user + system, seconds) a process has used (Linux): on a shared host records/s follows
 * the load, CPU per record follows the code.
 */
export function cpuSecondsOf(pid: number): number {
  try {
    // the fields after the command name, which may hold spaces, start with the state (field 3)
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Peak resident set of a process over its life, in kB (Linux); 0 once it is gone. */
export function peakRssOf(pid: number): number {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return 0;
  }
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) : 0;
}
