import { Module } from '@nestjs/common';
import { EgressModule } from '#libs/egress';
import { TenancyModule } from '#libs/tenancy';
import { ByokKeyStore } from './byok-key-store.service.js';
import { KeyCipher } from './key-cipher.js';
import { KeyFingerprinter } from './key-fingerprinter.js';
import { KeyResolver } from './key-resolver.service.js';
import { KeyRotationService } from './key-rotation.service.js';
import { KeyUsageRepository } from './key-usage.repository.js';
import { RequestKeySealer } from './request-key.js';
import { TenantSettingsRepository } from './tenant-settings.repository.js';

/** Key storage and policy: it never calls a provider (validation lives in libs/tenant-llm, above it). */
@Module({
  imports: [TenancyModule, EgressModule],
  providers: [
    TenantSettingsRepository,
    KeyCipher,
    KeyFingerprinter,
    ByokKeyStore,
    KeyResolver,
    KeyRotationService,
    KeyUsageRepository,
    RequestKeySealer,
  ],
  exports: [KeyCipher, KeyFingerprinter, ByokKeyStore, KeyResolver, KeyRotationService, KeyUsageRepository, RequestKeySealer],
})
export class ByokModule {}
