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

/**
 * A request refused because its caller is over a rate limit (HTTP 429, RFC 6585 section 4). The API
 * answers it with `Retry-After: <retryAfterS>` (seconds, RFC 9110 section 10.2.3).
 */
export class TooManyRequestsError extends AppError {
  /** Whole seconds (at least 1) until the caller may try again. */
  readonly retryAfterS: number;

  constructor(code: ErrorCode, message: string, retryAfterMs: number) {
    super(code, message);
    this.retryAfterS = Math.max(1, Math.ceil(retryAfterMs / 1000));
  }
}

export function assertUnreachable(value: never): never {
  throw new Error(`Unhandled case: ${String(value)}`);
}
