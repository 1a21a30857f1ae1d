import { OnWorkerEvent, WorkerHost } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { type Job, UnrecoverableError } from 'bullmq';
import { AiJobRunner, type AiJobRunResult } from '#libs/ai-jobs';
import { RequestKeySealer } from '#libs/byok';
import { JobName, type JobOf } from '#libs/queue';
import { endJob, eraseSealedKey, isUntypedFailure, openSealedKey } from './sealed-key.js';

type AiExtractJob = Job<JobOf<JobName.AiExtract>>;

/** Runs AI jobs. Failures are stored on the row; the queue entry and any sealed key go when the job ends. */
@Injectable()
export class AiJobsProcessor extends WorkerHost {
  private readonly logger = new Logger(AiJobsProcessor.name);

  constructor(
    private readonly runner: AiJobRunner,
    private readonly sealer: RequestKeySealer,
  ) {
    super();
  }

  async process(job: AiExtractJob): Promise<AiJobRunResult> {
    if (job.name !== JobName.AiExtract) throw new UnrecoverableError(`No handler for job ${job.name}`);
    return endJob(job, await this.runner.run(job.data.aiJobId, openSealedKey(this.sealer, job, job.data.aiJobId)));
  }

  @OnWorkerEvent('failed')
  async onFailed(job: AiExtractJob | undefined, error: Error): Promise<void> {
    if (!job || !isUntypedFailure(error)) return;
    this.logger.error({ aiJobId: job.data.aiJobId, attempt: job.attemptsMade, err: error }, 'AI job attempt failed');
    if (job.attemptsMade >= (job.opts.attempts ?? 1)) await eraseSealedKey(job).catch(() => undefined);
  }
}
