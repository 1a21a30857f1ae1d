import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { type JobName, type JobOf, jobOptions, QUEUE_OF, QueueName } from './jobs.js';

/** The one way jobs are enqueued, so names, queues, payload types and options always agree. */
@Injectable()
export class JobQueue {
  private readonly queues: Readonly<Record<QueueName, Queue>>;

  constructor(@InjectQueue(QueueName.Backfills) backfills: Queue, @InjectQueue(QueueName.AiJobs) aiJobs: Queue) {
    this.queues = { [QueueName.Backfills]: backfills, [QueueName.AiJobs]: aiJobs };
  }

  async enqueue<Name extends JobName>(name: Name, payload: JobOf<Name>): Promise<void> {
    await this.queueFor(name).add(name, payload, jobOptions(name, payload));
  }

  /** Removes a job that has not started; a running one is stopped through its row instead. */
  async removeIfWaiting(name: JobName, jobId: string): Promise<void> {
    const job = await this.queueFor(name).getJob(jobId);
    if (job && ((await job.isWaiting()) || (await job.isDelayed()))) await job.remove().catch(() => undefined);
  }

  private queueFor(name: JobName): Queue {
    return this.queues[QUEUE_OF[name]];
  }
}
