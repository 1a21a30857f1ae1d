import { DiscoveryService } from '@nestjs/core';
import type { JobName, JobOf } from './jobs.js';

/** What a handler may do with the queue entry it runs: report progress (stored in BullMQ's job). */
export interface JobContext {
  /** The queue job's id (the job's row id). */
  readonly jobId: string;
  progress(value: object): Promise<void>;
}

/** How a run ended. A `failed` one carries the typed failure that is stored on the job's row. */
export type JobRunResult = { status: 'succeeded' | 'cancelled' | 'skipped' } | { status: 'failed'; failure: { code: string; message: string } };

/**
 * Runs one kind of job. Exactly one provider per JobName carries `@HandlesJob(name)`: the worker
 * refuses to start otherwise (JobHandlerRegistry).
 */
export interface JobHandler<Name extends JobName = JobName> {
  /**
   * Runs the job. A typed failure is returned (never retried); a thrown error is untyped and
   * retried by the queue from the job's checkpoint.
   */
  run(payload: JobOf<Name>, context: JobContext): Promise<JobRunResult>;
  /** After the last attempt failed on an untyped error: settles the job's row. */
  onAttemptsExhausted?(payload: JobOf<Name>): Promise<void>;
}

/** Marks the provider that handles a JobName (immich's `@OnJob` pattern, on a class). */
export const HandlesJob = DiscoveryService.createDecorator<JobName>();
