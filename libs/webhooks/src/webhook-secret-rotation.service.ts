import { Injectable, Logger } from '@nestjs/common';
import { KeyCipher, type RotationReport } from '#libs/byok';
import { sealedSecretOf, WebhookEndpointRepository } from './webhook-endpoint.repository.js';
import { webhookSecretContext } from './webhook.service.js';

/**
 * Re-seals every webhook signing secret under the active master key version, as KeyRotationService
 * does for provider keys (`npm run keys:rotate` runs both): in batches, each row swapped only if it is
 * unchanged since it was read, so it is safe while the service runs.
 */
@Injectable()
export class WebhookSecretRotation {
  private readonly logger = new Logger(WebhookSecretRotation.name);

  constructor(
    private readonly endpoints: WebhookEndpointRepository,
    private readonly cipher: KeyCipher,
  ) {}

  /**
   * Rotates every secret not yet under the active version, `batchSize` rows per query.
   * @public called by scripts/rotate-keys.ts through the application context
   */
  async rotateAll(batchSize = 500): Promise<RotationReport> {
    const report: RotationReport = { activeVersion: this.cipher.activeVersion, rotated: 0, skipped: 0, failed: 0 };
    let afterId: string | undefined;
    for (;;) {
      const rows = await this.endpoints.findSecretsToRotate(report.activeVersion, afterId, batchSize);
      if (rows.length === 0) break;
      for (const row of rows) {
        const context = webhookSecretContext(row.tenantId, row.id);
        const previous = sealedSecretOf(row);
        let secret: string;
        try {
          secret = this.cipher.decrypt(previous, context, `The signing secret of webhook ${row.id}`);
        } catch (error) {
          report.failed++;
          this.logger.error({ tenantId: row.tenantId, endpointId: row.id }, (error as Error).message);
          continue;
        }
        if (await this.endpoints.replaceEnvelope(row.tenantId, row.id, previous, this.cipher.encrypt(secret, context))) report.rotated++;
        else report.skipped++;
      }
      afterId = rows[rows.length - 1].id;
    }
    this.logger.log(`Rotated ${report.rotated} webhook secrets (${report.failed} failed)`);
    return report;
  }
}
