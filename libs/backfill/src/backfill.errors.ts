import { AppError, ErrorCode, NotFoundError } from '#libs/common';

export class BackfillNotFoundError extends NotFoundError {
  constructor(backfillId: string) {
    super(`Backfill ${backfillId} not found`, ErrorCode.BackfillNotFound);
  }
}

export class BackfillAlreadyActiveError extends AppError {
  constructor(readonly activeBackfillId: string) {
    super(ErrorCode.BackfillAlreadyActive, `A backfill is already active for this workspace (job ${activeBackfillId})`);
  }
}

export class BackfillNotCancellableError extends AppError {
  constructor(status: string) {
    super(ErrorCode.BackfillNotCancellable, `The backfill has already ended (${status})`);
  }
}

export class BackfillNothingToRetryError extends AppError {
  constructor(backfillId: string) {
    super(ErrorCode.BackfillNothingToRetry, `Backfill ${backfillId} has no failed records to retry`);
  }
}

/**
 * The workspace moved to another tenant after the backfill was started: the starter's key may not
 * touch the new owner's data. `retry`: refused when asked to retry such a backfill (HTTP 409).
 */
export class WorkspaceTransferredError extends AppError {
  constructor(workspaceId: string, retry = false) {
    super(
      ErrorCode.WorkspaceTransferred,
      retry
        ? `Workspace ${workspaceId} belongs to another tenant now; this backfill's records can no longer be retried by its old owner.`
        : `Workspace ${workspaceId} moved to another tenant after this backfill was started; it stopped without processing more records with this job's key. Its new owner can start a backfill of their own.`,
    );
  }
}

/** A workspace with a queued or running job cannot change owner unless those jobs are cancelled first. */
export class TransferBlockedByActiveJobError extends AppError {
  constructor(readonly activeBackfillIds: string[]) {
    super(
      ErrorCode.TransferBlockedByActiveJob,
      `The workspace has an active backfill (job ${activeBackfillIds.join(', ')}); cancel it first, or transfer with ?cancelActive=true, which cancels it.`,
    );
  }
}
