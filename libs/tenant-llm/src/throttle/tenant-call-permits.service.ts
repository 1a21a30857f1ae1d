import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger } from '@nestjs/common';
import type { ProviderId } from '#libs/common';
import { AppConfig } from '#libs/config';
import { LeaseTable, RedisService } from '#libs/redis';
import { CapacityWaitExceededError } from './throttle.errors.js';
import { ThrottleEvents } from './throttle-events.js';

/** Gives a permit back. */
export type ReleasePermit = () => Promise<void>;

const NOTHING_HELD: ReleasePermit = () => Promise.resolve();
/** A permit outlives its call's deadline by this much (ms) before it counts as a dead worker's. */
const PERMIT_MARGIN_MS = 10_000;
const FIRST_RETRY_MS = 5;
const LONGEST_RETRY_MS = 50;

/**
 * TENANT_MAX_CONCURRENCY: how many provider calls one tenant has in flight across every worker and
 * job, as leases in Redis (LeaseTable `tenant-calls`, a group per tenant). A permit lives as long as a
 * call can (PROVIDER_TIMEOUT_MS and a margin), so a worker that dies mid-call frees its permits when
 * they expire. A call waits its turn (polling, 5 to 50 ms apart); past PROVIDER_RATE_LIMIT_WAIT_MS it
 * fails CapacityWaitExceededError (retryable). 0 turns the cap off; Redis being away fails open.
 */
@Injectable()
export class TenantCallPermits {
  private readonly logger = new Logger(TenantCallPermits.name);
  private readonly leases: LeaseTable;

  constructor(
    redis: RedisService,
    private readonly config: AppConfig,
    private readonly events: ThrottleEvents,
  ) {
    this.leases = new LeaseTable(redis, 'tenant-calls');
  }

  /**
   * Waits for one of the tenant's permits, asking again after a growing pause (5 to 50 ms, plus up to
   * as much at random); while `urgent()` says so, every 5 ms, so a backfill draining to give its
   * slot up gets the permits that free before the calls of those that go on.
   * @throws CapacityWaitExceededError
   */
  async acquire(tenantId: string, provider: ProviderId, urgent?: () => boolean): Promise<ReleasePermit> {
    const cap = this.config.tenantShares.maxConcurrency;
    if (cap === 0) return NOTHING_HELD;
    const permit = randomUUID();
    const ttlMs = this.config.providers.timeoutMs + PERMIT_MARGIN_MS;
    const started = Date.now();
    for (let retryMs = FIRST_RETRY_MS; ; retryMs = Math.min(LONGEST_RETRY_MS, retryMs * 2)) {
      try {
        if (await this.leases.acquire(tenantId, permit, cap, ttlMs)) break;
      } catch (error) {
        this.logger.warn(`Tenant call cap not applied, Redis is unavailable (${error instanceof Error ? error.message : String(error)})`);
        return NOTHING_HELD;
      }
      const waitedMs = Date.now() - started;
      if (waitedMs + retryMs > this.config.providerRates.maxWaitMs) {
        this.events.emit('wait-exceeded', { provider, reason: 'tenant-concurrency' });
        throw new CapacityWaitExceededError(provider, `the tenant has ${cap} calls in flight (TENANT_MAX_CONCURRENCY)`, waitedMs, retryMs);
      }
      await sleep(urgent?.() ? FIRST_RETRY_MS : retryMs + Math.floor(Math.random() * retryMs));
    }
    const waitedMs = Date.now() - started;
    if (waitedMs > 0) this.events.emit('call-waited', { provider, waitedMs, reason: 'tenant-concurrency' });
    return () => this.leases.release(tenantId, permit).catch(() => undefined);
  }
}
