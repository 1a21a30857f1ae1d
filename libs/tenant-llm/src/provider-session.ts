import { Injectable } from '@nestjs/common';
import { type KeyUsageOutcome, KeyUsageRepository, type ResolvedKey } from '#libs/byok';
import { AppConfig, costMicroUsd, type PriceTable } from '#libs/config';
import { type Tx, TransactionService } from '#libs/database';
import {
  type CompletionResult,
  type KeyContext,
  LlmClientFactory,
  type LlmProvider,
  RateLimitPause,
  type RetryPolicy,
  type TenantEndpoint,
  type TokenUsage,
  UnusableAnswerError,
  withProviderRetry,
} from '#libs/llm';
import { BudgetService, UsageClock } from '#libs/usage';
import { providerRetryPolicy } from './retry-policy.js';
import { ProviderThrottle } from './throttle/provider-throttle.service.js';

/** Who a session calls for: the job, its tenant and the key the key policy chose. */
export interface SessionScope {
  tenantId: string;
  jobId: string;
  jobKind: 'backfill' | 'ai_job';
  key: ResolvedKey;
  context: KeyContext;
  /** The model every call of the session uses (the tenant's, PreflightResult.model); the provider's default when not given. */
  model?: string;
  /** Where a tenant-endpoint provider answers (PreflightResult.endpoint). */
  endpoint?: TenantEndpoint;
  /** While true (the job drains to give its slot up), its calls waiting for a tenant permit ask first (TenantCallPermits). */
  urgent?: () => boolean;
}

/** Provider attempts made through a session, and the tokens the provider reported for them, counted by whoever holds it (a page, a job). */
export interface CallCounter {
  count: number;
  inputTokens: number;
  outputTokens: number;
}

/** A counter at zero. */
export function newCallCounter(): CallCounter {
  return { count: 0, inputTokens: 0, outputTokens: 0 };
}

/** The counts of several counters together (the pages in flight when a job fails). */
export function sumCounters(counters: readonly CallCounter[]): CallCounter {
  return counters.reduce(
    (sum, c) => ({ count: sum.count + c.count, inputTokens: sum.inputTokens + c.inputTokens, outputTokens: sum.outputTokens + c.outputTokens }),
    newCallCounter(),
  );
}

/** Dependencies a session records usage with. */
export interface UsageAccounting {
  usage: KeyUsageRepository;
  budgets: BudgetService;
  clock: UsageClock;
  prices: PriceTable;
  transactions: TransactionService;
}

function addUsage(counter: CallCounter, usage: TokenUsage): void {
  counter.inputTokens += usage.inputTokens;
  counter.outputTokens += usage.outputTokens;
}

function isCompletion(value: unknown): value is CompletionResult {
  return typeof value === 'object' && value !== null && 'text' in value;
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
    private readonly accounting: UsageAccounting,
  ) {
    this.pause = new RateLimitPause(policy);
  }

  /**
   * A call wrapper (GraphExtractor's ProviderCall): retried per policy, every attempt added to
   * `counter`, and the tokens each answer reported (CompletionResult.usage) with it.
   */
  counted(counter: CallCounter): <T>(call: () => Promise<T>) => Promise<T> {
    return (call) =>
      withProviderRetry(
        this.policy,
        async () => {
          counter.count++;
          let result: Awaited<ReturnType<typeof call>>;
          try {
            result = await call();
          } catch (error) {
            // an unusable answer was billed all the same
            if (error instanceof UnusableAnswerError && error.usage) addUsage(counter, error.usage);
            throw error;
          }
          if (isCompletion(result) && result.usage) addUsage(counter, result.usage);
          return result;
        },
        this.pause,
      );
  }

  /**
   * Records a batch of attempts (with their tokens, the session's model and their cost by the price
   * table) and how it ended; nothing for an empty batch. Inside `tx` when given (a backfill page: the
   * usage commits with the page, never without it, never twice), else in a transaction of its own;
   * the budget thresholds the tenant's month reaches are recorded in the same transaction.
   */
  async recordUsage(counter: CallCounter, outcome: KeyUsageOutcome, tx?: Tx): Promise<void> {
    if (counter.count === 0) return;
    if (!tx) return this.accounting.transactions.run((own) => this.recordUsage(counter, outcome, own));
    const { tenantId, jobId, jobKind, key } = this.scope;
    const { usage, budgets, clock, prices } = this.accounting;
    const at = clock.now();
    const model = this.llm.model;
    const { inputTokens, outputTokens } = counter;
    const cost = costMicroUsd(prices, key.provider, model, inputTokens, outputTokens);
    await usage.record(
      { tenantId, jobId, jobKind, key, calls: counter.count, outcome, model, inputTokens, outputTokens, costMicroUsd: cost, at },
      tx,
    );
    await budgets.recordCrossings(tenantId, at, tx);
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
    private readonly budgets: BudgetService,
    private readonly clock: UsageClock,
    private readonly transactions: TransactionService,
  ) {}

  /**
   * A session whose calls wait for the tenant's and the key's capacity (ProviderThrottle) before each attempt.
   * @throws EmptyApiKeyError when the scope's key is empty (the key policy never hands one out)
   */
  open(scope: SessionScope): ProviderSession {
    const llm = this.throttle.wrap(
      this.factory.create(scope.key.provider, scope.key.key, scope.context, scope.model, scope.endpoint),
      scope.tenantId,
      scope.key,
      scope.urgent,
    );
    const accounting = {
      usage: this.usage,
      budgets: this.budgets,
      clock: this.clock,
      prices: this.config.usage.prices,
      transactions: this.transactions,
    };
    return new ProviderSession(llm, scope, providerRetryPolicy(this.config), accounting);
  }
}
