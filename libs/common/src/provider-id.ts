/** The LLM providers the product speaks to. `libs/llm` holds their implementations. */
export const PROVIDER_IDS = ['openai', 'gemini', 'deepseek', 'anthropic', 'azure-openai', 'custom-openai'] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

/**
 * Providers whose endpoint the tenant supplies in its settings (an Azure OpenAI resource, an
 * OpenAI-compatible server of its own): reached only through the egress guard, never with a
 * platform key or an operator's base URL.
 */
export const TENANT_ENDPOINT_PROVIDERS = ['azure-openai', 'custom-openai'] as const satisfies readonly ProviderId[];
export type TenantEndpointProvider = (typeof TENANT_ENDPOINT_PROVIDERS)[number];
/** The providers with a public endpoint the operator may point elsewhere (`<PROVIDER>_BASE_URL`) and a platform key for. */
export type PublicProvider = Exclude<ProviderId, TenantEndpointProvider>;
export const PUBLIC_PROVIDERS = PROVIDER_IDS.filter((p): p is PublicProvider => !(TENANT_ENDPOINT_PROVIDERS as readonly string[]).includes(p));

export function isProviderId(value: unknown): value is ProviderId {
  return typeof value === 'string' && (PROVIDER_IDS as readonly string[]).includes(value);
}

export function isTenantEndpointProvider(provider: ProviderId): provider is TenantEndpointProvider {
  return (TENANT_ENDPOINT_PROVIDERS as readonly string[]).includes(provider);
}

/** The prefix of a provider's settings and environment variables: `OPENAI`, `AZURE_OPENAI`, `CUSTOM_OPENAI`. */
export function settingPrefixFor(provider: ProviderId): string {
  return provider.toUpperCase().replaceAll('-', '_');
}

/** The tenant setting that holds a provider's key, e.g. `OPENAI_API_KEY`, `AZURE_OPENAI_API_KEY`. */
export function apiKeySettingFor(provider: ProviderId): string {
  return `${settingPrefixFor(provider)}_API_KEY`;
}

/**
 * The tenant setting that names the model its calls of a provider use: `OPENAI_MODEL`,
 * `CUSTOM_OPENAI_MODEL`; for Azure OpenAI the deployment, which is what its URLs name
 * (`AZURE_OPENAI_DEPLOYMENT`).
 */
export function modelSettingFor(provider: ProviderId): string {
  return provider === 'azure-openai' ? 'AZURE_OPENAI_DEPLOYMENT' : `${settingPrefixFor(provider)}_MODEL`;
}
