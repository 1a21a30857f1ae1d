import { DiscoveryService } from '@nestjs/core';
import type { JobName, JobOf } from './jobs.js';

/** What a handler may do with the queue entry it runs, and what it must watch for while it runs. */
export interface JobContext {
  /** The queue job's id (the job's row id). */
  readonly jobId: string;
  /** Stores progress in BullMQ's job (for dashboards of the queue; the row is the record). */
  progress(value: object): Promise<void>;
  /**
   * Aborted when the worker is shutting down (SIGTERM): finish and commit the work in flight,
   * start nothing new, and return `released` so another worker resumes from the checkpoint.
   */
  readonly shutdown: AbortSignal;
  /**
   * Aborted when this run no longer holds the job (its queue lock is gone: the process was paused
   * past the lock, or Redis lost the job): stop at once, commit nothing, return `superseded`.
   */
  readonly leaseLost: AbortSignal;
}

/** A typed failure as it is stored on the job's row: a stable code and a message for the tenant. */
export interface JobFailure {
  code: string;
  message: string;
}

/** A job row that has not reached a terminal state. */
export interface UnfinishedJob {
  id: string;
  updatedAt: Date;
}

/**
 * How a run ended. `failed` carries the typed failure stored on the row; `released`: the run
 * committed its last page and handed the job back to the queue (shutdown); `superseded`: another
 * run holds the job now and this one changed nothing more; `deferred`: the job gives its worker slot
 * to others and comes back to the end of the queue after `delayMs`, from its checkpoint, without
 * using an attempt (its tenant is at its cap, or yields its fair share).
 */
export type JobRunResult =
  | { status: 'succeeded' | 'cancelled' | 'skipped' | 'released' | 'superseded' }
  | { status: 'failed'; failure: JobFailure }
  | { status: 'deferred'; delayMs: number };

/**
 * Runs one kind of job and settles the ones the queue lost. Exactly one provider per JobName
 * carries `@HandlesJob(name)`: the worker refuses to start otherwise (JobHandlerRegistry).
 */
export interface JobHandler<Name extends JobName = JobName> {
  /**
   * Runs the job. A typed failure is returned (never retried); a thrown error is untyped and
   * retried by the queue from the job's checkpoint.
   */
  run(payload: JobOf<Name>, context: JobContext): Promise<JobRunResult>;
  /** This kind's rows that are not terminal, with when each last changed. */
  unfinished(): Promise<UnfinishedJob[]>;
  /**
   * Ends a job whose queue entry failed, completed or vanished while its row was not terminal
   * (the reconciler, or the queue's failure handler after the last attempt). `failure.message`
   * says what happened in plain words; the handler may add what the tenant can do. False when
   * the row had already ended.
   */
  settleLost(jobId: string, failure: JobFailure): Promise<boolean>;
}

/** Marks the provider that handles a JobName (immich's `@OnJob` pattern, on a class). */
export const HandlesJob = DiscoveryService.createDecorator<JobName>();
