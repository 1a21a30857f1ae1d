import { Injectable } from '@nestjs/common';
import { last4Of, ValidationFailedError } from '#libs/common';
import { AppConfig } from '#libs/config';
import { KeyCipher, KeyFingerprinter, type SealedSecret, settingContext } from '#libs/byok';
import { type ImapSource, TransactionService } from '#libs/database';
import { EgressPolicy } from '#libs/egress';
import { AuditLog, type RequestActor } from '#libs/tenancy';
import { type ImapAuthMethod, ImapConnector, type ImapTlsMode, type MailboxAccess } from './imap-connector.js';
import { ImapSourceRepository, type ImapSourceStatus } from './imap-source.repository.js';
import { ImapAuthFailedError, ImapFolderNotFoundError, ImapSourceNotFoundError, ImapUnavailableError } from './mailbox.errors.js';

/** A mailbox as the API takes it; `secret` (a password or an OAuth2 access token) may be left out to keep the stored one. */
export interface MailboxInput {
  host: string;
  port: number;
  tlsMode: ImapTlsMode;
  username: string;
  authMethod: ImapAuthMethod;
  secret?: string;
  folders: string[];
  /** Only messages on or after this day (UTC). */
  since?: Date | null;
}

/** A mailbox as the outside world may see it: the secret as its last four and fingerprint only. */
export interface MaskedMailbox {
  workspaceId: string;
  host: string;
  port: number;
  tlsMode: ImapTlsMode;
  username: string;
  authMethod: ImapAuthMethod;
  secretLast4: string | null;
  secretFingerprint: string;
  folders: string[];
  since: Date | null;
  status: ImapSourceStatus;
  statusCode: string | null;
  checkedAt: Date | null;
  updatedAt: Date;
}

/** A mailbox opened for a connection: its access (the secret in clear) and what a backfill reads. */
export interface OpenedMailbox extends MailboxAccess {
  workspaceId: string;
  tenantId: string;
  folders: string[];
  since: Date | null;
  fingerprint: string;
}

/** What a connection test found: each folder's message count and UIDVALIDITY. */
export interface MailboxTest {
  status: 'valid';
  folders: { name: string; messages: number; uidValidity: string }[];
}

/** The additional data a mailbox's secret is sealed with: the tenant and the workspace's mailbox setting. */
export function mailboxContext(tenantId: string, workspaceId: string): string {
  return settingContext(tenantId, `IMAP_SOURCE:${workspaceId}`);
}

/**
 * A workspace's mailbox (imap_sources): stored with its secret sealed exactly as provider keys are
 * (KeyCipher, AAD bound to tenant and the workspace's mailbox setting, fingerprint and last4 for
 * display), tested on demand, opened for a backfill. The tenant id first in every method; the caller
 * resolved the workspace in its scope.
 */
@Injectable()
export class MailboxSources {
  constructor(
    private readonly sources: ImapSourceRepository,
    private readonly cipher: KeyCipher,
    private readonly fingerprinter: KeyFingerprinter,
    private readonly transactions: TransactionService,
    private readonly audit: AuditLog,
    private readonly egress: EgressPolicy,
    private readonly connector: ImapConnector,
    private readonly config: AppConfig,
  ) {}

  /**
   * Creates or replaces the workspace's mailbox; its verdict starts over. With an `actor`, the
   * `imap_source.put` audit row (fingerprints and last4 before and after) commits with it.
   * @throws ValidationFailedError (no secret for a new mailbox, plain text not allowed), EgressRefusedError (the host)
   */
  async put(tenantId: string, workspaceId: string, input: MailboxInput, actor?: RequestActor): Promise<MaskedMailbox> {
    const host = this.egress.checkHost(input.host);
    if (input.tlsMode === 'none' && !this.config.imap.allowPlaintext) {
      throw new ValidationFailedError('tlsMode none (no TLS) is not allowed on this server: use implicit or starttls');
    }
    const row = await this.transactions.run(async (tx) => {
      const before = await this.sources.find(tenantId, workspaceId, tx);
      const sealed = input.secret === undefined ? before && keptSecret(before) : this.seal(tenantId, workspaceId, input.secret);
      if (!sealed) throw new ValidationFailedError('secret is required when the workspace has no mailbox yet');
      const after = await this.sources.upsert(
        tenantId,
        workspaceId,
        {
          host,
          port: input.port,
          tlsMode: input.tlsMode,
          username: input.username,
          authMethod: input.authMethod,
          folders: distinctFolders(input.folders),
          since: input.since ?? null,
          ...sealed,
        },
        tx,
      );
      if (actor) {
        await this.audit.record(
          tenantId,
          actor,
          {
            action: 'imap_source.put',
            before: before && { fingerprint: before.secretFingerprint, last4: before.secretLast4 },
            after: { fingerprint: after.secretFingerprint, last4: after.secretLast4 },
            details: { workspaceId, host, port: input.port, tlsMode: input.tlsMode, authMethod: input.authMethod },
          },
          tx,
        );
      }
      return after;
    });
    return mask(row);
  }

  /** @throws ImapSourceNotFoundError */
  async get(tenantId: string, workspaceId: string): Promise<MaskedMailbox> {
    const row = await this.sources.find(tenantId, workspaceId);
    if (!row) throw new ImapSourceNotFoundError(workspaceId);
    return mask(row);
  }

  /** @throws ImapSourceNotFoundError */
  async delete(tenantId: string, workspaceId: string, actor?: RequestActor): Promise<void> {
    const deleted = await this.transactions.run(async (tx) => {
      const before = await this.sources.delete(tenantId, workspaceId, tx);
      if (before && actor) {
        await this.audit.record(
          tenantId,
          actor,
          { action: 'imap_source.delete', before: { fingerprint: before.secretFingerprint, last4: before.secretLast4 }, details: { workspaceId } },
          tx,
        );
      }
      return before;
    });
    if (!deleted) throw new ImapSourceNotFoundError(workspaceId);
  }

  /**
   * The mailbox with its secret opened, for a connection.
   * @throws ImapSourceNotFoundError, KeyDecryptionFailedError (a tampered row)
   */
  async open(tenantId: string, workspaceId: string): Promise<OpenedMailbox> {
    const row = await this.sources.find(tenantId, workspaceId);
    if (!row) throw new ImapSourceNotFoundError(workspaceId);
    const secret = this.cipher.decrypt(
      sealedMailboxSecretOf(row),
      mailboxContext(tenantId, workspaceId),
      `The mailbox secret of workspace ${workspaceId}`,
    );
    return {
      tenantId,
      workspaceId,
      host: row.host,
      port: row.port,
      tlsMode: row.tlsMode as ImapTlsMode,
      username: row.username,
      authMethod: row.authMethod as ImapAuthMethod,
      secret,
      folders: row.folders,
      since: row.since,
      fingerprint: row.secretFingerprint,
    };
  }

  /**
   * Logs in and reads each folder's STATUS (no message is fetched), and records the verdict: `valid`,
   * or `invalid` after a refused login. An unreachable server or a TLS failure is no verdict on the
   * credentials and leaves the status as it was.
   * @throws ImapSourceNotFoundError, ImapAuthFailedError, ImapTlsFailedError, ImapUnavailableError, ImapFolderNotFoundError, EgressRefusedError
   */
  async test(tenantId: string, workspaceId: string): Promise<MailboxTest> {
    const mailbox = await this.open(tenantId, workspaceId);
    const client = await this.loggedIn(mailbox);
    try {
      const folders: MailboxTest['folders'] = [];
      for (const name of mailbox.folders) {
        const status = await client.status(name, { messages: true, uidValidity: true }).catch((error: unknown) => {
          // imapflow has LIST confirm a refused STATUS is a folder that is not there (code NotFound)
          const missing = error as { code?: string; mailboxMissing?: boolean };
          if (missing.code === 'NotFound' || missing.mailboxMissing) throw new ImapFolderNotFoundError(name);
          throw this.connector.classify(error, mailbox);
        });
        // false: the STATUS failed some other way (a dropped connection, a throttling NO)
        if (!status) throw new ImapUnavailableError(mailbox.host, `the server did not answer the status of folder "${name}"`);
        folders.push({ name, messages: status.messages ?? 0, uidValidity: String(status.uidValidity ?? '') });
      }
      await this.recordStatus(mailbox, 'valid', null);
      return { status: 'valid', folders };
    } finally {
      await client.logout().catch(() => client.close());
    }
  }

  /**
   * A logged-in connection to the mailbox (retried while the server is unreachable); a refused login
   * marks the mailbox `invalid` before it is thrown. `once`: a single try (see ImapConnector.connect).
   * @throws ImapAuthFailedError, ImapTlsFailedError, ImapUnavailableError, EgressRefusedError
   */
  async loggedIn(mailbox: OpenedMailbox, once = false) {
    try {
      return await this.connector.connect(mailbox, once);
    } catch (error) {
      if (error instanceof ImapAuthFailedError) await this.recordStatus(mailbox, 'invalid', error.code);
      throw error;
    }
  }

  /** Records a verdict for the mailbox's current secret (a secret replaced meanwhile keeps its own). */
  async recordStatus(mailbox: OpenedMailbox, status: ImapSourceStatus, code: string | null): Promise<void> {
    await this.sources.recordStatus(mailbox.tenantId, mailbox.workspaceId, mailbox.fingerprint, status, code, new Date());
  }

  private seal(tenantId: string, workspaceId: string, secret: string) {
    const sealed = this.cipher.encrypt(secret, mailboxContext(tenantId, workspaceId));
    return {
      secretCiphertext: sealed.ciphertext,
      secretIv: sealed.iv,
      secretAuthTag: sealed.authTag,
      secretKeyVersion: sealed.keyVersion,
      secretFingerprint: this.fingerprinter.fingerprint(secret),
      secretLast4: last4Of(secret),
    };
  }
}

/**
 * The folders in order, each once: INBOX is case-insensitive (RFC 3501 5.1), so `inbox` or `Inbox`
 * is INBOX and would otherwise be read twice; every other name is case-sensitive.
 */
function distinctFolders(folders: string[]): string[] {
  return [...new Set(folders.map((name) => (name.toUpperCase() === 'INBOX' ? 'INBOX' : name)))];
}

/** The envelope of a mailbox row's secret, as KeyCipher opens it. */
export function sealedMailboxSecretOf(row: ImapSource): SealedSecret {
  return { ciphertext: row.secretCiphertext, iv: row.secretIv, authTag: row.secretAuthTag, keyVersion: row.secretKeyVersion };
}

function keptSecret(row: ImapSource) {
  return {
    secretCiphertext: row.secretCiphertext,
    secretIv: row.secretIv,
    secretAuthTag: row.secretAuthTag,
    secretKeyVersion: row.secretKeyVersion,
    secretFingerprint: row.secretFingerprint,
    secretLast4: row.secretLast4,
  };
}

function mask(row: ImapSource): MaskedMailbox {
  return {
    workspaceId: row.workspaceId,
    host: row.host,
    port: row.port,
    tlsMode: row.tlsMode as ImapTlsMode,
    username: row.username,
    authMethod: row.authMethod as ImapAuthMethod,
    secretLast4: row.secretLast4,
    secretFingerprint: row.secretFingerprint,
    folders: row.folders,
    since: row.since,
    status: row.status as ImapSourceStatus,
    statusCode: row.statusCode,
    checkedAt: row.checkedAt,
    updatedAt: row.updatedAt,
  };
}
