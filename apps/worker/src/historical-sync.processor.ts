import { OnWorkerEvent, WorkerHost } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { type Job, UnrecoverableError } from 'bullmq';
import { RequestKeySealer } from '#libs/byok';
import { JobName, type JobOf } from '#libs/queue';
import { type BackfillRunResult, HistoricalSyncService } from '#libs/sync';
import { endJob, eraseSealedKey, isUntypedFailure, openSealedKey } from './sealed-key.js';

type BackfillJob = Job<JobOf<JobName.Backfill>>;

/**
 * Runs backfills from the historical-sync queue. Typed failures (no key, refused key, exhausted
 * retries) end the job at once; anything else is retried by BullMQ and resumes from the checkpoint.
 * Registered with its worker options in WorkerModule, where the configuration is known.
 */
@Injectable()
export class HistoricalSyncProcessor extends WorkerHost {
  private readonly logger = new Logger(HistoricalSyncProcessor.name);

  constructor(
    private readonly sync: HistoricalSyncService,
    private readonly sealer: RequestKeySealer,
  ) {
    super();
  }

  async process(job: BackfillJob): Promise<BackfillRunResult> {
    if (job.name !== JobName.Backfill) throw new UnrecoverableError(`No handler for job ${job.name}`);
    const { syncJobId } = job.data;
    const result = await this.sync.run(syncJobId, {
      requestKey: openSealedKey(this.sealer, job, syncJobId),
      onProgress: (counters) => job.updateProgress(counters),
    });
    return endJob(job, result);
  }

  @OnWorkerEvent('failed')
  async onFailed(job: BackfillJob | undefined, error: Error): Promise<void> {
    if (!job || !isUntypedFailure(error)) return;
    const attempts = job.opts.attempts ?? 1;
    this.logger.error({ jobId: job.data.syncJobId, attempt: job.attemptsMade, attempts, err: error }, 'Backfill attempt failed');
    if (job.attemptsMade >= attempts) {
      await this.sync.failUnexpectedly(job.data.syncJobId);
      await eraseSealedKey(job);
    }
  }
}
