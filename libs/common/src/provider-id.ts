/** The LLM providers the product speaks to. `libs/llm` holds their implementations. */
export const PROVIDER_IDS = ['openai', 'gemini', 'deepseek', 'anthropic'] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

export function isProviderId(value: unknown): value is ProviderId {
  return typeof value === 'string' && (PROVIDER_IDS as readonly string[]).includes(value);
}

/** The tenant setting that holds a provider's key, e.g. `OPENAI_API_KEY`. */
export function apiKeySettingFor(provider: ProviderId): string {
  return `${provider.toUpperCase()}_API_KEY`;
}
