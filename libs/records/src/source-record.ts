import { z } from 'zod';
import { unstorableTextReason } from '#libs/common';

/** api: posted records; mbox: an mbox import; imap: fetched from the workspace's mailbox by a backfill. */
export const RECORD_SOURCES = ['api', 'mbox', 'imap'] as const;
export type RecordSourceName = (typeof RECORD_SOURCES)[number];

/** Every source of a workspace at once: what a backfill reads unless it names one. */
export const ALL_SOURCES = 'all';
/** What a backfill reads: one source, or all of them. */
export const RECORD_SCOPES = [ALL_SOURCES, ...RECORD_SOURCES] as const;
export type RecordScope = (typeof RECORD_SCOPES)[number];

/** The longest body a record may have (UTF-16 code units); mail parsing cuts longer text to this. */
export const MAX_BODY_CHARS = 200_000;
const MAX_RECIPIENTS_CHARS = 10_000;
const MAX_RECIPIENTS = 1_000;

/**
 * The dates a record may carry (sentAt), as UTC years, inclusive. Postgres timestamptz reaches
 * 4713 BC to 294276 AD, JavaScript dates +-275760 years, ISO 8601 years 0000 to 9999: a date past any
 * of them used to fail its whole batch. Mail is not older than 1900 nor dated past 2199; a record
 * outside is refused on its own (INVALID_RECORD) and the rest of its upload is stored.
 */
export const SENT_AT_MIN_YEAR = 1900;
export const SENT_AT_MAX_YEAR = 2199;
const SENT_AT_MIN_MS = Date.UTC(SENT_AT_MIN_YEAR, 0, 1);
const SENT_AT_END_MS = Date.UTC(SENT_AT_MAX_YEAR + 1, 0, 1);

/** Whether `date` is a real date within {@link SENT_AT_MIN_YEAR}..{@link SENT_AT_MAX_YEAR} (UTC). */
export function isSentAtInRange(date: Date): boolean {
  const ms = date.getTime();
  return ms >= SENT_AT_MIN_MS && ms < SENT_AT_END_MS;
}

// Postgres text cannot hold NUL nor a lone surrogate: such a row must be rejected on its own (by
// index), not fail its whole batch; the same rule as every JSON route (unstorableTextReason)
const storable = (field: string) => (text: z.ZodString) =>
  text.superRefine((value, ctx) => {
    const reason = unstorableTextReason(value);
    if (reason) ctx.addIssue({ code: 'custom', message: field ? `${field} ${reason}` : reason });
  });

/**
 * Recipients as one comma-separated text: a string is kept as sent (trimmed: a display name may hold
 * a comma), a list has each entry trimmed, empty ones dropped, the rest joined with ", ".
 */
const recipients = (field: string) =>
  z
    .union(
      [storable(field)(z.string()), z.array(storable('')(z.string())).max(MAX_RECIPIENTS, `${field} must list at most ${MAX_RECIPIENTS} addresses`)],
      { error: `${field} must be a string or a list of strings` },
    )
    .transform((value) =>
      typeof value === 'string'
        ? value.trim()
        : value
            .map((entry) => entry.trim())
            .filter((entry) => entry !== '')
            .join(', '),
    )
    .pipe(z.string().max(MAX_RECIPIENTS_CHARS, `${field} must be at most ${MAX_RECIPIENTS_CHARS} characters`))
    .default('');

/** One record as clients send it (`POST /v1/workspaces/:id/records`). */
export const incomingRecordSchema = z
  .object({
    externalId: storable('externalId')(z.string()).trim().min(1, 'externalId is required').max(512, 'externalId must be at most 512 characters'),
    from: storable('from')(z.string()).trim().max(1_000, 'from must be at most 1000 characters').default(''),
    to: recipients('to'),
    cc: recipients('cc'),
    subject: storable('subject')(z.string()).max(2_000, 'subject must be at most 2000 characters').default(''),
    body: storable('body')(z.string()).max(MAX_BODY_CHARS, `body must be at most ${MAX_BODY_CHARS} characters`),
    sentAt: z.iso
      .datetime({ offset: true, error: 'sentAt must be an ISO 8601 date-time' })
      .transform((s) => new Date(s))
      .refine((date) => !Number.isNaN(date.getTime()), 'sentAt is not a real date')
      .refine(isSentAtInRange, `sentAt must be from ${SENT_AT_MIN_YEAR}-01-01 to ${SENT_AT_MAX_YEAR}-12-31 (UTC)`),
  })
  .strict();

export type IncomingRecord = z.infer<typeof incomingRecordSchema>;

export interface RejectedRecord {
  index: number;
  code: string;
  message: string;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  /** Valid records skipped because their external id was deleted (a tombstone): they stay deleted. */
  deleted: number;
  rejected: RejectedRecord[];
}

/** A stored record as the backfill reads it. */
export interface RecordForExtraction {
  id: string;
  seq: bigint;
  externalId: string;
  fromAddr: string;
  toAddr: string;
  /** '' when the record named no Cc. */
  ccAddr: string;
  subject: string;
  body: string;
  sentAt: Date;
  /**
   * The checkpoint once this record is committed, when its source has its own (a mailbox's folder,
   * UIDVALIDITY and UID); else `seq` is.
   */
  cursorAfter?: string;
}

/** A stored record as `GET /v1/workspaces/:id/records` reads it back, with its place in `seq` order. */
export interface StoredRecord {
  seq: bigint;
  source: RecordSourceName;
  externalId: string;
  fromAddr: string;
  toAddr: string;
  ccAddr: string;
  subject: string;
  body: string;
  sentAt: Date;
}
