import { Logger, Module } from '@nestjs/common';
import { ByokModule } from '#libs/byok';
import { AppConfig } from '#libs/config';
import { EgressModule } from '#libs/egress';
import { parseMail, RecordsModule, SourceRecordRepository } from '#libs/records';
import { TenancyModule } from '#libs/tenancy';
import { ImapConnector } from './imap-connector.js';
import { ImapRecordSource } from './imap-record-source.js';
import { ImapSourceRepository } from './imap-source.repository.js';
import { MailboxSecretRotation } from './mailbox-secret-rotation.service.js';
import { MailboxSources } from './mailbox-sources.service.js';

/**
 * Builds a backfill's source for a workspace's mailbox, parsing with the mbox import's parser (parseMail).
 */
export class MailboxRecordSources {
  private readonly logger = new Logger('MailboxBackfill');

  constructor(
    private readonly mailboxes: MailboxSources,
    private readonly connector: ImapConnector,
    private readonly records: SourceRecordRepository,
    private readonly config: AppConfig,
  ) {}

  forWorkspace(tenantId: string, workspaceId: string): ImapRecordSource {
    return new ImapRecordSource(tenantId, workspaceId, {
      mailboxes: this.mailboxes,
      connector: this.connector,
      records: this.records,
      parse: parseMail,
      maxMessageBytes: this.config.ingest.maxMessageBytes,
      logger: this.logger,
    });
  }
}

/** A workspace's mailbox: its stored connection (sealed secret), tests, and the backfill source that reads it. */
@Module({
  imports: [ByokModule, EgressModule, RecordsModule, TenancyModule],
  providers: [
    ImapSourceRepository,
    ImapConnector,
    MailboxSources,
    MailboxSecretRotation,
    {
      provide: MailboxRecordSources,
      inject: [MailboxSources, ImapConnector, SourceRecordRepository, AppConfig],
      useFactory: (mailboxes: MailboxSources, connector: ImapConnector, records: SourceRecordRepository, config: AppConfig) =>
        new MailboxRecordSources(mailboxes, connector, records, config),
    },
  ],
  exports: [MailboxSources, MailboxRecordSources, MailboxSecretRotation],
})
export class MailboxModule {}
