import { Injectable } from '@nestjs/common';
import { RequestKeySealer } from '#libs/byok';
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

  run({ aiJobId, sealedKey }: JobOf<JobName.AiExtract>): Promise<JobRunResult> {
    return this.runner.run(aiJobId, sealedKey ? this.sealer.open(sealedKey, aiJobId) : undefined);
  }
}
