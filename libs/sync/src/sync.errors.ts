import { AppError, ErrorCode, NotFoundError, ValidationFailedError } from '#libs/common';

export class SyncJobNotFoundError extends NotFoundError {
  constructor(jobId: string) {
    super(`Backfill ${jobId} not found`, ErrorCode.SyncJobNotFound);
  }
}

export class BackfillAlreadyActiveError extends AppError {
  constructor(readonly activeJobId: string) {
    super(ErrorCode.BackfillAlreadyActive, `A backfill is already active for this workspace (job ${activeJobId})`);
  }
}

export class BackfillNotCancellableError extends AppError {
  constructor(status: string) {
    super(ErrorCode.BackfillNotCancellable, `The backfill has already ended (${status})`);
  }
}

/** Pre-flight refusals are typed like provider errors: they fail the job at once, without retry. */
export class PlanNotEligibleError extends AppError {
  constructor(subdomain: string, plan: string) {
    super(ErrorCode.PlanNotEligible, `Skipping backfill: tenant ${subdomain} is on the ${plan} plan, which has no knowledge-graph extraction. Upgrade to team or enterprise.`);
  }
}

export class InvalidMboxError extends ValidationFailedError {
  constructor(message: string) {
    super(message, ErrorCode.InvalidMbox);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(message: string) {
    super(ErrorCode.UnsupportedMediaType, message);
  }
}
