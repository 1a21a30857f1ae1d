import { Inject, Injectable } from '@nestjs/common';
import { assertUnreachable, maskKey, type ProviderId } from '#libs/common';
import { GeminiProvider } from './gemini.provider.js';
import { EmptyApiKeyError } from './llm.errors.js';
import { LLM_OPTIONS, type LlmOptions } from './llm-options.js';
import type { KeyContext, LlmProvider } from './llm-provider.js';
import { OpenAiCompatibleProvider } from './openai-compatible.provider.js';
import { normalizeBaseUrl, PROVIDER_DEFAULTS } from './provider-registry.js';

/**
 * Builds a provider bound to one explicit key. Every call makes a new SDK client, so no client
 * (and no key) is ever shared between tenants or reused after a key changes. Keys never come from
 * the environment; only base URLs and the timeout come from LlmOptions.
 */
@Injectable()
export class LlmClientFactory {
  constructor(@Inject(LLM_OPTIONS) private readonly options: LlmOptions) {}

  /** @throws EmptyApiKeyError for an empty key (nothing is sent) */
  create(provider: ProviderId, key: string, context: KeyContext): LlmProvider {
    if (!key) {
      throw new EmptyApiKeyError(provider, `No ${provider} API key for tenant ${context.tenantLabel} (key ${maskKey(context.keyLast4)})`);
    }
    const defaults = PROVIDER_DEFAULTS[provider];
    const common = {
      key,
      baseUrl: normalizeBaseUrl(this.options.baseUrls[provider] ?? defaults.baseUrl),
      model: defaults.model,
      timeoutMs: this.options.timeoutMs,
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
