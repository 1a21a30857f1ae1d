import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { type JobName, type JobOf, jobOptions, QUEUE_OF, QueueName } from './jobs.js';

/** Where a job is in the queue, in the terms the reconciler and cancel need. */
export type QueueEntryState =
  /** waiting, delayed or prioritized: no worker has it */
  | 'pending'
  /** active, and a worker holds its lock */
  | 'running'
  /** active, but no lock: its worker died and the stalled check has not moved it yet */
  | 'stalled'
  | 'completed'
  | 'failed'
  /** not in the queue at all (never enqueued, removed, or Redis lost it) */
  | 'missing';

export interface QueueEntry {
  state: QueueEntryState;
  /** BullMQ's reason for a failed entry ("job stalled more than allowable limit", an error message). */
  failedReason?: string;
}

type AnyJob = Job<{ sealedKey?: unknown }>;

/** The one way jobs are enqueued and inspected, so names, queues, payload types and options always agree. */
@Injectable()
export class JobQueue {
  private readonly queues: Readonly<Record<QueueName, Queue>>;

  constructor(@InjectQueue(QueueName.Backfills) backfills: Queue, @InjectQueue(QueueName.AiJobs) aiJobs: Queue) {
    this.queues = { [QueueName.Backfills]: backfills, [QueueName.AiJobs]: aiJobs };
  }

  async enqueue<Name extends JobName>(name: Name, payload: JobOf<Name>): Promise<void> {
    await this.queueFor(name).add(name, payload, jobOptions(name, payload));
  }

  /** @throws whatever Redis throws when it cannot be reached */
  async entryOf(name: JobName, jobId: string): Promise<QueueEntry> {
    const queue = this.queueFor(name);
    const job = (await queue.getJob(jobId)) as AnyJob | undefined;
    if (!job) return { state: 'missing' };
    const state = await job.getState();
    switch (state) {
      case 'completed':
        return { state: 'completed' };
      case 'failed':
        return { state: 'failed', failedReason: job.failedReason };
      case 'active':
        return { state: (await this.isLocked(queue, jobId)) ? 'running' : 'stalled' };
      case 'unknown':
        return { state: 'missing' };
      default:
        return { state: 'pending' };
    }
  }

  /**
   * Takes a job that no worker is running out of the queue (its sealed key with it): true when it
   * is gone or was never there, false when a worker holds it (it must be stopped through its row).
   */
  async removeUnlessRunning(name: JobName, jobId: string): Promise<boolean> {
    const queue = this.queueFor(name);
    const job = (await queue.getJob(jobId)) as AnyJob | undefined;
    if (!job) return true;
    if (await this.isLocked(queue, jobId)) return false;
    try {
      await job.remove();
      return true;
    } catch {
      // a worker took it between the two calls: it holds the lock now
      return false;
    }
  }

  /** Rewrites a finished or lost job's payload without its sealed request key; nothing when there is none. */
  async eraseSealedKey(name: JobName, jobId: string): Promise<void> {
    const job = (await this.queueFor(name).getJob(jobId)) as AnyJob | undefined;
    if (job) await eraseSealedKey(job);
  }

  private async isLocked(queue: Queue, jobId: string): Promise<boolean> {
    const client = await queue.backend.client;
    return (await client.get(queue.toKey(`${jobId}:lock`))) !== null;
  }

  private queueFor(name: JobName): Queue {
    return this.queues[QUEUE_OF[name]];
  }
}

/** Once a job's run has ended, its sealed request key leaves Redis: the payload is rewritten without it. */
export async function eraseSealedKey(job: AnyJob): Promise<void> {
  if (!job.data.sealedKey) return;
  const { sealedKey: _erased, ...rest } = job.data;
  await job.updateData(rest);
}
