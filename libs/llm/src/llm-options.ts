import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ProviderId } from '#libs/common';

/**
 * All the provider layer is told: where each provider answers and how long a call may take. It is
 * never handed the configuration itself, so no provider can reach a master or platform key.
 */
export interface LlmOptions {
  /** Overrides of the public endpoints (see PROVIDER_DEFAULTS for the form each takes). */
  baseUrls: Readonly<Partial<Record<ProviderId, string>>>;
  /** One call's deadline, in ms. */
  timeoutMs: number;
}

export const { ConfigurableModuleClass: ConfigurableLlmModule, MODULE_OPTIONS_TOKEN: LLM_OPTIONS } = new ConfigurableModuleBuilder<LlmOptions>()
  .setClassMethodName('register')
  .build();
