import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import { LlmError } from './llm.errors.js';
import { type ProviderFailures, retryAfterFromHeaders } from './provider-failures.js';

/**
 * Anthropic's "overloaded" status: the API is busy for everyone, not refusing this request
 * (https://docs.anthropic.com/en/api/errors: `overloaded_error`, HTTP 529).
 */
const OVERLOADED = 529;

/**
 * The one place an @anthropic-ai/sdk failure becomes a typed error: 401/403 AuthenticationError,
 * 429 RateLimitedError with `retry-after`, 529 (overloaded), 5xx, timeouts and network failures
 * ProviderUnavailableError, any other 4xx ProviderRequestError, a 3xx (never followed) unavailable.
 * The SDK's message and the error body's `message` are dropped: neither is ours to repeat.
 */
export function mapAnthropicError(error: unknown, failures: ProviderFailures): LlmError {
  if (error instanceof LlmError) return error;
  // these subclass APIError but carry no status: test them first
  if (error instanceof APIConnectionTimeoutError) return failures.unavailable('timed out');
  if (error instanceof APIUserAbortError) return failures.unavailable('request aborted');
  if (error instanceof APIConnectionError) return failures.unavailable(isAbort(error.cause) ? 'timed out' : 'connection failed');
  if (error instanceof APIError && typeof error.status === 'number') {
    if (error.status === OVERLOADED) return failures.unavailable('HTTP 529 overloaded');
    return failures.forStatus(error.status, retryAfterFromHeaders(error.headers as Headers | undefined));
  }
  return failures.unavailable('unexpected client failure');
}

/** Whether a connection failure was the SDK's own deadline (no caller signal is handed to it); by name, as it may come from another realm. */
function isAbort(cause: unknown): boolean {
  const name = typeof cause === 'object' && cause !== null && 'name' in cause ? cause.name : undefined;
  return name === 'AbortError' || name === 'TimeoutError';
}
