import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode, isProviderId, modelSettingFor, type ProviderId } from '#libs/common';
import { AZURE_OPENAI_DEFAULT_API_VERSION, ByokKeyStore } from '#libs/byok';
import { PROVIDER_DEFAULTS, type TenantEndpoint } from '#libs/llm';

/** The provider a tenant's extraction uses when nothing else names one. */
export const DEFAULT_GRAPHRAG_PROVIDER: ProviderId = 'openai';

/** What a tenant's calls of a provider are sent to: the model (Azure: the deployment) and, for a tenant endpoint, where it answers. */
export interface ProviderTarget {
  model: string;
  endpoint?: TenantEndpoint;
}

/**
 * A tenant-endpoint provider without the settings it needs (PROVIDER_NOT_CONFIGURED, 422): found by
 * the pre-flight before any key is checked live or any record fetched. Names the settings, never a value.
 */
export class ProviderNotConfiguredError extends AppError {
  constructor(
    readonly provider: ProviderId,
    readonly missing: readonly string[],
  ) {
    super(
      ErrorCode.ProviderNotConfigured,
      `${provider} needs ${missing.join(' and ')}: set ${missing.length > 1 ? 'them' : 'it'} in the tenant's provider settings.`,
    );
  }
}

/** The settings each tenant-endpoint provider needs besides its key. */
const ENDPOINT_SETTINGS = {
  'azure-openai': { url: 'AZURE_OPENAI_ENDPOINT', apiVersion: 'AZURE_OPENAI_API_VERSION' },
  'custom-openai': { url: 'CUSTOM_OPENAI_BASE_URL' },
} as const;

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
   * request key or the platform's): its `<PROVIDER>_MODEL` setting (Azure: `AZURE_OPENAI_DEPLOYMENT`),
   * else the provider's default ('' for a tenant endpoint, which has none).
   */
  async modelFor(tenantId: string, provider: ProviderId): Promise<string> {
    return (await this.store.getPlain(tenantId, modelSettingFor(provider))) ?? PROVIDER_DEFAULTS[provider].model;
  }

  /**
   * The model and, for azure-openai and custom-openai, the tenant's endpoint (its URL as stored,
   * Azure's API version, else AZURE_OPENAI_DEFAULT_API_VERSION).
   * @throws ProviderNotConfiguredError naming every setting a tenant endpoint lacks
   */
  async targetFor(tenantId: string, provider: ProviderId): Promise<ProviderTarget> {
    const model = await this.modelFor(tenantId, provider);
    if (provider !== 'azure-openai' && provider !== 'custom-openai') return { model };
    const settings = ENDPOINT_SETTINGS[provider];
    const baseUrl = await this.store.getPlain(tenantId, settings.url);
    const missing = [...(baseUrl ? [] : [settings.url]), ...(model ? [] : [modelSettingFor(provider)])];
    if (!baseUrl || !model) throw new ProviderNotConfiguredError(provider, missing);
    if (!('apiVersion' in settings)) return { model, endpoint: { baseUrl } };
    const apiVersion = (await this.store.getPlain(tenantId, settings.apiVersion)) ?? AZURE_OPENAI_DEFAULT_API_VERSION;
    return { model, endpoint: { baseUrl, apiVersion } };
  }
}
