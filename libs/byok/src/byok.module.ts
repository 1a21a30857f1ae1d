import { Module } from '@nestjs/common';
import { TenancyModule } from '#libs/tenancy';
import { ByokKeyStore } from './byok-key-store.service.js';
import { KeyCipher } from './key-cipher.js';
import { KeyFingerprinter } from './key-fingerprinter.js';
import { KeyResolver } from './key-resolver.service.js';
import { KeyRotationService } from './key-rotation.service.js';
import { TenantSettingsRepository } from './tenant-settings.repository.js';

@Module({
  imports: [TenancyModule],
  providers: [TenantSettingsRepository, KeyCipher, KeyFingerprinter, ByokKeyStore, KeyResolver, KeyRotationService],
  exports: [KeyCipher, KeyFingerprinter, ByokKeyStore, KeyResolver, KeyRotationService],
})
export class ByokModule {}
