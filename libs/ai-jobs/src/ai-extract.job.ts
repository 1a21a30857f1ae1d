import { Injectable } from '@nestjs/common';
import { HandlesJob, type JobFailure, type JobHandler, JobName, type JobOf, type JobRunResult, type UnfinishedJob } from '#libs/queue';
import { AiJobRunner } from './ai-job-runner.service.js';

/** The extract job: runs the AI job (its sealed request key, if any, is opened by the runner for the row's tenant). */
@Injectable()
@HandlesJob(JobName.AiExtract)
export class AiExtractJob implements JobHandler<JobName.AiExtract> {
  constructor(private readonly runner: AiJobRunner) {}

  run({ aiJobId, sealedKey }: JobOf<JobName.AiExtract>): Promise<JobRunResult> {
    return this.runner.run(aiJobId, sealedKey);
  }

  unfinished(): Promise<UnfinishedJob[]> {
    return this.runner.unfinished();
  }

  settleLost(aiJobId: string, failure: JobFailure): Promise<boolean> {
    return this.runner.settleLost(aiJobId, failure);
  }
}
