import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DelayedError, type Job, UnrecoverableError, WaitingError, Worker, type WorkerOptions } from 'bullmq';
import { AppConfig } from '#libs/config';
import { isDatabaseUnavailable } from '#libs/database';
import { Metrics } from '#libs/metrics';
import type { JobContext, JobRunResult } from './job-handler.js';
import { JobHandlerRegistry } from './job-handler.registry.js';
import { eraseSealedKey } from './job-queue.service.js';
import { QueueName } from './jobs.js';
import { lostJobFailure } from './lost-job.js';
import { bullOptions } from './queue.module.js';

type QueueJob = Job<{ sealedKey?: unknown; outageSince?: number }>;

/** How often (ms) a running job checks that it still holds its queue lock. */
const LEASE_CHECK_MS = 1_000;
/** How long (ms) a job waits before it tries again after the database was unreachable. */
const OUTAGE_RETRY_MS = 2_000;

/** Worker options per queue, set here and nowhere else. */
export function workerOptionsFor(
  queue: QueueName,
  config: AppConfig,
): Pick<WorkerOptions, 'concurrency' | 'lockDuration' | 'stalledInterval' | 'maxStalledCount'> {
  switch (queue) {
    case QueueName.Backfills:
      return {
        concurrency: config.backfill.workerConcurrency,
        lockDuration: config.jobs.lockDurationMs,
        stalledInterval: Math.min(30_000, config.jobs.lockDurationMs),
        maxStalledCount: 2,
      };
    case QueueName.AiJobs:
      return {
        concurrency: config.jobs.aiWorkerConcurrency,
        lockDuration: config.jobs.lockDurationMs,
        // as for backfills: a crashed worker's job is taken over once its lock lapses, not 30 s later
        stalledInterval: Math.min(30_000, config.jobs.lockDurationMs),
      };
    case QueueName.Deletions:
      // one deletion at a time per worker: each is a long run of short transactions
      return {
        concurrency: 1,
        lockDuration: config.jobs.lockDurationMs,
        stalledInterval: Math.min(30_000, config.jobs.lockDurationMs),
        maxStalledCount: 5,
      };
    case QueueName.Webhooks:
      // deliveries are short HTTP calls (WEBHOOK_TIMEOUT_MS each): many at once; a crashed worker's
      // delivery is taken over once its lock lapses and counts the interrupted attempt
      return {
        concurrency: 8,
        lockDuration: config.jobs.lockDurationMs,
        stalledInterval: Math.min(30_000, config.jobs.lockDurationMs),
        maxStalledCount: 3,
      };
  }
}

/** A job that failed on an untyped error, which BullMQ may retry (typed failures end as UnrecoverableError). */
function isUntypedFailure(error: Error): boolean {
  return !(error instanceof UnrecoverableError) && error.name !== 'UnrecoverableError';
}

/**
 * One BullMQ worker per queue, started once every handler is registered. Each job goes to the
 * handler of its name with two signals: `shutdown` (SIGTERM: finish the page in flight, hand the
 * job back) and `leaseLost` (checked every second: the queue lock is no longer this run's). When a
 * run ends, any sealed request key leaves its Redis data and a typed failure becomes an
 * UnrecoverableError, so BullMQ records it without retrying. A database outage re-queues the job
 * without using an attempt, for up to `JOB_OUTAGE_PATIENCE_MS`. Nothing here lets an error of
 * Postgres or Redis escape as an unhandled rejection: what cannot be settled now is left to
 * JobReconciler.
 */
@Injectable()
export class JobWorkers implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(JobWorkers.name);
  private readonly workers: Worker[] = [];
  private readonly stopping = new AbortController();

  constructor(
    private readonly registry: JobHandlerRegistry,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  onApplicationBootstrap(): void {
    for (const queue of Object.values(QueueName)) {
      const worker: Worker = new Worker(queue, (job: QueueJob, token?: string) => this.process(queue, worker, job, token), {
        ...bullOptions(this.config),
        ...workerOptionsFor(queue, this.config),
      });
      worker.on('failed', (job, error) => void this.onFailed(job, error));
      worker.on('error', (error) => this.logger.error({ queue, err: error }, 'Queue worker error'));
      this.workers.push(worker);
    }
  }

  /**
   * Shutdown: every run in flight is told to stop at its next checkpoint and hand its job back to
   * the queue (another worker resumes it at once); then the workers disconnect.
   */
  async onModuleDestroy(): Promise<void> {
    this.logger.log({ workers: this.workers.length }, 'Shutting down: jobs in flight stop at their next checkpoint and go back to the queue');
    this.stopping.abort();
    await Promise.all(this.workers.map((worker) => worker.close()));
  }

  private async process(queue: QueueName, worker: Worker, job: QueueJob, token: string | undefined): Promise<unknown> {
    const handler = this.registry.handlerFor(job.name);
    if (!handler) throw new UnrecoverableError(`No handler for job ${job.name}`);
    const leaseLost = new AbortController();
    const watch = setInterval(() => void this.checkLease(worker, job, token, leaseLost), LEASE_CHECK_MS);
    const context: JobContext = {
      jobId: job.id ?? '',
      progress: (value) => job.updateProgress(value),
      shutdown: this.stopping.signal,
      leaseLost: leaseLost.signal,
    };
    let result: JobRunResult | undefined;
    const started = performance.now();
    try {
      result = await handler.run(job.data as never, context);
    } catch (error) {
      if (isDatabaseUnavailable(error) && token) await this.waitOutOutage(job, token, error);
      throw error;
    } finally {
      clearInterval(watch);
      // an untyped failure (thrown, retried by the queue) counts as `error`
      this.metrics.jobRun(queue, result?.status ?? 'error', (performance.now() - started) / 1_000);
    }
    switch (result.status) {
      case 'superseded':
        // the entry belongs to another run now: leave it (and its key) alone
        this.logger.warn({ jobName: job.name, jobId: job.id }, 'Job lost its lease: this run stopped and left the job to the run that holds it');
        throw new WaitingError();
      case 'released':
        // the key stays: the worker that resumes the job needs it
        await job.moveToWait(token);
        this.logger.log({ jobName: job.name, jobId: job.id }, 'Job handed back to the queue at its checkpoint');
        throw new WaitingError();
      case 'deferred':
        // to the end of the line (delayed jobs rejoin the wait list at its tail; moveToWait would put it
        // at the head, where this worker would take it straight back); no attempt is used, the key stays
        await job.moveToDelayed(Date.now() + result.delayMs, token);
        throw new DelayedError();
      case 'failed':
        await eraseSealedKey(job);
        throw new UnrecoverableError(`${result.failure.code}: ${result.failure.message}`);
      default:
        await eraseSealedKey(job);
        return result;
    }
  }

  /** Aborts `leaseLost` once the job's lock in Redis is gone or another run's; an unreachable Redis proves nothing yet. */
  private async checkLease(worker: Worker, job: QueueJob, token: string | undefined, leaseLost: AbortController): Promise<void> {
    if (leaseLost.signal.aborted || !token) return;
    try {
      const client = await worker.backend.client;
      const holder = await client.get(worker.toKey(`${job.id}:lock`));
      if (holder !== token) {
        this.logger.warn({ jobName: job.name, jobId: job.id }, 'Job lock lost: no more provider calls from this run');
        leaseLost.abort();
      }
    } catch {
      // Redis is away: the row's fence still stops a stale commit
    }
  }

  /**
   * Re-queues a job whose database went away, without using an attempt, until the outage has
   * lasted `JOB_OUTAGE_PATIENCE_MS`; after that the outage fails the attempt like any other error.
   * @throws DelayedError when the job was re-queued (BullMQ's signal that the processor moved it)
   */
  private async waitOutOutage(job: QueueJob, token: string, cause: unknown): Promise<void> {
    const outageSince = job.data.outageSince ?? Date.now();
    if (Date.now() - outageSince > this.config.jobs.outagePatienceMs) return;
    try {
      await job.updateData({ ...job.data, outageSince });
      await job.moveToDelayed(Date.now() + OUTAGE_RETRY_MS, token);
    } catch {
      return; // Redis is away too: the attempt fails and the queue retries it
    }
    this.logger.warn({ jobName: job.name, jobId: job.id, err: cause }, 'Database unreachable: the job waits and resumes from its checkpoint');
    throw new DelayedError();
  }

  /** After a job's last attempt: its row is settled (or left to the reconciler when Postgres or Redis is away). */
  private async onFailed(job: QueueJob | undefined, error: Error): Promise<void> {
    if (!job?.id || !isUntypedFailure(error)) return;
    try {
      this.logger.error({ jobName: job.name, jobId: job.id, attempt: job.attemptsMade, err: error }, 'Job attempt failed');
      if ((await job.getState()) !== 'failed') return; // it will be retried
      const handler = this.registry.handlerFor(job.name);
      await eraseSealedKey(job);
      await handler?.settleLost(job.id, lostJobFailure('failed', job.failedReason, error.name));
    } catch (failure) {
      this.logger.error({ jobName: job.name, jobId: job.id, err: failure }, 'Could not settle a failed job now; the reconciler will');
    }
  }
}
