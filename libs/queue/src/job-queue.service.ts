import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { JobName, type JobOf, jobOptions, QueueName } from './jobs.js';

/** The one way jobs are enqueued, so names, payload types and options always agree. */
@Injectable()
export class JobQueue {
  constructor(
    @InjectQueue(QueueName.Backfills) private readonly backfills: Queue,
    @InjectQueue(QueueName.AiJobs) private readonly aiJobs: Queue,
  ) {}

  async enqueue<Name extends JobName>(name: Name, payload: JobOf<Name>): Promise<void> {
    await this.queueFor(name).add(name, payload, jobOptions(name, payload));
  }

  /** Removes a job that has not started; a running one is stopped through its row instead. */
  async removeIfWaiting(name: JobName, jobId: string): Promise<void> {
    const job = await this.queueFor(name).getJob(jobId);
    if (job && ((await job.isWaiting()) || (await job.isDelayed()))) await job.remove().catch(() => undefined);
  }

  private queueFor(name: JobName): Queue {
    switch (name) {
      case JobName.Backfill:
        return this.backfills;
      case JobName.AiExtract:
        return this.aiJobs;
    }
  }
}
