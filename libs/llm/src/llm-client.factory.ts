import { Inject, Injectable, Optional } from '@nestjs/common';
import { assertUnreachable, maskKey, type ProviderId } from '#libs/common';
import { AppConfig } from '#libs/config';
import { GeminiProvider } from './gemini.provider.js';
import { MissingApiKeyError } from './llm.errors.js';
import type { KeyContext, LlmProvider } from './llm-provider.js';
import { OpenAiCompatibleProvider } from './openai-compatible.provider.js';
import { normalizeBaseUrl, PROVIDER_DEFAULTS } from './provider-registry.js';

export const DEFAULT_LLM_TIMEOUT_MS = 60_000;

/** Optional tuning, provided under LLM_OPTIONS (tests shorten the timeout). */
export interface LlmOptions {
  timeoutMs?: number;
}
export const LLM_OPTIONS = Symbol('LLM_OPTIONS');

/**
 * Builds a provider bound to one explicit key. Every call makes a new SDK client, so no client
 * (and no key) is ever shared between tenants or reused after a key changes. Keys never come from
 * the environment; only base URLs come from configuration.
 */
@Injectable()
export class LlmClientFactory {
  private readonly timeoutMs: number;

  constructor(
    private readonly config: AppConfig,
    @Optional() @Inject(LLM_OPTIONS) options?: LlmOptions,
  ) {
    this.timeoutMs = options?.timeoutMs ?? DEFAULT_LLM_TIMEOUT_MS;
  }

  create(provider: ProviderId, key: string, context: KeyContext): LlmProvider {
    if (!key) {
      throw new MissingApiKeyError(provider, `No ${provider} API key for tenant ${context.tenantLabel} (key ${maskKey(context.keyLast4)})`);
    }
    const defaults = PROVIDER_DEFAULTS[provider];
    const common = {
      key,
      baseUrl: normalizeBaseUrl(this.config.providerBaseUrls[provider] ?? defaults.baseUrl),
      model: defaults.model,
      timeoutMs: this.timeoutMs,
      context,
    };
    switch (provider) {
      case 'openai':
      case 'deepseek':
        return new OpenAiCompatibleProvider({ ...common, provider });
      case 'gemini':
        return new GeminiProvider(common);
      default:
        return assertUnreachable(provider);
    }
  }
}
