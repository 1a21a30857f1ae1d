import { Injectable } from '@nestjs/common';
import {
  HandlesJob,
  type JobContext,
  type JobFailure,
  type JobHandler,
  JobName,
  type JobOf,
  type JobRunResult,
  type UnfinishedJob,
} from '#libs/queue';
import { BackfillRunner } from './backfill-runner.service.js';
import { BackfillRepository } from './backfill.repository.js';

/** The backfill job: runs the backfill (its sealed request key, if any, is opened by the runner for the row's tenant). */
@Injectable()
@HandlesJob(JobName.Backfill)
export class BackfillJob implements JobHandler<JobName.Backfill> {
  constructor(
    private readonly runner: BackfillRunner,
    private readonly backfills: BackfillRepository,
  ) {}

  run({ backfillId, sealedKey }: JobOf<JobName.Backfill>, context: JobContext): Promise<JobRunResult> {
    return this.runner.run(backfillId, { sealedKey, context });
  }

  unfinished(): Promise<UnfinishedJob[]> {
    return this.backfills.unfinished();
  }

  settleLost(backfillId: string, failure: JobFailure): Promise<boolean> {
    return this.runner.settleLost(backfillId, failure);
  }
}
