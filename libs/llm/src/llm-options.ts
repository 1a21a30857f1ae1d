import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { PublicProvider } from '#libs/common';
import type { EgressPolicy } from '#libs/egress';
import type { ProviderCallObserver } from './provider-calls.js';

/**
 * All the provider layer is told: where each provider answers, how long a call may take, and whom to
 * tell how each call went. It is never handed the configuration itself, so no provider can reach a
 * master or platform key.
 */
export interface LlmOptions {
  /** Overrides of the public endpoints (see PROVIDER_DEFAULTS for the form each takes). */
  baseUrls: Readonly<Partial<Record<PublicProvider, string>>>;
  /** The checks every connection to a tenant's own endpoint passes (azure-openai, custom-openai): without it, they are never called. */
  egress?: EgressPolicy;
  /** One call's deadline, in ms. */
  timeoutMs: number;
  /** Told of every call (provider, operation, outcome, seconds; never a key), e.g. for metrics. */
  observer?: ProviderCallObserver;
}

export const { ConfigurableModuleClass: ConfigurableLlmModule, MODULE_OPTIONS_TOKEN: LLM_OPTIONS } = new ConfigurableModuleBuilder<LlmOptions>()
  .setClassMethodName('register')
  .build();
