import { setTimeout as sleep } from 'node:timers/promises';
import pRetry from 'p-retry';
import { LlmError, RateLimitedError } from './llm.errors.js';

/** How often and how patiently one provider call is tried (times in ms). */
export interface RetryPolicy {
  /** Tries in all on 5xx and timeouts, the first included (1: never retried). 429s do not count: see rateLimitPatienceMs. */
  maxAttempts: number;
  /** Backoff base: a retry waits a random time up to `baseDelayMs * 2^(n-1)` (full jitter). */
  baseDelayMs: number;
  /** Cap for one backoff, and for one wait a provider asked for with retry-after. */
  maxDelayMs?: number;
  /** How long a provider may keep the calls waiting on 429s (retry-afters summed) before they fail RATE_LIMITED (default 120 s). */
  rateLimitPatienceMs?: number;
}

const DEFAULT_MAX_DELAY_MS = 60_000;
const DEFAULT_RATE_LIMIT_PATIENCE_MS = 120_000;

/** AWS's "full jitter": a random wait between 0 and the exponential cap, so retries spread out instead of arriving together. */
function fullJitter(policy: RetryPolicy, attempt: number): number {
  return Math.random() * Math.min(policy.maxDelayMs ?? DEFAULT_MAX_DELAY_MS, policy.baseDelayMs * 2 ** (attempt - 1));
}

/**
 * One pause shared by every call made with one key in one job: a 429 holds all of them until its
 * retry-after (RFC 9110 section 10.2.3), instead of each call waiting, retrying and being refused on
 * its own. The streak of 429s ends with the first call that goes through. Patience is counted in
 * the time the streak made the calls wait: past it, the job ends RATE_LIMITED.
 */
export class RateLimitPause {
  private pause: Promise<void> | undefined;
  private pausedUntil = 0;
  private streakWaitedMs = 0;
  private streakLength = 0;

  constructor(private readonly policy: RetryPolicy) {}

  /** Resolves when no pause is in force. */
  async wait(): Promise<void> {
    while (this.pause) await this.pause;
  }

  /**
   * A 429: every call waits the provider's retry-after, or a full-jitter backoff when that is longer
   * (a retry-after of 0, or none, still spreads the retries and spends the patience).
   * @returns false once the streak has made the calls wait longer than the patience
   */
  hit(retryAfterMs: number | undefined): boolean {
    this.streakLength++;
    const wait = Math.min(this.policy.maxDelayMs ?? DEFAULT_MAX_DELAY_MS, Math.max(retryAfterMs ?? 0, fullJitter(this.policy, this.streakLength)));
    if (this.streakWaitedMs + wait > (this.policy.rateLimitPatienceMs ?? DEFAULT_RATE_LIMIT_PATIENCE_MS)) return false;
    const until = Date.now() + wait;
    // calls refused together extend one pause; they do not each add their own
    if (wait > 0 && until > this.pausedUntil) {
      this.streakWaitedMs += this.pause ? until - this.pausedUntil : wait;
      this.pausedUntil = until;
      const pause: Promise<void> = sleep(wait).then(() => {
        if (this.pause === pause) this.pause = undefined;
      });
      this.pause = pause;
    }
    return true;
  }

  /** A call went through: the provider accepts calls again. */
  clear(): void {
    this.streakWaitedMs = 0;
    this.streakLength = 0;
  }
}

function isRetryable(error: unknown): error is LlmError {
  return error instanceof LlmError && error.retryable;
}

/**
 * Runs a provider call with p-retry. A 5xx or a timeout is tried again after a full-jitter backoff,
 * up to `maxAttempts` tries. A 429 does not use up tries: it pauses every call sharing `pause` (one
 * job's key) until the provider's retry-after, for as long as the patience lasts. Anything else,
 * above all an AuthenticationError or an unusable answer, is thrown at once.
 * @throws the call's last error once the tries or the patience are used up, or its first non-retryable one
 */
export function withProviderRetry<T>(policy: RetryPolicy, call: () => Promise<T>, pause = new RateLimitPause(policy)): Promise<T> {
  return pRetry(
    async () => {
      await pause.wait();
      const result = await call();
      pause.clear();
      return result;
    },
    {
      retries: Math.max(0, policy.maxAttempts - 1),
      // the waits are ours (shared pause, full jitter): p-retry counts tries and decides
      minTimeout: 0,
      shouldRetry: ({ error }) => isRetryable(error),
      shouldConsumeRetry: ({ error }) => !(error instanceof RateLimitedError),
      onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
        if (error instanceof RateLimitedError) {
          // throwing here ends the retries with this error: the provider refused for too long
          if (!pause.hit(error.retryAfterMs)) throw error;
        } else if (isRetryable(error) && retriesLeft > 0) {
          const backoff = fullJitter(policy, attemptNumber);
          if (backoff > 0) await sleep(backoff);
        }
      },
    },
  );
}
