import { Module } from '@nestjs/common';
import { LlmModule } from '#libs/llm';
import { TenancyModule } from '#libs/tenancy';
import { ByokKeyStore } from './byok-key-store.service.js';
import { KeyCipher } from './key-cipher.js';
import { KeyFingerprinter } from './key-fingerprinter.js';
import { KeyResolver } from './key-resolver.service.js';
import { KeyRotationService } from './key-rotation.service.js';
import { KeyValidationService } from './key-validation.service.js';
import { KeyUsageRepository } from './key-usage.repository.js';
import { RequestKeySealer } from './request-key.js';
import { TenantSettingsRepository } from './tenant-settings.repository.js';

@Module({
  imports: [TenancyModule, LlmModule],
  providers: [TenantSettingsRepository, KeyCipher, KeyFingerprinter, ByokKeyStore, KeyResolver, KeyRotationService, KeyValidationService, KeyUsageRepository, RequestKeySealer],
  exports: [KeyCipher, KeyFingerprinter, ByokKeyStore, KeyResolver, KeyRotationService, KeyValidationService, KeyUsageRepository, RequestKeySealer, LlmModule],
})
export class ByokModule {}
