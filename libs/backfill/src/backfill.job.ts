import { Injectable } from '@nestjs/common';
import { RequestKeySealer } from '#libs/byok';
import type { RequestKey } from '#libs/common';
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

  async run({ backfillId, sealedKey }: JobOf<JobName.Backfill>, context: JobContext): Promise<JobRunResult> {
    let requestKey: RequestKey | undefined;
    try {
      requestKey = sealedKey ? this.sealer.open(sealedKey, backfillId) : undefined;
    } catch (error) {
      // a sealed key that does not open (tampered, or sealed to another job) will never open: typed, not retried
      return this.runner.refuse(backfillId, error);
    }
    return this.runner.run(backfillId, { requestKey, onProgress: (counters) => context.progress(counters) });
  }

  onAttemptsExhausted({ backfillId }: JobOf<JobName.Backfill>): Promise<void> {
    return this.runner.failUnexpectedly(backfillId);
  }
}
