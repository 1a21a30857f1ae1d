import { AppError, ErrorCode, NotFoundError } from '#libs/common';

export class RecordNotFoundError extends NotFoundError {
  constructor(externalId: string) {
    super(`No record with externalId ${JSON.stringify(externalId)} in this workspace`, ErrorCode.RecordNotFound);
  }
}

export class TombstoneNotFoundError extends NotFoundError {
  constructor(externalId: string) {
    super(`No deleted record with externalId ${JSON.stringify(externalId)} in this workspace`, ErrorCode.TombstoneNotFound);
  }
}

export class WorkspaceDeletionNotFoundError extends NotFoundError {
  constructor(deletionId: string) {
    super(`Workspace deletion ${deletionId} not found`, ErrorCode.WorkspaceDeletionNotFound);
  }
}

/**
 * A deletion refused (HTTP 409) while a backfill of the workspace is queued or running: a page it
 * extracted could otherwise write the deleted data back. `what`: what was to be deleted.
 */
export class DeletionBlockedByActiveJobError extends AppError {
  constructor(
    readonly activeBackfillIds: string[],
    what: 'record' | 'workspace',
  ) {
    super(
      ErrorCode.DeletionBlockedByActiveJob,
      what === 'record'
        ? `The workspace has an active backfill (job ${activeBackfillIds.join(', ')}); delete the record once it has ended, or cancel it first.`
        : `The workspace has an active backfill (job ${activeBackfillIds.join(', ')}); cancel it first, or delete with ?cancelActive=true, which cancels it.`,
    );
  }
}
