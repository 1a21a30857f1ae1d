import { Injectable } from '@nestjs/common';
import { type KeyUsageOutcome, KeyUsageRepository, type ResolvedKey } from '#libs/byok';
import { AppConfig } from '#libs/config';
import type { Tx } from '#libs/database';
import { type KeyContext, LlmClientFactory, type LlmProvider, RateLimitPause, type RetryPolicy, withProviderRetry } from '#libs/llm';
import { providerRetryPolicy } from './retry-policy.js';
import { ProviderThrottle } from './throttle/provider-throttle.service.js';

/** Who a session calls for: the job, its tenant and the key the key policy chose. */
export interface SessionScope {
  tenantId: string;
  jobId: string;
  jobKind: 'backfill' | 'ai_job';
  key: ResolvedKey;
  context: KeyContext;
  /** While true (the job drains to give its slot up), its calls waiting for a tenant permit ask first (TenantCallPermits). */
  urgent?: () => boolean;
}

/** Provider attempts made through a session, counted by whoever holds it (a page, a job). */
export interface CallCounter {
  count: number;
}

/**
 * One job's access to its provider: a client bound to the job's key, every call retried by the
 * configured policy and counted, and the counts recorded in key_usage (by fingerprint, never the key).
 * All calls of the session share one rate-limit pause: a 429 holds them all until its retry-after.
 * Backfills and AI jobs both go through it, so they cannot differ in retries or accounting.
 */
export class ProviderSession {
  private readonly pause: RateLimitPause;

  constructor(
    readonly llm: LlmProvider,
    private readonly scope: SessionScope,
    private readonly policy: RetryPolicy,
    private readonly usage: KeyUsageRepository,
  ) {
    this.pause = new RateLimitPause(policy);
  }

  /** A call wrapper (GraphExtractor's ProviderCall): retried per policy, every attempt added to `counter`. */
  counted(counter: CallCounter): <T>(call: () => Promise<T>) => Promise<T> {
    return (call) =>
      withProviderRetry(
        this.policy,
        () => {
          counter.count++;
          return call();
        },
        this.pause,
      );
  }

  /**
   * Records a batch of `calls` attempts and how it ended; nothing for an empty batch. Inside `tx`
   * when given (a backfill page: the usage commits with the page, never without it, never twice).
   */
  async recordUsage(calls: number, outcome: KeyUsageOutcome, tx?: Tx): Promise<void> {
    if (calls === 0) return;
    const { tenantId, jobId, jobKind, key } = this.scope;
    await this.usage.record({ tenantId, jobId, jobKind, key, calls, outcome }, tx);
  }
}

/** Opens ProviderSessions with the configured retry policy. */
@Injectable()
export class ProviderSessions {
  constructor(
    private readonly factory: LlmClientFactory,
    private readonly usage: KeyUsageRepository,
    private readonly config: AppConfig,
    private readonly throttle: ProviderThrottle,
  ) {}

  /**
   * A session whose calls wait for the tenant's and the key's capacity (ProviderThrottle) before each attempt.
   * @throws EmptyApiKeyError when the scope's key is empty (the key policy never hands one out)
   */
  open(scope: SessionScope): ProviderSession {
    const llm = this.throttle.wrap(this.factory.create(scope.key.provider, scope.key.key, scope.context), scope.tenantId, scope.key, scope.urgent);
    return new ProviderSession(llm, scope, providerRetryPolicy(this.config), this.usage);
  }
}
