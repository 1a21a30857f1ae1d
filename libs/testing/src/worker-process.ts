import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { AppConfig } from '#libs/config';
import { bullOptions, QueueName } from '#libs/queue';
import { AppProcess, repositoryPath, spawnBuiltApp } from './app-process.js';

/** The built worker (`npm run build`; `npm test` and `npm run test:e2e` build first). */
export function workerMainPath(): string {
  return repositoryPath('dist', 'apps', 'worker', 'src', 'main.js');
}

/**
 * The V8 flags production runs the worker with: those of package.json's `start:worker`, which a spec
 * keeps equal to apps/worker's WORKER_NODE_FLAGS (a test outside apps/worker may not import it).
 */
export function productionWorkerFlags(): string[] {
  const { scripts } = JSON.parse(readFileSync(repositoryPath('package.json'), 'utf8')) as { scripts: Record<string, string> };
  return scripts['start:worker'].split(/\s+/).filter((word) => word.startsWith('--'));
}

/** A real worker process (dist/apps/worker) on a test's environment, as production runs it; its output is kept (AppProcess). */
export class WorkerProcess extends AppProcess {
  /**
   * Starts a worker on `env` and resolves once it serves every queue.
   * @throws when the build is missing or the process exits before it is ready (its stderr in the message)
   */
  static async start(
    env: Record<string, string | undefined>,
    options: { nodeFlags?: readonly string[]; readyTimeoutMs?: number } = {},
  ): Promise<WorkerProcess> {
    const worker = new WorkerProcess(spawnBuiltApp(workerMainPath(), env, options.nodeFlags));
    await worker.waitUntilReady(AppConfig.fromEnv(env), options.readyTimeoutMs ?? 60_000);
    return worker;
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
