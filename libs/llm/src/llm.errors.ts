import { AppError, ErrorCode, type ProviderId } from '#libs/common';

/**
 * Every provider failure is one of these. `retryable` decides whether a job backs off and tries
 * again or ends at once; an authentication failure never falls back to another key or provider.
 */
export class LlmError extends AppError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly provider: ProviderId,
    readonly retryable: boolean,
  ) {
    super(code, message);
  }
}

/** A provider was handed an empty key: refused before anything is sent. */
export class EmptyApiKeyError extends LlmError {
  constructor(provider: ProviderId, message: string) {
    super(ErrorCode.NoApiKey, message, provider, false);
  }
}

export class AuthenticationError extends LlmError {
  constructor(provider: ProviderId, message: string) {
    super(ErrorCode.InvalidApiKey, message, provider, false);
  }
}

export class RateLimitedError extends LlmError {
  constructor(
    provider: ProviderId,
    message: string,
    /** What the provider asked us to wait, when it said. */
    readonly retryAfterMs: number | undefined,
  ) {
    super(ErrorCode.RateLimited, message, provider, true);
  }
}

export class ProviderUnavailableError extends LlmError {
  constructor(provider: ProviderId, message: string) {
    super(ErrorCode.ProviderUnavailable, message, provider, true);
  }
}

/**
 * The provider refused this particular request (a 400, 404, 422...): sending it again would fail
 * the same way, so unlike ProviderUnavailableError it is not retryable. It keeps the
 * PROVIDER_UNAVAILABLE code because clients already branch on that one.
 */
export class ProviderRequestError extends LlmError {
  constructor(provider: ProviderId, message: string) {
    super(ErrorCode.ProviderUnavailable, message, provider, false);
  }
}
