import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { ProviderId } from '#libs/common';
import { LlmClientFactory } from './llm-client.factory.js';
import { AuthenticationError } from './llm.errors.js';
import type { KeyContext } from './llm-provider.js';
import { placeholderReason } from './placeholder-keys.js';
import type { TenantEndpoint } from './provider-registry.js';

export interface KeyVerdict {
  status: 'valid' | 'invalid';
  reason?: string;
  checkedAt: Date;
}

const VERDICT_TTL_MS = 5 * 60_000;
const MAX_VERDICTS = 10_000;

/**
 * Says whether a key is usable: placeholders are refused offline, anything else costs one cheap
 * live call. Only a verdict (valid, or refused by the provider) is cached; a rate limit or outage
 * is no verdict and propagates, so the caller retries instead of marking the key.
 */
@Injectable()
export class KeyValidator {
  // keyed by fingerprint, so the cache never holds a key
  private readonly verdicts = new LRUCache<string, KeyVerdict>({ max: MAX_VERDICTS, ttl: VERDICT_TTL_MS });
  private readonly inFlight = new Map<string, Promise<KeyVerdict>>();

  constructor(private readonly factory: LlmClientFactory) {}

  /**
   * The verdict on `key` used with `model` (the tenant's, else the provider's default) at `endpoint`
   * (a tenant endpoint's, see LlmClientFactory.create).
   * @throws ModelNotAvailableError (the key works, the provider does not list the model; no verdict),
   *   EndpointRefusedError (the egress policy refused the endpoint; no verdict), RateLimitedError,
   *   ProviderUnavailableError (no verdict)
   */
  async validate(
    provider: ProviderId,
    key: string,
    fingerprint: string,
    context: KeyContext,
    model?: string,
    endpoint?: TenantEndpoint,
  ): Promise<KeyVerdict> {
    const placeholder = placeholderReason(provider, key);
    if (placeholder) return { status: 'invalid', reason: placeholder, checkedAt: new Date() };

    // by model and endpoint too: a verdict got with one says nothing about another (a key valid at one
    // server says nothing of the server a changed URL now names)
    const cacheKey = `${provider}:${fingerprint}:${model ?? ''}:${endpoint ? `${endpoint.baseUrl} ${endpoint.apiVersion ?? ''}` : ''}`;
    const cached = this.verdicts.get(cacheKey);
    if (cached) return cached;
    // concurrent checks of one key (several jobs starting together) share one live call
    let pending = this.inFlight.get(cacheKey);
    if (!pending) {
      pending = this.check(provider, key, context, model, endpoint).finally(() => this.inFlight.delete(cacheKey));
      this.inFlight.set(cacheKey, pending);
    }
    const verdict = await pending;
    this.verdicts.set(cacheKey, verdict);
    return verdict;
  }

  /** Drops a cached verdict, e.g. when a key was replaced or a job found it revoked. */
  forget(provider: ProviderId, fingerprint: string): void {
    const prefix = `${provider}:${fingerprint}:`;
    for (const cacheKey of [...this.verdicts.keys()]) if (cacheKey.startsWith(prefix)) this.verdicts.delete(cacheKey);
  }

  private async check(
    provider: ProviderId,
    key: string,
    context: KeyContext,
    model: string | undefined,
    endpoint: TenantEndpoint | undefined,
  ): Promise<KeyVerdict> {
    try {
      await this.factory.create(provider, key, context, model, endpoint).validateKey();
      return { status: 'valid', checkedAt: new Date() };
    } catch (error) {
      if (error instanceof AuthenticationError) return { status: 'invalid', reason: `rejected by ${provider}`, checkedAt: new Date() };
      throw error;
    }
  }
}
