import { Module } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { EgressClient } from './egress-client.js';
import { EgressPolicy } from './egress-policy.js';

/** The egress policy and client, built once from the configuration (EGRESS_ALLOW_HTTP, EGRESS_ALLOWED_CIDRS). */
@Module({
  providers: [
    { provide: EgressPolicy, inject: [AppConfig], useFactory: (config: AppConfig) => new EgressPolicy(config.egress) },
    { provide: EgressClient, inject: [EgressPolicy], useFactory: (policy: EgressPolicy) => new EgressClient(policy) },
  ],
  exports: [EgressPolicy, EgressClient],
})
export class EgressModule {}
