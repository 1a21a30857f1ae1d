import { setTimeout as sleep } from 'node:timers/promises';
import { LlmError, RateLimitedError } from './llm.errors.js';

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  /** Cap for one wait, including a provider's retry-after. */
  maxDelayMs?: number;
}

/**
 * Retries a provider call on retryable typed errors (429 honouring retry-after, 5xx, timeouts) with
 * exponential backoff and jitter. Anything else, above all an AuthenticationError, is thrown at once.
 */
export async function withProviderRetry<T>(policy: RetryPolicy, call: () => Promise<T>): Promise<T> {
  const maxDelay = policy.maxDelayMs ?? 60_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof LlmError) || !error.retryable || attempt >= policy.maxAttempts) throw error;
      const backoff = policy.baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
      const asked = error instanceof RateLimitedError ? error.retryAfterMs : undefined;
      await sleep(Math.min(maxDelay, Math.max(asked ?? 0, backoff)));
    }
  }
}
