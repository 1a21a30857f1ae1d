import type { ProviderId } from '#libs/common';

export interface ProviderDefaults {
  model: string;
  /**
   * Where the SDK sends requests unless `<PROVIDER>_BASE_URL` overrides it. Convention, and the
   * form the override must take too:
   * - openai, deepseek: the full base the openai SDK appends `/chat/completions` and `/models` to,
   *   so for OpenAI it includes `/v1` (https://api.openai.com/v1, http://127.0.0.1:4010/openai/v1).
   *   DeepSeek answers both with and without `/v1`.
   * - gemini: the root before the API version; the SDK appends `/v1beta/models/...`
   *   (https://generativelanguage.googleapis.com, http://127.0.0.1:4010/gemini).
   * - anthropic: the root before the API version; the SDK appends `/v1/messages` and `/v1/models`
   *   (https://api.anthropic.com, http://127.0.0.1:4010/anthropic).
   * - azure-openai, custom-openai: none. The tenant's settings name the endpoint
   *   (AZURE_OPENAI_ENDPOINT, CUSTOM_OPENAI_BASE_URL) and the model (no default either).
   */
  baseUrl: string;
  /** Shorter keys are placeholders: no real key of the provider is that short. */
  minKeyLength: number;
}

export const PROVIDER_DEFAULTS: Readonly<Record<ProviderId, ProviderDefaults>> = {
  openai: { model: 'gpt-4o-mini', baseUrl: 'https://api.openai.com/v1', minKeyLength: 20 },
  deepseek: { model: 'deepseek-chat', baseUrl: 'https://api.deepseek.com', minKeyLength: 20 },
  gemini: { model: 'gemini-2.0-flash', baseUrl: 'https://generativelanguage.googleapis.com', minKeyLength: 30 },
  // Anthropic's keys (`sk-ant-api03-...`) run past 100 characters
  anthropic: { model: 'claude-haiku-4-5', baseUrl: 'https://api.anthropic.com', minKeyLength: 40 },
  // Azure's resource keys are 32 hex characters (84 in the newer form)
  'azure-openai': { model: '', baseUrl: '', minKeyLength: 32 },
  // a gateway or model server of the tenant's own: its keys take any form
  'custom-openai': { model: '', baseUrl: '', minKeyLength: 8 },
};

/**
 * Where a tenant-endpoint provider (azure-openai, custom-openai) answers, from the tenant's settings.
 * - azure-openai: `baseUrl` is the resource (https://my-resource.openai.azure.com), the SDK appends
 *   `/openai/deployments/{deployment}/chat/completions?api-version=...`; `apiVersion` is required.
 * - custom-openai: `baseUrl` is the base the SDK appends `/chat/completions` and `/models` to.
 */
export interface TenantEndpoint {
  baseUrl: string;
  apiVersion?: string;
}

/** The SDKs join paths with `/`; a trailing slash in the configured URL would double it. */
export function normalizeBaseUrl(url: string): string {
  return url.replace(/\/+$/, '');
}
