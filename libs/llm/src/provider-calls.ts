import type { ProviderId } from '#libs/common';
import { AuthenticationError, ProviderRequestError, ProviderUnavailableError, RateLimitedError, UnusableAnswerError } from './llm.errors.js';
import type { CompletionRequest, CompletionResult, LlmProvider } from './llm-provider.js';

/** What a call asked the provider: an answer (`complete`), or whether a key works (`validate_key`). */
export type ProviderOperation = 'complete' | 'validate_key';

/** How one provider call ended, in a fixed set of words (metrics labels). */
export type ProviderCallOutcome = 'ok' | 'rate_limited' | 'auth_failed' | 'unavailable' | 'unusable_answer' | 'request_refused' | 'error';

/** One provider call (one attempt: a retry is a call of its own). Carries no key, tenant or text. */
export interface ProviderCall {
  provider: ProviderId;
  operation: ProviderOperation;
  outcome: ProviderCallOutcome;
  /** Wall time of the call, in seconds. */
  seconds: number;
}

/** Told of every provider call once it has ended (LlmOptions.observer): metrics, never control flow. */
export type ProviderCallObserver = (call: ProviderCall) => void;

/** The outcome word of a call that failed with `error`. */
export function providerCallOutcome(error: unknown): ProviderCallOutcome {
  if (error instanceof RateLimitedError) return 'rate_limited';
  if (error instanceof AuthenticationError) return 'auth_failed';
  if (error instanceof ProviderUnavailableError) return 'unavailable';
  if (error instanceof UnusableAnswerError) return 'unusable_answer';
  if (error instanceof ProviderRequestError) return 'request_refused';
  return 'error';
}

/**
 * A provider whose every call is reported to an observer with its duration and outcome; the call
 * itself, its answer and its errors pass through untouched. Built by LlmClientFactory, the one
 * place every provider call (jobs and key checks alike) starts from.
 */
export class ObservedProvider implements LlmProvider {
  constructor(
    private readonly inner: LlmProvider,
    private readonly observer: ProviderCallObserver,
  ) {}

  get provider(): ProviderId {
    return this.inner.provider;
  }

  get model(): string {
    return this.inner.model;
  }

  complete(request: CompletionRequest): Promise<CompletionResult> {
    return this.observe('complete', () => this.inner.complete(request));
  }

  validateKey(): Promise<void> {
    return this.observe('validate_key', () => this.inner.validateKey());
  }

  private async observe<T>(operation: ProviderOperation, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let outcome: ProviderCallOutcome = 'ok';
    try {
      return await call();
    } catch (error) {
      outcome = providerCallOutcome(error);
      throw error;
    } finally {
      this.report({ provider: this.inner.provider, operation, outcome, seconds: (performance.now() - started) / 1_000 });
    }
  }

  /** An observer that throws must not turn a provider's answer into a failure. */
  private report(call: ProviderCall): void {
    try {
      this.observer(call);
    } catch {
      // metrics are best effort
    }
  }
}
