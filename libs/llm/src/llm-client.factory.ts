import { Inject, Injectable } from '@nestjs/common';
import { assertUnreachable, isTenantEndpointProvider, maskKey, type ProviderId } from '#libs/common';
import { AnthropicProvider } from './anthropic.provider.js';
import { GeminiProvider } from './gemini.provider.js';
import { EmptyApiKeyError } from './llm.errors.js';
import { LLM_OPTIONS, type LlmOptions } from './llm-options.js';
import type { KeyContext, LlmProvider } from './llm-provider.js';
import { createNodeHttpFetch } from './node-http-fetch.js';
import { OpenAiCompatibleProvider } from './openai-compatible.provider.js';
import { ObservedProvider } from './provider-calls.js';
import { normalizeBaseUrl, PROVIDER_DEFAULTS, type TenantEndpoint } from './provider-registry.js';

/**
 * Builds a provider bound to one explicit key. Every call makes a new SDK client, so no client
 * (and no key) is ever shared between tenants or reused after a key changes. Keys never come from
 * the environment; only base URLs, the timeout and the call observer come from LlmOptions. Every
 * provider call starts from a provider built here, so the observer sees every one.
 */
@Injectable()
export class LlmClientFactory {
  // one guarded connection pool per process for every tenant endpoint (connections carry no key)
  readonly #guardedFetch: typeof fetch | undefined;

  constructor(@Inject(LLM_OPTIONS) private readonly options: LlmOptions) {
    this.#guardedFetch = options.egress ? createNodeHttpFetch(options.egress) : undefined;
  }

  /**
   * `model`: the tenant's model for the provider (its `<PROVIDER>_MODEL` setting, Azure's deployment);
   * the provider's default (PROVIDER_DEFAULTS) when not given. `endpoint`: where a tenant-endpoint
   * provider (azure-openai, custom-openai) answers, from the tenant's settings; its calls go through
   * the egress policy's checks, at every connection.
   * @throws EmptyApiKeyError for an empty key (nothing is sent); Error when a tenant-endpoint
   *   provider is built without its endpoint, model or an egress policy (the pre-flight sees to them)
   */
  create(provider: ProviderId, key: string, context: KeyContext, model?: string, endpoint?: TenantEndpoint): LlmProvider {
    const llm = this.build(provider, key, context, model, endpoint);
    return this.options.observer ? new ObservedProvider(llm, this.options.observer) : llm;
  }

  private build(
    provider: ProviderId,
    key: string,
    context: KeyContext,
    model: string | undefined,
    endpoint: TenantEndpoint | undefined,
  ): LlmProvider {
    if (!key) {
      throw new EmptyApiKeyError(provider, `No ${provider} API key for tenant ${context.tenantLabel} (key ${maskKey(context.keyLast4)})`);
    }
    const defaults = PROVIDER_DEFAULTS[provider];
    const common = {
      key,
      baseUrl: normalizeBaseUrl(
        isTenantEndpointProvider(provider) ? (endpoint?.baseUrl ?? '') : (this.options.baseUrls[provider] ?? defaults.baseUrl),
      ),
      model: model ?? defaults.model,
      timeoutMs: this.options.timeoutMs,
      context,
    };
    switch (provider) {
      case 'openai':
      case 'deepseek':
        return new OpenAiCompatibleProvider({ ...common, provider });
      case 'azure-openai':
      case 'custom-openai': {
        // never an operator's base URL or the unguarded pool: a tenant's URL may point anywhere
        if (!common.baseUrl || !common.model || !this.#guardedFetch || (provider === 'azure-openai' && !endpoint?.apiVersion))
          throw new Error(`${provider} needs the tenant's endpoint, model and the egress policy`);
        return new OpenAiCompatibleProvider({ ...common, provider, apiVersion: endpoint?.apiVersion, fetch: this.#guardedFetch });
      }
      case 'gemini':
        return new GeminiProvider(common);
      case 'anthropic':
        return new AnthropicProvider(common);
      default:
        return assertUnreachable(provider);
    }
  }
}
