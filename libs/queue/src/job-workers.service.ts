import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { type Job, UnrecoverableError, Worker, type WorkerOptions } from 'bullmq';
import { AppConfig } from '#libs/config';
import { JobHandlerRegistry } from './job-handler.registry.js';
import { QueueName } from './jobs.js';
import { bullOptions } from './queue.module.js';

type QueueJob = Job<{ sealedKey?: unknown }>;

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
      return { concurrency: config.jobs.aiWorkerConcurrency, lockDuration: config.jobs.lockDurationMs };
  }
}

/** A job that failed on an untyped error, which BullMQ may retry (typed failures end as UnrecoverableError). */
function isUntypedFailure(error: Error): boolean {
  return !(error instanceof UnrecoverableError) && error.name !== 'UnrecoverableError';
}

/**
 * One BullMQ worker per queue, started once every handler is registered. Each job goes to the
 * handler of its name; when its run ends, any sealed request key leaves its Redis data, and a typed
 * failure becomes an UnrecoverableError so BullMQ records it without retrying.
 */
@Injectable()
export class JobWorkers implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(JobWorkers.name);
  private readonly workers: Worker[] = [];

  constructor(
    private readonly registry: JobHandlerRegistry,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    for (const queue of Object.values(QueueName)) {
      const worker = new Worker(queue, (job: QueueJob) => this.process(job), {
        ...bullOptions(this.config),
        ...workerOptionsFor(queue, this.config),
      });
      worker.on('failed', (job, error) => void this.onFailed(job, error));
      worker.on('error', (error) => this.logger.error({ queue, err: error }, 'Queue worker error'));
      this.workers.push(worker);
    }
  }

  /** Lets the jobs in flight finish their run, then disconnects. */
  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close()));
  }

  private async process(job: QueueJob): Promise<unknown> {
    const handler = this.registry.handlerFor(job.name);
    if (!handler) throw new UnrecoverableError(`No handler for job ${job.name}`);
    const result = await handler.run(job.data as never, { jobId: job.id ?? '', progress: (value) => job.updateProgress(value) });
    await eraseSealedKey(job);
    if (result.status === 'failed') throw new UnrecoverableError(`${result.failure.code}: ${result.failure.message}`);
    return result;
  }

  private async onFailed(job: QueueJob | undefined, error: Error): Promise<void> {
    if (!job || !isUntypedFailure(error)) return;
    const attempts = job.opts.attempts ?? 1;
    this.logger.error({ jobName: job.name, jobId: job.id, attempt: job.attemptsMade, attempts, err: error }, 'Job attempt failed');
    if (job.attemptsMade < attempts) return;
    try {
      await this.registry.handlerFor(job.name)?.onAttemptsExhausted?.(job.data as never);
      await eraseSealedKey(job);
    } catch (failure) {
      this.logger.error({ jobName: job.name, jobId: job.id, err: failure }, 'Could not settle a job after its last attempt');
    }
  }
}

/** Once a job's run has ended, its sealed request key leaves Redis: the payload is rewritten without it. */
async function eraseSealedKey(job: QueueJob): Promise<void> {
  if (!job.data.sealedKey) return;
  const { sealedKey: _erased, ...rest } = job.data;
  await job.updateData(rest);
}
