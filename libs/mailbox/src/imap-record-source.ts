import type { Logger } from '@nestjs/common';
import type { ImapFlow } from 'imapflow';
import { type IncomingRecord, type RecordForExtraction, type RecordPage, type RecordSource, SourceRecordRepository } from '#libs/records';
import type { ImapConnector } from './imap-connector.js';
import { ImapFolderNotFoundError, ImapUnavailableError } from './mailbox.errors.js';

/** How often a folder's UIDVALIDITY may change during one run before the run gives up on it. */
const MAX_UIDVALIDITY_RESTARTS = 2;
import type { MailboxSources, OpenedMailbox } from './mailbox-sources.service.js';

/**
 * Where a mailbox backfill stands: the folder (index into the source's folders), its UIDVALIDITY
 * and the last UID committed (RFC 3501 2.3.1.1: a UID is valid only with its folder's UIDVALIDITY).
 */
export interface MailboxCheckpoint {
  f: number;
  v: string | null;
  u: number;
}

/** The checkpoint in a backfill's cursor (JSON); the start when there is none or it is not one. */
export function parseMailboxCheckpoint(cursor: string | null): MailboxCheckpoint {
  if (!cursor) return { f: 0, v: null, u: 0 };
  try {
    const value = JSON.parse(cursor) as Partial<MailboxCheckpoint>;
    if (
      Number.isInteger(value.f) &&
      value.f! >= 0 &&
      Number.isInteger(value.u) &&
      value.u! >= 0 &&
      (value.v === null || typeof value.v === 'string')
    ) {
      return { f: value.f!, v: value.v ?? null, u: value.u! };
    }
  } catch {
    // a cursor of another source: start over (messages already stored are not stored twice)
  }
  return { f: 0, v: null, u: 0 };
}

/** A message of a page: its UID and RFC822.SIZE, and its source and INTERNALDATE unless it was too large to fetch. */
interface FetchedMessage {
  uid: number;
  size: number;
  raw?: Buffer;
  receivedAt?: Date;
}

/** What ImapRecordSource needs besides the mailbox. */
export interface ImapRecordSourceDeps {
  mailboxes: MailboxSources;
  connector: ImapConnector;
  records: SourceRecordRepository;
  /** Parses one RFC 5322 message (libs/records' mail parser, the mbox import's): one code path for both. */
  parse: (raw: Buffer, index: number, receivedAt?: Date) => Promise<{ record?: IncomingRecord; error?: string; code?: string }>;
  /** The largest message fetched (bytes, MBOX_MAX_MESSAGE_BYTES): a larger one is skipped without being downloaded. */
  maxMessageBytes: number;
  logger: Logger;
}

/**
 * A backfill's source that reads the workspace's mailbox: per folder, the messages after the last
 * committed UID, in UID order, a page at a time (UID SEARCH, then sizes, then each message's source
 * with UID FETCH); each parsed by the mail parser of the mbox import and stored idempotently in
 * source_records (`imap`, keyed by Message-ID, else by the SHA-256 of the message, which unlike
 * folder + UIDVALIDITY + UID survives a UIDVALIDITY change) before it is extracted. A changed UIDVALIDITY starts that folder again (its messages are not stored twice). A
 * dropped connection is reconnected (ImapConnector's retries), so a page either comes back whole
 * or fails IMAP_UNAVAILABLE. One connection per run; messages are held one page at a time.
 */
export class ImapRecordSource implements RecordSource {
  readonly name = 'imap' as const;
  private client: ImapFlow | undefined;
  private mailbox: OpenedMailbox | undefined;
  // external ids this run already handed out: a message in two folders is extracted once
  private readonly handedOut = new Set<string>();
  // how often each folder's UIDVALIDITY changed during this run
  private readonly restarts = new Map<string, number>();

  constructor(
    private readonly tenantId: string,
    private readonly workspaceId: string,
    private readonly deps: ImapRecordSourceDeps,
  ) {}

  /**
   * Opens the mailbox and logs in before any message is fetched; a refused login marks it invalid.
   * @throws ImapSourceNotFoundError, ImapAuthFailedError, ImapTlsFailedError, ImapUnavailableError, EgressRefusedError
   */
  async open(): Promise<void> {
    this.mailbox = await this.deps.mailboxes.open(this.tenantId, this.workspaceId);
    this.client = await this.deps.mailboxes.loggedIn(this.mailbox);
    await this.deps.mailboxes.recordStatus(this.mailbox, 'valid', null);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.logout().catch(() => client.close());
  }

  /**
   * The next page after `cursor` (a MailboxCheckpoint): at most `limit` messages and, by their
   * RFC822.SIZE, about `maxBytes`, but at least one message when any is left; none when every folder is read.
   * @throws ImapFolderNotFoundError, ImapUnavailableError (after the retries), ImapAuthFailedError (the password changed meanwhile)
   */
  async fetchPage(cursor: string | null, limit: number, maxBytes: number): Promise<RecordPage> {
    const mailbox = this.mailbox ?? (await this.deps.mailboxes.open(this.tenantId, this.workspaceId));
    this.mailbox = mailbox;
    let at = parseMailboxCheckpoint(cursor);
    while (at.f < mailbox.folders.length) {
      const folder = mailbox.folders[at.f];
      const batch = await this.withConnection((client) => this.readBatch(client, folder, at, limit, maxBytes));
      if (batch.uidValidity !== at.v && at.v !== null) {
        // a server that renumbers a folder again and again would have the run read it forever
        const restarts = (this.restarts.get(folder) ?? 0) + 1;
        this.restarts.set(folder, restarts);
        if (restarts > MAX_UIDVALIDITY_RESTARTS) throw new ImapUnavailableError(mailbox.host, `the UIDVALIDITY of folder "${folder}" keeps changing`);
        this.deps.logger.warn(
          { workspaceId: this.workspaceId, folder, before: at.v, now: batch.uidValidity },
          'The folder UIDVALIDITY changed: reading the folder again from its first message (messages already stored are not stored twice)',
        );
        at = { f: at.f, v: batch.uidValidity, u: 0 };
        continue;
      }
      if (batch.messages.length === 0) {
        // UIDs that vanished between SEARCH and FETCH (expunged) are passed over, not the rest of the folder
        at = batch.searchedTo > at.u ? { f: at.f, v: batch.uidValidity, u: batch.searchedTo } : { f: at.f + 1, v: null, u: 0 };
        continue;
      }
      const lastUid = batch.messages.at(-1)!.uid;
      const records = await this.store(folder, batch.uidValidity, at.f, batch.messages);
      at = { f: at.f, v: batch.uidValidity, u: lastUid };
      // every message of the batch was skipped (too large, unparsable, deleted, seen): read on
      if (records.length === 0) continue;
      return { records, nextCursor: JSON.stringify(at) };
    }
    return { records: [], nextCursor: null };
  }

  /** The folder's UIDVALIDITY and the page's messages after `at.u`, their sources fetched unless too large. */
  private async readBatch(client: ImapFlow, folder: string, at: MailboxCheckpoint, limit: number, maxBytes: number) {
    const lock = await client.getMailboxLock(folder, { readOnly: true }).catch((error: unknown) => {
      // only a folder the server says is not there; any other refusal (NO [UNAVAILABLE]) is worth another try
      if ((error as { mailboxMissing?: boolean }).mailboxMissing) throw new ImapFolderNotFoundError(folder);
      throw error;
    });
    try {
      const opened = client.mailbox;
      const uidValidity = opened ? String(opened.uidValidity) : '';
      if (at.v !== null && uidValidity !== at.v) return { uidValidity, messages: [], searchedTo: at.u };
      const uids = await this.uidsAfter(client, at.u, opened ? Number(opened.uidNext) : 0, limit);
      if (uids.length === 0) return { uidValidity, messages: [], searchedTo: at.u };
      const chosen = uids.slice(0, limit);
      const sizes = new Map<number, number>();
      for await (const message of client.fetch(chosen.join(','), { uid: true, size: true }, { uid: true })) sizes.set(message.uid, message.size ?? 0);
      const messages: FetchedMessage[] = [];
      let bytes = 0;
      for (const uid of chosen) {
        const size = sizes.get(uid);
        if (size === undefined) continue; // expunged between SEARCH and FETCH
        if (messages.length > 0 && bytes + size > maxBytes) break;
        bytes += size;
        messages.push({ uid, size });
      }
      const wanted = messages.filter((m) => m.size <= this.deps.maxMessageBytes).map((m) => m.uid);
      if (wanted.length > 0) {
        const fetched = new Map<number, { source?: Buffer; internalDate?: Date | string }>();
        for await (const message of client.fetch(wanted.join(','), { uid: true, source: true, internalDate: true }, { uid: true })) {
          fetched.set(message.uid, message);
        }
        for (const message of messages) {
          const got = fetched.get(message.uid);
          message.raw = got?.source;
          if (got?.internalDate) message.receivedAt = new Date(got.internalDate);
        }
      }
      return { uidValidity, messages, searchedTo: chosen.at(-1)! };
    } finally {
      lock.release();
    }
  }

  /**
   * At least `limit` UIDs after `after` (all there are when fewer), ascending. Searched in windows of
   * UIDs that double from twice the page (up to UIDNEXT), so a page of a large folder asks for a few
   * hundred UIDs, not for every UID left in it.
   */
  private async uidsAfter(client: ImapFlow, after: number, uidNext: number, limit: number): Promise<number[]> {
    const since = this.mailbox?.since ?? undefined;
    const found: number[] = [];
    let from = after + 1;
    let window = Math.max(2 * limit, 256);
    // without a UIDNEXT (a server that sent none), one open-ended search
    const last = uidNext > 0 ? uidNext - 1 : Number.POSITIVE_INFINITY;
    while (found.length < limit && from <= last) {
      const to = Number.isFinite(last) ? Math.min(from + window - 1, last) : undefined;
      const hits = await client.search({ uid: to === undefined ? `${from}:*` : `${from}:${to}`, ...(since ? { since } : {}) }, { uid: true });
      // imapflow answers a refused SEARCH (NO [UNAVAILABLE] of a throttling server) with false: not an empty folder
      if (!hits) throw new Error('the server refused the search');
      // `n:*` names the last message even when its UID is below n (RFC 3501 6.4.8)
      found.push(...hits.filter((uid) => uid > after));
      if (to === undefined) break;
      from = to + 1;
      window *= 2;
    }
    return [...new Set(found)].sort((a, b) => a - b);
  }

  /** Parses and stores a batch; the records to extract, each with the checkpoint after it. */
  private async store(folder: string, uidValidity: string, folderIndex: number, messages: FetchedMessage[]) {
    const parsed: { uid: number; record: IncomingRecord }[] = [];
    for (const message of messages) {
      if (!message.raw) {
        this.deps.logger.warn(
          { workspaceId: this.workspaceId, folder, uid: message.uid, bytes: message.size },
          'Mailbox message skipped: larger than MBOX_MAX_MESSAGE_BYTES',
        );
        continue;
      }
      // the server's INTERNALDATE stands in for a missing or broken Date header, as an mbox's postmark does
      const result = await this.deps.parse(message.raw, message.uid, message.receivedAt);
      if (!result.record) {
        this.deps.logger.warn(
          { workspaceId: this.workspaceId, folder, uid: message.uid, code: result.code },
          'Mailbox message skipped: it could not become a record',
        );
        continue;
      }
      parsed.push({ uid: message.uid, record: result.record });
    }
    const stored = await this.deps.records.storeFetched(
      this.workspaceId,
      'imap',
      parsed.map((p) => p.record),
    );
    const records: RecordForExtraction[] = [];
    for (const { uid, record } of parsed) {
      const row = stored.get(record.externalId);
      // a tombstoned (deleted) record is not stored again; one handed out earlier in this run is not extracted twice
      if (!row || this.handedOut.has(record.externalId)) continue;
      this.handedOut.add(record.externalId);
      records.push({ ...row, cursorAfter: JSON.stringify({ f: folderIndex, v: uidValidity, u: uid } satisfies MailboxCheckpoint) });
    }
    return records;
  }

  /** Runs `read` on the open connection, reconnecting (with ImapConnector's retries) when it dropped. */
  private async withConnection<T>(read: (client: ImapFlow) => Promise<T>): Promise<T> {
    const mailbox = this.mailbox!;
    return this.deps.connector.withRetries(mailbox, async () => {
      if (!this.client || !this.client.usable) {
        this.client?.close();
        this.client = await this.deps.mailboxes.loggedIn(mailbox, true);
      }
      try {
        return await read(this.client);
      } catch (error) {
        if (error instanceof ImapFolderNotFoundError) throw error;
        // whatever broke, the next try starts on a fresh connection
        this.client?.close();
        this.client = undefined;
        throw error;
      }
    });
  }
}
