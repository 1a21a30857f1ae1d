import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { Metrics, type QueueDepth } from '#libs/metrics';
import { type JobName, type JobOf, jobOptions, QUEUE_OF, QueueName } from './jobs.js';
import { withinQueueDeadline } from './queue-unavailable.js';

/** How long (ms) a queue command may take before the caller is told the queue is unavailable. */
const QUEUE_DEADLINE_MS = 1_500;

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

/**
 * The one way jobs are enqueued and inspected, so names, queues, payload types and options always
 * agree. Every command answers within QUEUE_DEADLINE_MS: while Redis is away it fails with
 * QueueUnavailableError rather than waiting for Redis to return.
 */
@Injectable()
export class JobQueue {
  private readonly logger = new Logger(JobQueue.name);
  private readonly queues: Readonly<Record<QueueName, Queue>>;
  private reportedOutage = false;

  constructor(
    @InjectQueue(QueueName.Backfills) backfills: Queue,
    @InjectQueue(QueueName.AiJobs) aiJobs: Queue,
    @InjectQueue(QueueName.Deletions) deletions: Queue,
    @InjectQueue(QueueName.Webhooks) webhooks: Queue,
    metrics: Metrics,
  ) {
    this.queues = { [QueueName.Backfills]: backfills, [QueueName.AiJobs]: aiJobs, [QueueName.Deletions]: deletions, [QueueName.Webhooks]: webhooks };
    metrics.readQueueDepthWith(() => this.depth());
    for (const queue of [backfills, aiJobs, deletions, webhooks]) {
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
   * The payloads of the `limit` jobs that have waited longest for a worker (not the delayed ones),
   * oldest first, with when each was queued (ms since the epoch).
   * @throws QueueUnavailableError
   */
  async waiting<Name extends JobName>(name: Name, limit: number): Promise<{ payload: JobOf<Name>; queuedAt: number }[]> {
    const jobs = await withinQueueDeadline(this.queueFor(name).getWaiting(0, limit - 1), QUEUE_DEADLINE_MS);
    return jobs
      .filter((job): job is Job => job !== undefined && job !== null)
      .map((job) => ({ payload: job.data as JobOf<Name>, queuedAt: job.timestamp }));
  }

  /** @throws QueueUnavailableError */
  entryOf(name: JobName, jobId: string): Promise<QueueEntry> {
    return withinQueueDeadline(this.readEntry(this.queueFor(name), jobId), QUEUE_DEADLINE_MS);
  }

  /**
   * Takes a job that no worker is running out of the queue (its sealed key with it): true when it
   * is gone or was never there, false when a worker holds it (it must be stopped through its row).
   * @throws QueueUnavailableError
   */
  removeUnlessRunning(name: JobName, jobId: string): Promise<boolean> {
    const queue = this.queueFor(name);
    const remove = async (): Promise<boolean> => {
      const job = (await queue.getJob(jobId)) as AnyJob | undefined;
      if (!job) return true;
      if (await isLocked(queue, jobId)) return false;
      try {
        await job.remove();
        return true;
      } catch {
        // a worker took it between the two calls: it holds the lock now
        return false;
      }
    };
    return withinQueueDeadline(remove(), QUEUE_DEADLINE_MS);
  }

  /**
   * Rewrites a finished or lost job's payload without its sealed request key; nothing when there is none.
   * @throws QueueUnavailableError
   */
  async eraseSealedKey(name: JobName, jobId: string): Promise<void> {
    const queue = this.queueFor(name);
    await withinQueueDeadline(
      (async () => {
        const job = (await queue.getJob(jobId)) as AnyJob | undefined;
        if (job) await eraseSealedKey(job);
      })(),
      QUEUE_DEADLINE_MS,
    );
  }

  /**
   * Jobs per queue and state, for the metrics: waiting (prioritized included), active, delayed, failed.
   * @throws QueueUnavailableError
   */
  async depth(): Promise<QueueDepth[]> {
    const perQueue = await withinQueueDeadline(
      Promise.all(
        Object.entries(this.queues).map(async ([queue, q]) => ({
          queue,
          counts: await q.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed'),
        })),
      ),
      QUEUE_DEADLINE_MS,
    );
    return perQueue.flatMap(({ queue, counts }) => [
      { queue, state: 'waiting', jobs: (counts.waiting ?? 0) + (counts.prioritized ?? 0) },
      { queue, state: 'active', jobs: counts.active ?? 0 },
      { queue, state: 'delayed', jobs: counts.delayed ?? 0 },
      { queue, state: 'failed', jobs: counts.failed ?? 0 },
    ]);
  }

  private async readEntry(queue: Queue, jobId: string): Promise<QueueEntry> {
    const job = (await queue.getJob(jobId)) as AnyJob | undefined;
    if (!job) return { state: 'missing' };
    const state = await job.getState();
    switch (state) {
      case 'completed':
        return { state: 'completed' };
      case 'failed':
        return { state: 'failed', failedReason: job.failedReason };
      case 'active':
        return { state: (await isLocked(queue, jobId)) ? 'running' : 'stalled' };
      case 'unknown':
        return { state: 'missing' };
      default:
        return { state: 'pending' };
    }
  }

  private queueFor(name: JobName): Queue {
    return this.queues[QUEUE_OF[name]];
  }
}

async function isLocked(queue: Queue, jobId: string): Promise<boolean> {
  const client = await queue.backend.client;
  return (await client.get(queue.toKey(`${jobId}:lock`))) !== null;
}

/** Once a job's run has ended, its sealed request key leaves Redis: the payload is rewritten without it. */
export async function eraseSealedKey(job: AnyJob): Promise<void> {
  if (!job.data.sealedKey) return;
  const { sealedKey: _erased, ...rest } = job.data;
  await job.updateData(rest);
}
