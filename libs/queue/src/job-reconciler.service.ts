import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { JobHandlerRegistry } from './job-handler.registry.js';
import { JobQueue } from './job-queue.service.js';
import type { JobName } from './jobs.js';
import { lostJobFailure } from './lost-job.js';

/**
 * Makes every job terminate: at start-up and every `JOB_RECONCILE_INTERVAL_MS`, finds job rows
 * that are not terminal while their queue entry has failed (stalled past the queue's limit, or out
 * of attempts), completed, or is missing (Redis lost it; only once the row has not changed for
 * `JOB_RECONCILE_GRACE_MS`, so a start between its row and its enqueue is not taken for lost),
 * erases the entry's sealed request key and settles the row through its handler. A pass that
 * cannot reach Postgres or Redis changes nothing and is tried again at the next one; passes of
 * several workers at once are harmless (settling is conditional on the row not having ended).
 */
@Injectable()
export class JobReconciler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(JobReconciler.name);
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<number> | undefined;

  constructor(
    private readonly registry: JobHandlerRegistry,
    private readonly queue: JobQueue,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    void this.reconcile();
    this.timer = setInterval(() => void this.reconcile(), this.config.jobs.reconcileIntervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.pass;
  }

  /** One pass over every job kind; resolves to the number of jobs it settled (0 when a service was away). */
  reconcile(): Promise<number> {
    this.pass ??= this.run().finally(() => (this.pass = undefined));
    return this.pass;
  }

  private async run(): Promise<number> {
    let settled = 0;
    for (const [name] of this.registry.all()) {
      try {
        settled += await this.reconcileKind(name);
      } catch (error) {
        this.logger.warn({ jobName: name, err: error }, 'Job reconciliation pass could not finish; the next pass tries again');
      }
    }
    return settled;
  }

  private async reconcileKind(name: JobName): Promise<number> {
    const handler = this.registry.handlerFor(name)!;
    const unchangedSince = new Date(Date.now() - this.config.jobs.reconcileGraceMs);
    const candidates = await handler.unfinished();
    let settled = 0;
    for (const { id, updatedAt } of candidates) {
      const entry = await this.queue.entryOf(name, id);
      if (entry.state === 'pending' || entry.state === 'running' || entry.state === 'stalled') continue;
      if (entry.state === 'missing' && updatedAt > unchangedSince) continue;
      await this.queue.eraseSealedKey(name, id);
      const failure = lostJobFailure(entry.state, entry.failedReason);
      if (await handler.settleLost(id, failure)) {
        settled += 1;
        this.logger.warn({ jobName: name, jobId: id, queueState: entry.state, code: failure.code }, `Settled a lost job: ${failure.message}`);
      }
    }
    return settled;
  }
}
