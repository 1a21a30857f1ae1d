import { createHash } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { ErrorCode, TooManyRequestsError } from '#libs/common';
import { AppConfig } from '#libs/config';
import { RedisService } from '#libs/redis';

/** Characters of a presented token that name its prefix: `tt_` and 6 more; never the whole token. */
const TOKEN_PREFIX_CHARS = 9;

/** A client's failed-authentication counters: its address, and the prefix of the token it presented. */
export interface AuthAttempt {
  /** The client address (express's req.ip: the socket's, or X-Forwarded-For's under TRUST_PROXY). */
  address: string;
  /** The token as presented; only a SHA-256 of its first characters is ever kept. */
  token: string;
}

/**
 * The API's rate limits (rate-limiter-flexible, fixed windows in Redis under the deployment's prefix,
 * so every API process shares the counts): failed authentications per client address and per token
 * prefix, and writes per tenant. Redis being away fails open: the request goes on and a warning is
 * logged, because refusing every client while Redis is down would turn an outage of the limiter into
 * an outage of the API (routes that need Redis answer 503 on their own).
 */
@Injectable()
export class RateLimitsService {
  private readonly logger = new Logger(RateLimitsService.name);
  private readonly failuresByAddress: RateLimiterRedis;
  private readonly failuresByPrefix: RateLimiterRedis;
  private readonly writesByTenant: RateLimiterRedis;

  constructor(config: AppConfig, redis: RedisService) {
    const { windowS, authFailuresPerAddress, authFailuresPerTokenPrefix, tenantWrites } = config.rateLimits;
    const limiter = (name: string, points: number) =>
      new RateLimiterRedis({ storeClient: redis.client, keyPrefix: redis.key('rate', name), points, duration: windowS, rejectIfRedisNotReady: true });
    this.failuresByAddress = limiter('auth-fail-address', authFailuresPerAddress);
    this.failuresByPrefix = limiter('auth-fail-prefix', authFailuresPerTokenPrefix);
    this.writesByTenant = limiter('tenant-writes', tenantWrites);
  }

  /**
   * Takes one failed authentication from the attempt's address and token prefix before the token is
   * looked up, so however many requests are in flight at most the limit reach the lookup in a window.
   * A success hands it back (`releaseAuthAttempt`): only failures stay counted.
   * @throws TooManyRequestsError (TOO_MANY_AUTH_FAILURES, with the wait until the window ends) when the
   *   address or the prefix has none left
   */
  async reserveAuthAttempt(attempt: AuthAttempt): Promise<void> {
    const results = await Promise.allSettled([
      this.failuresByAddress.consume(attempt.address),
      this.failuresByPrefix.consume(prefixKey(attempt.token)),
    ]);
    const refusals = results.flatMap((r) => (r.status === 'rejected' && r.reason instanceof RateLimiterRes ? [r.reason] : []));
    for (const r of results) if (r.status === 'rejected' && !(r.reason instanceof RateLimiterRes)) this.failOpen(r.reason);
    if (refusals.length === 0) return;
    const waitMs = Math.max(...refusals.map((res) => res.msBeforeNext));
    throw new TooManyRequestsError(ErrorCode.TooManyAuthFailures, 'Too many failed authentications; wait before trying again', waitMs);
  }

  /** Gives back what `reserveAuthAttempt` took: the attempt authenticated, and successes are not counted. */
  async releaseAuthAttempt(attempt: AuthAttempt): Promise<void> {
    await Promise.all([this.refund(this.failuresByAddress, attempt.address), this.refund(this.failuresByPrefix, prefixKey(attempt.token))]);
  }

  /** Counts one write by `tenantId`; throws TooManyRequestsError (TOO_MANY_WRITES, with the wait in ms) past the tenant's allowance. */
  async consumeWrite(tenantId: string): Promise<void> {
    try {
      await this.writesByTenant.consume(tenantId);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) return this.failOpen(rejection);
      throw new TooManyRequestsError(ErrorCode.TooManyWrites, 'Too many writes for this tenant; wait before trying again', rejection.msBeforeNext);
    }
  }

  private async refund(limiter: RateLimiterRedis, key: string): Promise<void> {
    try {
      await limiter.reward(key);
    } catch (error) {
      this.failOpen(error);
    }
  }

  private failOpen(error: unknown): void {
    this.logger.warn(`Rate limit not applied, Redis is unavailable (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** The Redis key of a token's prefix: a SHA-256 of its first characters, so no part of a token is stored. */
function prefixKey(token: string): string {
  return createHash('sha256').update(token.slice(0, TOKEN_PREFIX_CHARS)).digest('base64url');
}
