import { describe, expect, it } from '@jest/globals';
import { ErrorCode } from '#libs/common';
import { lostJobFailure } from './lost-job.js';

describe(lostJobFailure.name, () => {
  it('calls a queue entry failed for stalling WORKER_LOST, in words a tenant understands', () => {
    const failure = lostJobFailure('failed', 'job stalled more than allowable limit');
    expect(failure.code).toBe(ErrorCode.WorkerLost);
    expect(failure.message).toMatch(/killed or crashed/);
    expect(failure.message).not.toMatch(/stalled more than allowable/);
  });

  it('calls an entry that ran out of attempts INTERNAL_ERROR, naming the error class but never its message', () => {
    const failure = lostJobFailure('failed', 'connect ECONNREFUSED 10.0.0.7:5432 sk-secret-looking', 'PrismaClientKnownRequestError');
    expect(failure).toEqual({
      code: ErrorCode.Internal,
      message: 'The job stopped on an internal error (PrismaClientKnownRequestError) at every attempt the queue allows.',
    });
  });

  it('calls a missing or completed entry WORKER_LOST', () => {
    expect(lostJobFailure('missing').code).toBe(ErrorCode.WorkerLost);
    expect(lostJobFailure('missing').message).toMatch(/no longer has this job/);
    expect(lostJobFailure('completed').code).toBe(ErrorCode.WorkerLost);
  });
});
