import { Injectable } from '@nestjs/common';
import { ByokKeyStore, rateSettingFor, type ResolvedKey } from '#libs/byok';
import { AppConfig } from '#libs/config';
import { type CompletionRequest, type CompletionResult, type LlmProvider, RateLimitedError } from '#libs/llm';
import type { KeyLimits, KeyRef } from './key-limits.js';
import { KeyRateLimiter } from './key-rate-limiter.service.js';
import { TenantCallPermits } from './tenant-call-permits.service.js';
import { CapacityWaitExceededError } from './throttle.errors.js';

/** Answer tokens assumed for a call before the provider reports its usage (the prompt is counted: 4 characters a token). */
export const ESTIMATED_ANSWER_TOKENS = 1_024;

/** Tokens a call is counted at before it is sent: its prompt at 4 characters a token, and a full answer. */
export function estimatedTokens(request: CompletionRequest): number {
  const schema = request.jsonSchema ? JSON.stringify(request.jsonSchema.schema).length : 0;
  return Math.ceil((request.system.length + request.user.length + schema) / 4) + ESTIMATED_ANSWER_TOKENS;
}

/**
 * Puts a tenant's provider calls under its limits: the key's requests and tokens per minute (the
 * tenant's `<PROVIDER>_RPM` / `<PROVIDER>_TPM` settings, else PROVIDER_DEFAULT_RPM / _TPM; a platform
 * key, shared by every managed tenant, only ever the defaults) and the tenant's calls in flight
 * (TENANT_MAX_CONCURRENCY).
 */
@Injectable()
export class ProviderThrottle {
  constructor(
    private readonly rates: KeyRateLimiter,
    private readonly permits: TenantCallPermits,
    private readonly store: ByokKeyStore,
    private readonly config: AppConfig,
  ) {}

  /**
   * `llm` with every call waiting for the tenant's and the key's capacity first, and reporting 429s
   * and successes to the key's adaptive rate. `urgent`: while it says so (a backfill draining to give
   * its slot up), a call waiting for a permit asks at the shortest interval, ahead of the others.
   */
  wrap(llm: LlmProvider, tenantId: string, key: ResolvedKey, urgent?: () => boolean): LlmProvider {
    const limits = () => this.limitsFor(tenantId, key);
    const ref = { provider: key.provider, fingerprint: key.fingerprint };
    return new ThrottledProvider(llm, tenantId, ref, limits, this.rates, this.permits, urgent);
  }

  /** The key's allowance: the tenant's settings for its own and request keys, the defaults for the platform's. */
  async limitsFor(tenantId: string, key: ResolvedKey): Promise<KeyLimits> {
    const { defaultRpm, defaultTpm } = this.config.providerRates;
    if (key.source === 'platform') return { rpm: defaultRpm, tpm: defaultTpm };
    const [rpm, tpm] = await Promise.all([
      this.store.getPlain(tenantId, rateSettingFor(key.provider, 'RPM')),
      this.store.getPlain(tenantId, rateSettingFor(key.provider, 'TPM')),
    ]);
    return { rpm: rpm ? Number(rpm) : defaultRpm, tpm: tpm ? Number(tpm) : defaultTpm };
  }
}

/**
 * An LlmProvider whose calls wait for capacity first (the key's rate, then a permit of the tenant's
 * calls in flight, held for the call only), so a retry of the session is throttled like any call.
 */
class ThrottledProvider implements LlmProvider {
  private limits: Promise<KeyLimits> | undefined;

  constructor(
    private readonly inner: LlmProvider,
    private readonly tenantId: string,
    private readonly key: KeyRef,
    private readonly loadLimits: () => Promise<KeyLimits>,
    private readonly rates: KeyRateLimiter,
    private readonly permits: TenantCallPermits,
    private readonly urgent?: () => boolean,
  ) {}

  get provider() {
    return this.inner.provider;
  }

  get model() {
    return this.inner.model;
  }

  async complete(request: CompletionRequest): Promise<CompletionResult> {
    const { rates, permits } = this;
    // read once per session (the settings are cached); a failed read is tried again on the next call
    this.limits ??= this.loadLimits().catch((error: unknown) => {
      this.limits = undefined;
      throw error;
    });
    const limits = await this.limits;
    const grant = await rates.acquire(this.key, limits, estimatedTokens(request));
    const release = await permits.acquire(this.tenantId, this.key.provider, this.urgent);
    try {
      const result = await this.inner.complete(request);
      await rates.succeeded(this.key, limits, grant, result.totalTokens);
      return result;
    } catch (error) {
      if (error instanceof RateLimitedError && !(error instanceof CapacityWaitExceededError)) await rates.rateLimited(this.key, limits);
      throw error;
    } finally {
      await release();
    }
  }

  validateKey(): Promise<void> {
    return this.inner.validateKey();
  }
}
