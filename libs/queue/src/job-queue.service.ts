import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { type JobName, type JobOf, jobOptions, QUEUE_OF, QueueName } from './jobs.js';
import { withinQueueDeadline } from './queue-unavailable.js';

/** How long (ms) a queue command may take before the caller is told the queue is unavailable. */
const QUEUE_DEADLINE_MS = 1_500;

/**
 * The one way jobs are enqueued, so names, queues, payload types and options always agree. Every
 * command answers within QUEUE_DEADLINE_MS: while Redis is away it fails with QueueUnavailableError
 * rather than waiting for Redis to return.
 */
@Injectable()
export class JobQueue {
  private readonly logger = new Logger(JobQueue.name);
  private readonly queues: Readonly<Record<QueueName, Queue>>;
  private reportedOutage = false;

  constructor(@InjectQueue(QueueName.Backfills) backfills: Queue, @InjectQueue(QueueName.AiJobs) aiJobs: Queue) {
    this.queues = { [QueueName.Backfills]: backfills, [QueueName.AiJobs]: aiJobs };
    for (const queue of [backfills, aiJobs]) {
      // ioredis reports every failed reconnect; one line per outage is enough
      queue.on('error', (error: Error) => {
        if (this.reportedOutage) return;
        this.reportedOutage = true;
        this.logger.warn(`Queue connection failed (${error.message}); commands answer QUEUE_UNAVAILABLE until Redis is back`);
      });
    }
  }

  /**
   * Adds a job (id and options from jobOptions). An add that completes after the deadline is removed
   * again: the caller was told it failed and has undone its own side.
   * @throws QueueUnavailableError
   */
  async enqueue<Name extends JobName>(name: Name, payload: JobOf<Name>): Promise<void> {
    await withinQueueDeadline(this.queueFor(name).add(name, payload, jobOptions(name, payload)), QUEUE_DEADLINE_MS, (job) => {
      void job.remove().catch(() => undefined);
    });
    this.reportedOutage = false;
  }

  /**
   * Removes a job that has not started; a running one is stopped through its row instead.
   * @throws QueueUnavailableError
   */
  async removeIfWaiting(name: JobName, jobId: string): Promise<void> {
    const queue = this.queueFor(name);
    await withinQueueDeadline(
      (async () => {
        const job = await queue.getJob(jobId);
        if (job && ((await job.isWaiting()) || (await job.isDelayed()))) await job.remove().catch(() => undefined);
      })(),
      QUEUE_DEADLINE_MS,
    );
  }

  private queueFor(name: JobName): Queue {
    return this.queues[QUEUE_OF[name]];
  }
}
