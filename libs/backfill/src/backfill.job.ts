import { Injectable } from '@nestjs/common';
import { RequestKeySealer } from '#libs/byok';
import { HandlesJob, type JobContext, type JobHandler, JobName, type JobOf, type JobRunResult } from '#libs/queue';
import { BackfillRunner } from './backfill-runner.service.js';

/** The backfill job: opens the request key sealed to it, if any, and runs the backfill with progress reported to the queue. */
@Injectable()
@HandlesJob(JobName.Backfill)
export class BackfillJob implements JobHandler<JobName.Backfill> {
  constructor(
    private readonly runner: BackfillRunner,
    private readonly sealer: RequestKeySealer,
  ) {}

  run({ backfillId, sealedKey }: JobOf<JobName.Backfill>, context: JobContext): Promise<JobRunResult> {
    return this.runner.run(backfillId, {
      requestKey: sealedKey ? this.sealer.open(sealedKey, backfillId) : undefined,
      onProgress: (counters) => context.progress(counters),
    });
  }

  onAttemptsExhausted({ backfillId }: JobOf<JobName.Backfill>): Promise<void> {
    return this.runner.failUnexpectedly(backfillId);
  }
}
