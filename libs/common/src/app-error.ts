import { ErrorCode } from './error-code.js';

/**
 * Base of every typed error a lib throws. The message is safe to show to the caller and to log:
 * it must never contain key material (callers pass last4 at most).
 */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationFailedError extends AppError {
  constructor(message: string, code: ErrorCode = ErrorCode.ValidationFailed) {
    super(code, message);
  }
}

export class NotFoundError extends AppError {
  constructor(message: string, code: ErrorCode = ErrorCode.NotFound) {
    super(code, message);
  }
}

export function assertUnreachable(value: never): never {
  throw new Error(`Unhandled case: ${String(value)}`);
}
