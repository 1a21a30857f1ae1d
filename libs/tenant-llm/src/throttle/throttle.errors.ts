import type { ProviderId } from '#libs/common';
import { RateLimitedError } from '#libs/llm';

/**
 * A call waited `PROVIDER_RATE_LIMIT_WAIT_MS` for capacity under our own limits (the key's requests or
 * tokens per minute, or the tenant's calls in flight) and was never sent. Retryable, as a provider's
 * 429 is: the job's calls pause and try again, within the rate-limit patience.
 */
export class CapacityWaitExceededError extends RateLimitedError {
  constructor(provider: ProviderId, what: string, waitedMs: number, retryAfterMs: number) {
    super(
      provider,
      `No ${provider} call could be sent within ${Math.round(waitedMs / 1000)} s: ${what}; the job waits and tries again`,
      retryAfterMs,
    );
  }
}
