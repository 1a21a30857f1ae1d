import { AppError, ErrorCode } from '#libs/common';
import type { KeyUsageOutcome } from '#libs/byok';
import { AuthenticationError, RateLimitedError } from '#libs/llm';

/** How a batch of provider calls ended, as the key_usage audit records it. */
export function usageOutcomeOf(error: unknown): KeyUsageOutcome {
  if (error instanceof AuthenticationError) return 'auth_failed';
  if (error instanceof RateLimitedError) return 'rate_limited';
  if (error instanceof AppError && error.code === ErrorCode.ProviderUnavailable) return 'unavailable';
  return 'error';
}
