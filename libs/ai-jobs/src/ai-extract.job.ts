import { Injectable } from '@nestjs/common';
import { RequestKeySealer } from '#libs/byok';
import type { RequestKey } from '#libs/common';
import { HandlesJob, type JobHandler, JobName, type JobOf, type JobRunResult } from '#libs/queue';
import { AiJobRunner } from './ai-job-runner.service.js';

/** The extract job: opens the request key sealed to it, if any, and runs the AI job. */
@Injectable()
@HandlesJob(JobName.AiExtract)
export class AiExtractJob implements JobHandler<JobName.AiExtract> {
  constructor(
    private readonly runner: AiJobRunner,
    private readonly sealer: RequestKeySealer,
  ) {}

  async run({ aiJobId, sealedKey }: JobOf<JobName.AiExtract>): Promise<JobRunResult> {
    let requestKey: RequestKey | undefined;
    try {
      requestKey = sealedKey ? this.sealer.open(sealedKey, aiJobId) : undefined;
    } catch (error) {
      // a sealed key that does not open (tampered, or sealed to another job) will never open: typed, not retried
      return this.runner.refuse(aiJobId, error);
    }
    return this.runner.run(aiJobId, requestKey);
  }

  onAttemptsExhausted({ aiJobId }: JobOf<JobName.AiExtract>): Promise<void> {
    return this.runner.failUnexpectedly(aiJobId);
  }
}
