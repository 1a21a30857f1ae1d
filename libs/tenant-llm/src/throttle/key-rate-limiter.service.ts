import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppConfig } from '#libs/config';
import { RedisService } from '#libs/redis';
import { AimdController, type AimdPolicy, DEFAULT_AIMD_POLICY } from './aimd.js';
import { AimdStore } from './aimd-store.js';
import type { KeyLimits, KeyRef } from './key-limits.js';
import { CapacityWaitExceededError } from './throttle.errors.js';
import { ThrottleEvents } from './throttle-events.js';
import { windowPlan } from './window-plan.js';

/** What one call took from its key's allowance, settled once the provider answered. */
export interface RateGrant {
  /** Tokens taken before the call (the estimate, clamped to a window's allowance). */
  tokens: number;
  /** When the token window the call was counted in ends (ms since the epoch): a refund after it would count against the next one. */
  tokenWindowEndsAt: number;
}

/** Test seams: a shorter period than a minute (the simulator's window is set to match), the AIMD rule, the clock. */
export interface RateLimiterTuning {
  periodS?: number;
  aimd?: Partial<AimdPolicy>;
  clock?: () => number;
}
export const RATE_LIMITER_TUNING = Symbol('RATE_LIMITER_TUNING');

/** One call's tokens fit in a token window: windows hold at least this many (calls larger are clamped to a window). */
const MIN_TOKENS_PER_WINDOW = 4_096;
const NO_GRANT: RateGrant = { tokens: 0, tokenWindowEndsAt: 0 };

/**
 * Requests and tokens per minute per (provider, key fingerprint), held in Redis with
 * rate-limiter-flexible so every worker draws on one allowance, and adaptive (AIMD, state in Redis
 * too): a provider 429 lowers the key's rate, successes raise it back to the configured limit. A call
 * waits for capacity rather than being sent to eat a 429; past `PROVIDER_RATE_LIMIT_WAIT_MS` it fails
 * CapacityWaitExceededError (retryable). Windows are planned (windowPlan) so that no sliding minute
 * ever carries more than the configured limit. Redis being away fails open: calls go out unthrottled
 * (the provider's own 429s and the session's pause still hold them back) and a warning is logged.
 */
@Injectable()
export class KeyRateLimiter {
  private readonly logger = new Logger(KeyRateLimiter.name);
  private readonly limiters = new Map<string, RateLimiterRedis>();
  private readonly aimd: AimdStore;
  private readonly periodS: number;
  private readonly clock: () => number;
  private warnedOpen = false;

  constructor(
    private readonly redis: RedisService,
    private readonly config: AppConfig,
    private readonly events: ThrottleEvents,
    @Optional() @Inject(RATE_LIMITER_TUNING) tuning: RateLimiterTuning = {},
  ) {
    this.periodS = tuning.periodS ?? 60;
    this.clock = tuning.clock ?? Date.now;
    this.aimd = new AimdStore(redis, new AimdController({ ...DEFAULT_AIMD_POLICY, ...tuning.aimd }, this.clock));
  }

  /**
   * Waits until `key` may send one call of about `tokens` tokens, and takes it from the allowance.
   * @throws CapacityWaitExceededError when no capacity came within the wait allowed
   */
  async acquire(key: KeyRef, limits: KeyLimits, tokens: number): Promise<RateGrant> {
    if (!limits.rpm && !limits.tpm) return NO_GRANT;
    const started = this.clock();
    for (;;) {
      const fraction = await this.aimd.fraction(key);
      const taken = await this.take(key, limits, fraction, tokens);
      if ('grant' in taken) {
        const waitedMs = this.clock() - started;
        if (waitedMs > 0) this.events.emit('call-waited', { provider: key.provider, waitedMs, reason: 'key-rate' });
        return taken.grant;
      }
      const waitedMs = this.clock() - started;
      if (waitedMs + taken.waitMs > this.config.providerRates.maxWaitMs) {
        this.events.emit('wait-exceeded', { provider: key.provider, reason: 'key-rate' });
        throw new CapacityWaitExceededError(key.provider, 'its key is at its requests or tokens per minute', waitedMs, taken.waitMs);
      }
      // waiters wake as the window opens (a few ms apart at most): every ms after it is a ms the key is not driven
      await sleep(taken.waitMs + Math.floor(Math.random() * 3));
    }
  }

  /** The provider answered: the token estimate is corrected with what it reported, and the key's rate may rise again. */
  async succeeded(key: KeyRef, limits: KeyLimits, grant: RateGrant, reportedTokens: number | undefined): Promise<void> {
    if (!limits.rpm && !limits.tpm) return;
    await this.correctTokens(key, limits, grant, reportedTokens);
    const fraction = await this.aimd.succeeded(key);
    if (fraction !== undefined) this.events.emit('rate-adapted', { provider: key.provider, fraction, direction: 'raised' });
  }

  /** The provider answered 429 although our limits let the call through: the key's rate is lowered for every worker. */
  async rateLimited(key: KeyRef, limits: KeyLimits): Promise<void> {
    this.events.emit('provider-rate-limited', { provider: key.provider });
    if (!limits.rpm && !limits.tpm) return;
    const fraction = await this.aimd.rateLimited(key);
    if (fraction !== undefined) {
      this.events.emit('rate-adapted', { provider: key.provider, fraction, direction: 'lowered' });
      this.logger.warn(
        { provider: key.provider, fraction },
        `The ${key.provider} provider answered 429: this key now sends at ${Math.round(fraction * 100)}% of its limit`,
      );
    }
  }

  /** The share (0-1] of its configured rate a key is sent at now. */
  fractionOf(key: KeyRef): Promise<number> {
    return this.aimd.fraction(key, true);
  }

  /** Takes one request and the call's tokens, or says how long to wait; nothing is kept taken when either refuses. */
  private async take(key: KeyRef, limits: KeyLimits, fraction: number, tokens: number): Promise<{ grant: RateGrant } | { waitMs: number }> {
    const id = `${key.provider}:${key.fingerprint}`;
    try {
      const requests = limits.rpm ? this.limiter('rpm', limits.rpm, fraction, 1) : undefined;
      if (requests) {
        const refused = await consumeOrWait(requests, id, 1);
        if (refused !== undefined) return { waitMs: refused };
      }
      if (!limits.tpm) return { grant: NO_GRANT };
      const tokenLimiter = this.limiter('tpm', limits.tpm, fraction, MIN_TOKENS_PER_WINDOW);
      const taking = Math.max(1, Math.min(Math.ceil(tokens), tokenLimiter.points));
      try {
        const taken = await tokenLimiter.consume(id, taking);
        return { grant: { tokens: taking, tokenWindowEndsAt: this.clock() + taken.msBeforeNext } };
      } catch (refusal) {
        if (!(refusal instanceof RateLimiterRes)) throw refusal;
        // the refused tokens were counted all the same, and the request went through: both are handed back
        await Promise.all([tokenLimiter.reward(id, taking), requests?.reward(id, 1)]);
        return { waitMs: refusal.msBeforeNext };
      }
    } catch (error) {
      this.failOpen(error);
      return { grant: NO_GRANT };
    }
  }

  private async correctTokens(key: KeyRef, limits: KeyLimits, grant: RateGrant, reported: number | undefined): Promise<void> {
    if (!limits.tpm || reported === undefined || grant.tokens === 0) return;
    const id = `${key.provider}:${key.fingerprint}`;
    const limiter = this.limiter('tpm', limits.tpm, await this.aimd.fraction(key), MIN_TOKENS_PER_WINDOW);
    const difference = Math.round(reported) - grant.tokens;
    try {
      if (difference > 0) await limiter.penalty(id, difference);
      // a refund in a later window would let that window hold more than its share: only within the same one
      else if (difference < 0 && this.clock() < grant.tokenWindowEndsAt) await limiter.reward(id, -difference);
    } catch (error) {
      this.failOpen(error);
    }
  }

  /** The limiter of one unit at the key's current rate: limiters differ only in points (the Redis counter is shared by window length). */
  private limiter(unit: 'rpm' | 'tpm', perPeriod: number, fraction: number, minPerWindow: number): RateLimiterRedis {
    const plan = windowPlan(perPeriod, this.periodS, minPerWindow);
    const points = Math.max(1, Math.floor(plan.perWindow * fraction));
    const name = `${unit}:${plan.windowS}:${points}`;
    let limiter = this.limiters.get(name);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: this.redis.client,
        keyPrefix: this.redis.key('provider-rate', unit, `${plan.windowS}s`),
        points,
        duration: plan.windowS,
        rejectIfRedisNotReady: true,
      });
      this.limiters.set(name, limiter);
    }
    return limiter;
  }

  private failOpen(error: unknown): void {
    if (this.warnedOpen) return;
    this.warnedOpen = true;
    this.logger.warn(`Provider rate limits not applied, Redis is unavailable (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** Consumes `points`; undefined when taken, else how long (ms) to wait for the next window. */
async function consumeOrWait(limiter: RateLimiterRedis, id: string, points: number): Promise<number | undefined> {
  try {
    await limiter.consume(id, points);
    return undefined;
  } catch (refusal) {
    if (refusal instanceof RateLimiterRes) return refusal.msBeforeNext;
    throw refusal;
  }
}
