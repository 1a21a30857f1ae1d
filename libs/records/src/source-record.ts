import { z } from 'zod';

export const RECORD_SOURCES = ['api', 'mbox'] as const;
export type RecordSourceName = (typeof RECORD_SOURCES)[number];

/** The longest body a record may have (UTF-16 code units); mail parsing cuts longer text to this. */
export const MAX_BODY_CHARS = 200_000;

// Postgres text cannot hold NUL: such a row must be rejected on its own, not fail its whole batch
const noNul = (field: string) => [(s: string) => !s.includes('\u0000'), `${field} must not contain NUL characters`] as const;

/** One record as clients send it (`POST /v1/workspaces/:id/records`). */
export const incomingRecordSchema = z
  .object({
    externalId: z
      .string()
      .trim()
      .min(1, 'externalId is required')
      .max(512, 'externalId must be at most 512 characters')
      .refine(...noNul('externalId')),
    from: z
      .string()
      .trim()
      .max(1_000, 'from must be at most 1000 characters')
      .refine(...noNul('from'))
      .default(''),
    to: z
      .string()
      .trim()
      .max(10_000, 'to must be at most 10000 characters')
      .refine(...noNul('to'))
      .default(''),
    subject: z
      .string()
      .max(2_000, 'subject must be at most 2000 characters')
      .refine(...noNul('subject'))
      .default(''),
    body: z
      .string()
      .max(MAX_BODY_CHARS, `body must be at most ${MAX_BODY_CHARS} characters`)
      .refine(...noNul('body')),
    sentAt: z.iso.datetime({ offset: true, error: 'sentAt must be an ISO 8601 date-time' }).transform((s) => new Date(s)),
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
  rejected: RejectedRecord[];
}

/** A stored record as the backfill reads it. */
export interface RecordForExtraction {
  id: string;
  seq: bigint;
  externalId: string;
  fromAddr: string;
  toAddr: string;
  subject: string;
  body: string;
  sentAt: Date;
}
