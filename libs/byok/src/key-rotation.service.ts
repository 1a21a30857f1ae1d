import { Injectable, Logger } from '@nestjs/common';
import { KeyCipher, settingContext } from './key-cipher.js';
import { ByokKeyStore } from './byok-key-store.service.js';
import { TenantSettingsRepository } from './tenant-settings.repository.js';

export interface RotationReport {
  activeVersion: string;
  rotated: number;
  /** Rows changed by someone else while being rotated: they already carry a fresh envelope. */
  skipped: number;
  /** Rows that could not be decrypted with any configured master key. */
  failed: number;
}

/**
 * Re-encrypts every stored key under the active master key version, in batches, while the service
 * runs: each row is swapped only if it is unchanged since it was read, and caches are told.
 */
@Injectable()
export class KeyRotationService {
  private readonly logger = new Logger(KeyRotationService.name);

  constructor(
    private readonly settings: TenantSettingsRepository,
    private readonly cipher: KeyCipher,
    private readonly store: ByokKeyStore,
  ) {}

  /**
   * Rotates every secret row not yet under the active version, `batchSize` rows per query.
   * @public called by scripts/rotate-keys.ts through the application context
   */
  async rotateAll(batchSize = 500): Promise<RotationReport> {
    const report: RotationReport = { activeVersion: this.cipher.activeVersion, rotated: 0, skipped: 0, failed: 0 };
    let afterId: string | undefined;
    for (;;) {
      const rows = await this.settings.findSecretsToRotate(report.activeVersion, afterId, batchSize);
      if (rows.length === 0) break;
      for (const row of rows) {
        const context = settingContext(row.tenantId, row.settingKey);
        const previous = { ciphertext: row.ciphertext!, iv: row.iv!, authTag: row.authTag!, keyVersion: row.keyVersion! };
        let plaintext: string;
        try {
          plaintext = this.cipher.decrypt(previous, context, `Stored ${row.settingKey} of tenant ${row.tenantId}`);
        } catch (error) {
          report.failed++;
          this.logger.error({ tenantId: row.tenantId, settingKey: row.settingKey }, (error as Error).message);
          continue;
        }
        const swapped = await this.settings.replaceEnvelope(row.tenantId, row.id, previous, this.cipher.encrypt(plaintext, context));
        if (swapped) {
          report.rotated++;
          await this.store.invalidate(row.tenantId, row.settingKey);
        } else {
          report.skipped++;
        }
      }
      afterId = rows[rows.length - 1].id;
      this.logger.log(`Rotated ${report.rotated} keys so far (${report.failed} failed)`);
    }
    return report;
  }
}
