import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return dir;
}

/** A file of the repository, e.g. `package.json` or a built entry point under `dist/`. */
export function repositoryPath(...segments: string[]): string {
  return join(repositoryRoot(), ...segments);
}

/**
 * Spawns the built entry point `main` (dist/apps/<app>/src/main.js) on `env` alone (plus PATH).
 * @throws when the build is missing (`npm run build`; `npm test` and `npm run test:e2e` build first)
 */
export function spawnBuiltApp(main: string, env: Record<string, string | undefined>, nodeFlags: readonly string[] = []): ChildProcess {
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build (npm test does it)`);
  return spawn(process.execPath, [...nodeFlags, main], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * One of the product's processes (an API or a worker) run by a test as production runs it. Every
 * line it writes to stdout and stderr is kept, so tests can read its logs and scan them for keys.
 */
export abstract class AppProcess {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  private readonly exited: Promise<void>;

  protected constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => this.stdout.push(line));
    createInterface({ input: child.stderr! }).on('line', (line) => this.stderr.push(line));
    // 'close' comes after 'exit' once stdout and stderr are drained, so no last line is lost
    this.exited = new Promise((resolve) => child.once('close', () => resolve()));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The exit code once the process has exited on its own (null while it runs, or when a signal ended it). */
  get exitCode(): number | null {
    return this.child.exitCode;
  }

  /** SIGSTOP: the process stops where it is (its lock lapses, its sockets stay open) until `resume`. */
  pause(): void {
    this.child.kill('SIGSTOP');
  }

  /** SIGCONT after `pause`. */
  resume(): void {
    this.child.kill('SIGCONT');
  }

  /** Resolves when the process has exited (by itself or by a signal) and its output is read. */
  waitForExit(): Promise<void> {
    return this.exited;
  }

  /** Sends `signal` and resolves when the process has exited and its output is read. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.running) this.child.kill(signal);
    await this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Why the process is not coming up, or undefined while it runs: its exit and the tail of its stderr. */
  protected exitReason(): string | undefined {
    if (this.running) return undefined;
    return `it exited (${this.child.signalCode ?? `code ${this.child.exitCode}`}): ${this.stderr.join('\n').slice(-2_000)}`;
  }
}
