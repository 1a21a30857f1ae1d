import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Metrics } from '#libs/metrics';
import { type ThrottleEventMap, ThrottleEvents } from './throttle-events.js';

/**
 * Counts what the throttles report into the process's metrics: calls that waited for a key's rate
 * or a tenant's calls in flight (byok_provider_call_wait_seconds), waits given up, and adaptive rate
 * changes (byok_provider_key_rate_*). Labels are the provider and the reason only, never a key or
 * tenant.
 */
@Injectable()
export class ThrottleMetrics implements OnModuleInit, OnModuleDestroy {
  private readonly onWaited = ({ provider, waitedMs, reason }: ThrottleEventMap['call-waited'][0]) =>
    this.metrics.providerCallWaited(provider, reason, waitedMs / 1_000);
  private readonly onWaitExceeded = ({ provider, reason }: ThrottleEventMap['wait-exceeded'][0]) =>
    this.metrics.providerCapacityWaitExceeded(provider, reason);
  private readonly onAdapted = ({ provider, fraction, direction }: ThrottleEventMap['rate-adapted'][0]) =>
    this.metrics.keyRateAdapted(provider, direction, fraction);

  constructor(
    private readonly events: ThrottleEvents,
    private readonly metrics: Metrics,
  ) {}

  onModuleInit(): void {
    this.events.on('call-waited', this.onWaited);
    this.events.on('wait-exceeded', this.onWaitExceeded);
    this.events.on('rate-adapted', this.onAdapted);
  }

  onModuleDestroy(): void {
    this.events.off('call-waited', this.onWaited);
    this.events.off('wait-exceeded', this.onWaitExceeded);
    this.events.off('rate-adapted', this.onAdapted);
  }
}
