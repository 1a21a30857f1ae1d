import { Injectable } from '@nestjs/common';
import { isProviderId, type ProviderId } from '#libs/common';
import { ByokKeyStore, modelSettingFor } from '#libs/byok';
import { PROVIDER_DEFAULTS } from '#libs/llm';

/** The provider a tenant's extraction uses when nothing else names one. */
export const DEFAULT_GRAPHRAG_PROVIDER: ProviderId = 'openai';

/**
 * Which provider a job uses: the one the request named, else the tenant's `GRAPHRAG_PROVIDER`
 * setting, else openai. Choosing never looks at which keys exist: a provider without a key fails
 * the job, it never switches to another provider.
 */
@Injectable()
export class ProviderChoice {
  constructor(private readonly store: ByokKeyStore) {}

  async forTenant(tenantId: string, requested?: string): Promise<ProviderId> {
    if (isProviderId(requested)) return requested;
    const configured = await this.store.getPlain(tenantId, 'GRAPHRAG_PROVIDER');
    return isProviderId(configured) ? configured : DEFAULT_GRAPHRAG_PROVIDER;
  }

  /**
   * The model a tenant's calls of `provider` use, whichever key they are made with (its own, a
   * request key or the platform's): its `<PROVIDER>_MODEL` setting, else the provider's default.
   */
  async modelFor(tenantId: string, provider: ProviderId): Promise<string> {
    return (await this.store.getPlain(tenantId, modelSettingFor(provider))) ?? PROVIDER_DEFAULTS[provider].model;
  }
}
