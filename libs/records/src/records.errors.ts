import { AppError, ErrorCode, NotFoundError, ValidationFailedError } from '#libs/common';

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

/** An upload passed one of the ingest caps while it was read (413 RECORDS_LIMIT); the message names the cap. */
export class RecordsLimitError extends AppError {
  constructor(message: string) {
    super(ErrorCode.RecordsLimit, message);
  }
}

/** An upload's body, as sent or once decoded, is larger than its cap (413 PAYLOAD_TOO_LARGE, as on every route). */
export class UploadTooLargeError extends AppError {
  constructor(message: string) {
    super(ErrorCode.PayloadTooLarge, message);
  }
}

/** The workspace an upload was for is unknown, or was deleted while the upload was read (404, as any route on it). */
export class WorkspaceGoneError extends NotFoundError {
  constructor(workspaceId: string) {
    super(`Workspace ${workspaceId} not found`, ErrorCode.WorkspaceNotFound);
  }
}

/** The client stopped sending before its upload was complete (408 UPLOAD_STALLED, UPLOAD_IDLE_TIMEOUT_MS). */
export class UploadStalledError extends AppError {
  constructor(message: string) {
    super(ErrorCode.UploadStalled, message);
  }
}
