import { setTimeout as sleep } from 'node:timers/promises';
import pRetry from 'p-retry';
import { LlmError, RateLimitedError } from './llm.errors.js';

/** How often and how patiently one provider call is tried (times in ms). */
export interface RetryPolicy {
  /** Tries in all, the first included (1: never retried). */
  maxAttempts: number;
  /** First backoff; it doubles per retry, with jitter. */
  baseDelayMs: number;
  /** Cap for one backoff, and for one wait a provider asked for with retry-after. */
  maxDelayMs?: number;
}

const DEFAULT_MAX_DELAY_MS = 60_000;

function isRetryable(error: unknown): error is LlmError {
  return error instanceof LlmError && error.retryable;
}

/**
 * Runs a provider call with p-retry: retryable typed errors (429, 5xx, timeouts) are tried again
 * after an exponential backoff of `baseDelayMs * 2^(n-1)`, jittered to 50-100% of it; a 429's
 * retry-after (RFC 9110 section 10.2.3) is waited out first, so the backoff spreads the retries
 * that follow it. Anything else, above all an AuthenticationError, is thrown at once.
 * @throws the call's last error once `maxAttempts` is used up, or its first non-retryable one
 */
export function withProviderRetry<T>(policy: RetryPolicy, call: () => Promise<T>): Promise<T> {
  const maxDelayMs = policy.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  return pRetry(call, {
    retries: Math.max(0, policy.maxAttempts - 1),
    factor: 2,
    // p-retry's jitter multiplies by 1-2: half the base gives 50-100% of baseDelayMs * 2^(n-1)
    minTimeout: policy.baseDelayMs / 2,
    maxTimeout: maxDelayMs,
    randomize: true,
    shouldRetry: ({ error }) => isRetryable(error),
    onFailedAttempt: async ({ error, retriesLeft }) => {
      const asked = retriesLeft > 0 && error instanceof RateLimitedError ? error.retryAfterMs : undefined;
      if (asked) await sleep(Math.min(maxDelayMs, asked));
    },
  });
}
