import type { AppConfig } from '#libs/config';
import type { RetryPolicy } from '#libs/llm';

/** The configured retry policy of every provider call a job makes (PROVIDER_MAX_ATTEMPTS, PROVIDER_RETRY_BASE_MS, PROVIDER_RATE_LIMIT_PATIENCE_MS). */
export function providerRetryPolicy(config: AppConfig): RetryPolicy {
  return {
    maxAttempts: config.providers.maxAttempts,
    baseDelayMs: config.providers.retryBaseMs,
    rateLimitPatienceMs: config.providers.rateLimitPatienceMs,
  };
}
