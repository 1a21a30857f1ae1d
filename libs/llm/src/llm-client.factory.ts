import { Inject, Injectable } from '@nestjs/common';
import { assertUnreachable, maskKey, type ProviderId } from '#libs/common';
import { AnthropicProvider } from './anthropic.provider.js';
import { GeminiProvider } from './gemini.provider.js';
import { EmptyApiKeyError } from './llm.errors.js';
import { LLM_OPTIONS, type LlmOptions } from './llm-options.js';
import type { KeyContext, LlmProvider } from './llm-provider.js';
import { OpenAiCompatibleProvider } from './openai-compatible.provider.js';
import { ObservedProvider } from './provider-calls.js';
import { normalizeBaseUrl, PROVIDER_DEFAULTS } from './provider-registry.js';

/**
 * Builds a provider bound to one explicit key. Every call makes a new SDK client, so no client
 * (and no key) is ever shared between tenants or reused after a key changes. Keys never come from
 * the environment; only base URLs, the timeout and the call observer come from LlmOptions. Every
 * provider call starts from a provider built here, so the observer sees every one.
 */
@Injectable()
export class LlmClientFactory {
  constructor(@Inject(LLM_OPTIONS) private readonly options: LlmOptions) {}

  /**
   * `model`: the tenant's model for the provider (its `<PROVIDER>_MODEL` setting); the provider's
   * default (PROVIDER_DEFAULTS) when not given.
   * @throws EmptyApiKeyError for an empty key (nothing is sent)
   */
  create(provider: ProviderId, key: string, context: KeyContext, model?: string): LlmProvider {
    const llm = this.build(provider, key, context, model);
    return this.options.observer ? new ObservedProvider(llm, this.options.observer) : llm;
  }

  private build(provider: ProviderId, key: string, context: KeyContext, model: string | undefined): LlmProvider {
    if (!key) {
      throw new EmptyApiKeyError(provider, `No ${provider} API key for tenant ${context.tenantLabel} (key ${maskKey(context.keyLast4)})`);
    }
    const defaults = PROVIDER_DEFAULTS[provider];
    const common = {
      key,
      baseUrl: normalizeBaseUrl(this.options.baseUrls[provider] ?? defaults.baseUrl),
      model: model ?? defaults.model,
      timeoutMs: this.options.timeoutMs,
      context,
    };
    switch (provider) {
      case 'openai':
      case 'deepseek':
        return new OpenAiCompatibleProvider({ ...common, provider });
      case 'gemini':
        return new GeminiProvider(common);
      case 'anthropic':
        return new AnthropicProvider(common);
      default:
        return assertUnreachable(provider);
    }
  }
}
