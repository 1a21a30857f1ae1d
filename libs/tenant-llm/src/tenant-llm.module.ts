import { Module } from '@nestjs/common';
import { ByokModule } from '#libs/byok';
import { AppConfig } from '#libs/config';
import { EgressModule, EgressPolicy } from '#libs/egress';
import { LlmModule } from '#libs/llm';
import { Metrics } from '#libs/metrics';
import { TenancyModule } from '#libs/tenancy';
import { UsageModule } from '#libs/usage';
import { WebhooksModule } from '#libs/webhooks';
import { JobPreflight } from './job-preflight.service.js';
import { KeyValidationService } from './key-validation.service.js';
import { ProviderChoice } from './provider-choice.service.js';
import { ProviderSessions } from './provider-session.js';
import { KeyRateLimiter, ProviderThrottle, TenantCallPermits, ThrottleEvents, ThrottleMetrics } from './throttle/index.js';

/**
 * LLM work on a tenant's behalf, above key storage (byok) and the provider layer (llm): provider
 * choice, key validation with recorded verdicts, and provider sessions under the tenant's and the
 * key's limits (throttle/). The provider layer is registered here, once, with only the base URLs,
 * timeout and egress policy (for tenant endpoints) from the configuration, and the process's metrics as the observer of every provider call.
 */
@Module({
  imports: [
    TenancyModule,
    ByokModule,
    UsageModule,
    WebhooksModule,
    LlmModule.registerAsync({
      imports: [EgressModule],
      inject: [AppConfig, Metrics, EgressPolicy],
      useFactory: (config: AppConfig, metrics: Metrics, egress: EgressPolicy) => ({
        baseUrls: config.providers.baseUrls,
        timeoutMs: config.providers.timeoutMs,
        egress,
        observer: (call) => metrics.providerCall(call),
      }),
    }),
  ],
  providers: [
    KeyValidationService,
    ProviderChoice,
    ProviderSessions,
    JobPreflight,
    KeyRateLimiter,
    TenantCallPermits,
    ProviderThrottle,
    ThrottleEvents,
    ThrottleMetrics,
  ],
  exports: [
    UsageModule,
    KeyValidationService,
    ProviderChoice,
    ProviderSessions,
    JobPreflight,
    LlmModule,
    KeyRateLimiter,
    TenantCallPermits,
    ThrottleEvents,
  ],
})
export class TenantLlmModule {}
