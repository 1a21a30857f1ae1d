import { Injectable, Logger } from '@nestjs/common';
import { KeyCipher, type RotationReport } from '#libs/byok';
import { ImapSourceRepository } from './imap-source.repository.js';
import { mailboxContext, sealedMailboxSecretOf } from './mailbox-sources.service.js';

/**
 * Re-seals every mailbox secret (imap_sources) under the active master key version, as
 * KeyRotationService does for provider keys and WebhookSecretRotation for signing secrets
 * (`npm run keys:rotate` runs all three): in batches, with the same additional data (tenant and the
 * workspace's mailbox), each row swapped only if it is unchanged since it was read, so a PUT while
 * it runs is never overwritten.
 */
@Injectable()
export class MailboxSecretRotation {
  private readonly logger = new Logger(MailboxSecretRotation.name);

  constructor(
    private readonly sources: ImapSourceRepository,
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
      const rows = await this.sources.findSecretsToRotate(report.activeVersion, afterId, batchSize);
      if (rows.length === 0) break;
      for (const row of rows) {
        const context = mailboxContext(row.tenantId, row.workspaceId);
        const previous = sealedMailboxSecretOf(row);
        let secret: string;
        try {
          secret = this.cipher.decrypt(previous, context, `The mailbox secret of workspace ${row.workspaceId}`);
        } catch (error) {
          report.failed++;
          // by ids only: the row's content is not logged
          this.logger.error({ tenantId: row.tenantId, workspaceId: row.workspaceId }, (error as Error).message);
          continue;
        }
        if (await this.sources.replaceEnvelope(row.tenantId, row.workspaceId, previous, this.cipher.encrypt(secret, context))) report.rotated++;
        else report.skipped++;
      }
      afterId = rows[rows.length - 1].workspaceId;
    }
    this.logger.log(`Rotated ${report.rotated} mailbox secrets (${report.failed} failed)`);
    return report;
  }
}
