import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { AppConfig } from '#libs/config';
import { bullOptions, QueueName } from '#libs/queue';

function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return dir;
}

/** The built worker (`npm run build`; `npm test` and `npm run test:e2e` build first). */
export function workerMainPath(): string {
  return join(repositoryRoot(), 'dist', 'apps', 'worker', 'src', 'main.js');
}

/**
 * The V8 flags production runs the worker with: those of package.json's `start:worker`, which a spec
 * keeps equal to apps/worker's WORKER_NODE_FLAGS (a test outside apps/worker may not import it).
 */
export function productionWorkerFlags(): string[] {
  const { scripts } = JSON.parse(readFileSync(join(repositoryRoot(), 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  return scripts['start:worker'].split(/\s+/).filter((word) => word.startsWith('--'));
}

/**
 * A real worker process (dist/apps/worker) on a test's environment, as production runs it. Every
 * line it writes to stdout and stderr is kept, so tests can read its logs and scan them for keys.
 */
export class WorkerProcess {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  private readonly exited: Promise<void>;

  private constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => this.stdout.push(line));
    createInterface({ input: child.stderr! }).on('line', (line) => this.stderr.push(line));
    // 'close' comes after 'exit' once stdout and stderr are drained, so no last line is lost
    this.exited = new Promise((resolve) => child.once('close', () => resolve()));
  }

  /**
   * Starts a worker on `env` and resolves once it serves every queue.
   * @throws when the build is missing or the process exits before it is ready (its stderr in the message)
   */
  static async start(
    env: Record<string, string | undefined>,
    options: { nodeFlags?: readonly string[]; readyTimeoutMs?: number } = {},
  ): Promise<WorkerProcess> {
    const main = workerMainPath();
    if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build (npm test does it)`);
    const child = spawn(process.execPath, [...(options.nodeFlags ?? []), main], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const worker = new WorkerProcess(child);
    await worker.waitUntilReady(AppConfig.fromEnv(env), options.readyTimeoutMs ?? 20_000);
    return worker;
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

  private async waitUntilReady(config: AppConfig, timeoutMs: number): Promise<void> {
    const queues = Object.values(QueueName).map((name) => new Queue(name, bullOptions(config)));
    const deadline = Date.now() + timeoutMs;
    try {
      for (;;) {
        if (!this.running) throw new Error(`The worker exited before it was ready: ${this.stderr.join('\n').slice(-2_000)}`);
        const counts = await Promise.all(queues.map(async (queue) => (await queue.getWorkers()).length));
        if (counts.every((count) => count > 0)) return;
        if (Date.now() > deadline) throw new Error(`The worker was not ready after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await Promise.all(queues.map((queue) => queue.close()));
    }
  }
}
