import { ErrorCode } from '#libs/common';
import type { JobFailure } from './job-handler.js';
import type { QueueEntryState } from './job-queue.service.js';

// BullMQ's own words for a job whose worker stopped renewing its lock too many times
const STALLED = /stalled more than allowable limit/i;

/**
 * Why a job's queue entry ended while its row did not, in plain words a tenant can act on.
 * `state`: where the entry is; `failedReason`: BullMQ's reason when it failed; `errorName`: the
 * class of the untyped error of its last attempt, if that is how it failed (never its message,
 * which may quote anything).
 */
export function lostJobFailure(state: QueueEntryState, failedReason?: string, errorName?: string): JobFailure {
  if (state === 'failed' && failedReason !== undefined && STALLED.test(failedReason)) {
    return {
      code: ErrorCode.WorkerLost,
      message: 'The worker running this job stopped (it was killed or crashed) more often than the queue allows.',
    };
  }
  if (state === 'failed') {
    return {
      code: ErrorCode.Internal,
      message: `The job stopped on an internal error${errorName ? ` (${errorName})` : ''} at every attempt the queue allows.`,
    };
  }
  if (state === 'missing') {
    return {
      code: ErrorCode.WorkerLost,
      message: 'The queue no longer has this job (Redis lost it, or it was never queued), so no worker will run it.',
    };
  }
  return { code: ErrorCode.WorkerLost, message: 'The queue ended this job without its worker finishing it.' };
}
