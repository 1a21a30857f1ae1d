import { z } from 'zod';
import { RECORD_SOURCES, RECORDS_PAGE_DEFAULT_LIMIT, RECORDS_PAGE_MAX_LIMIT, type StoredRecord } from '#libs/records';
import { pageLimit, seqCursor } from '../http/page-query.js';

export const recordsQuery = z.strictObject({
  cursor: seqCursor(),
  limit: pageLimit(RECORDS_PAGE_MAX_LIMIT, RECORDS_PAGE_DEFAULT_LIMIT, 'Records'),
  source: z
    .enum(RECORD_SOURCES, { error: `source must be one of ${RECORD_SOURCES.join(', ')}` })
    .optional()
    .meta({ description: 'Only the records of this source (default: every source)' }),
});
export type RecordsQuery = z.output<typeof recordsQuery>;

const recordView = z.object({
  externalId: z.string(),
  source: z.enum(RECORD_SOURCES),
  from: z.string(),
  to: z.string().meta({ description: 'Recipients as one comma-separated text', example: 'bob@example.com, carol@example.com' }),
  cc: z.string().meta({ description: "Cc recipients as one comma-separated text; '' when none" }),
  subject: z.string(),
  body: z.string(),
  sentAt: z.date(),
});
export type RecordView = z.output<typeof recordView>;

export const recordsPageView = z.object({
  items: z.array(recordView).meta({ description: 'In the order they were stored' }),
  nextCursor: z.string().nullable().meta({ description: 'Pass as cursor for the next page; null on the last one' }),
});
export type RecordsPageView = z.output<typeof recordsPageView>;

export function toRecordView(record: StoredRecord): RecordView {
  return {
    externalId: record.externalId,
    source: record.source,
    from: record.fromAddr,
    to: record.toAddr,
    cc: record.ccAddr,
    subject: record.subject,
    body: record.body,
    sentAt: record.sentAt,
  };
}
