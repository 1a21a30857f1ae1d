import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

/**
 * A server run as a child of this process rather than daemonised: the test process reaps it, so a
 * stopped server leaves no zombie behind (the container's init does not reap orphans), and its exit
 * can be awaited exactly. Output goes to `logFile`.
 */
export class ChildService {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The running child's process id. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  launch(command: string, args: readonly string[], logFile: string): void {
    if (this.running) throw new Error(`${command} is already running`);
    const log = openSync(logFile, 'a');
    try {
      const child = spawn(command, args, { stdio: ['ignore', log, log] });
      this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
      child.once('error', () => undefined);
      this.child = child;
    } finally {
      closeSync(log);
    }
  }

  /** Resolves once the child has exited (at once if it is not running). */
  waitForExit(): Promise<void> {
    return this.exited;
  }

  /** Sends `signal` to the child, if it runs, and waits for its exit. */
  async signal(signal: NodeJS.Signals): Promise<void> {
    if (this.running) this.child?.kill(signal);
    await this.exited;
  }

  /** Synchronous last resort for process exit: SIGKILL, no waiting. */
  killNow(): void {
    if (this.running) this.child?.kill('SIGKILL');
  }
}
