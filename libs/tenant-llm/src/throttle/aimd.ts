/** How a key's sending rate adapts (additive increase, multiplicative decrease, as TCP's congestion control). */
export interface AimdPolicy {
  /** A provider 429 multiplies the rate by this (0.5: halved). */
  decreaseFactor: number;
  /** The rate never drops below this share of the configured limit. */
  minFraction: number;
  /** Each window of successes adds back this share of the configured limit. */
  increaseStep: number;
  /** Length (ms) of a window of successes, counted from the last change, before the rate rises again. */
  increaseAfterMs: number;
  /** 429s within this long (ms) after a decrease answer calls sent before it: they count as the same signal. */
  decreaseCooldownMs: number;
}

export const DEFAULT_AIMD_POLICY: Readonly<AimdPolicy> = {
  decreaseFactor: 0.5,
  minFraction: 0.05,
  increaseStep: 0.1,
  increaseAfterMs: 10_000,
  decreaseCooldownMs: 5_000,
};

/** Where a key's rate stands: `fraction` of its configured limit, and when it last changed or fell (ms since the epoch). */
export interface AimdState {
  fraction: number;
  changedAt: number;
  decreasedAt: number;
}

/**
 * The AIMD rule alone, on a state and a clock, so it is tested with a fake clock and kept in Redis
 * by whoever stores it: a 429 multiplies the key's rate down (once per cooldown, however many calls
 * in flight answer 429 together), and every `increaseAfterMs` without a decrease a success adds
 * `increaseStep` back, up to the configured limit.
 */
export class AimdController {
  constructor(
    readonly policy: Readonly<AimdPolicy> = DEFAULT_AIMD_POLICY,
    private readonly clock: () => number = Date.now,
  ) {}

  /** A key nobody has slowed down: its full configured rate. */
  initial(): AimdState {
    return { fraction: 1, changedAt: this.clock(), decreasedAt: 0 };
  }

  /** After a provider 429. */
  rateLimited(state: AimdState): AimdState {
    const now = this.clock();
    if (now - state.decreasedAt < this.policy.decreaseCooldownMs) return state;
    const fraction = Math.max(this.policy.minFraction, state.fraction * this.policy.decreaseFactor);
    return { fraction, changedAt: now, decreasedAt: now };
  }

  /** After a call that went through. */
  succeeded(state: AimdState): AimdState {
    if (!this.wouldIncrease(state)) return state;
    return { ...state, fraction: Math.min(1, state.fraction + this.policy.increaseStep), changedAt: this.clock() };
  }

  /** Whether a success now would raise the rate (cheap to ask before storing anything). */
  wouldIncrease(state: AimdState): boolean {
    return state.fraction < 1 && this.clock() - state.changedAt >= this.policy.increaseAfterMs;
  }
}
