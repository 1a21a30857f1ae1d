import { EventEmitter } from 'node:events';
import { Injectable } from '@nestjs/common';
import type { ProviderId } from '#libs/common';

/** What the throttles report, for metrics or logs to count: never a key, only its provider. */
export interface ThrottleEventMap {
  /** A provider answered 429 to a call that had passed our own limits. */
  'provider-rate-limited': [{ provider: ProviderId }];
  /** A call waited (ms) for its key's rate limit or its tenant's calls in flight before it was sent. */
  'call-waited': [{ provider: ProviderId; waitedMs: number; reason: 'key-rate' | 'tenant-concurrency' }];
  /** A call gave up waiting for capacity (PROVIDER_RATE_LIMIT_WAIT_MS) and failed CapacityWaitExceededError. */
  'wait-exceeded': [{ provider: ProviderId; reason: 'key-rate' | 'tenant-concurrency' }];
  /** A key's adaptive rate moved to `fraction` of its configured limit: lowered after a 429, raised after successes. */
  'rate-adapted': [{ provider: ProviderId; fraction: number; direction: 'lowered' | 'raised' }];
}

/**
 * A plain event emitter the throttles report to (a hook: metrics subscribe here, nothing in the
 * throttles depends on a metrics library). Listeners run synchronously: keep them cheap.
 */
@Injectable()
export class ThrottleEvents extends EventEmitter<ThrottleEventMap> {}
