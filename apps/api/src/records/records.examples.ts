import type { RecordsPageView } from './records-read.dto.js';

/** Example answers of the records routes (documentation only; checked against their views at load). */
export const ingestResultExample = {
  accepted: 2,
  duplicates: 1,
  deleted: 0,
  rejected: [{ index: 3, code: 'INVALID_RECORD', message: 'sentAt must be an ISO 8601 date-time' }],
};

export const mboxIngestExample = { accepted: 1, duplicates: 0, deleted: 0, rejected: [] };

export const recordsPageExample: RecordsPageView = {
  items: [
    {
      externalId: 'msg-0001',
      source: 'api',
      from: 'ann@example.com',
      to: 'bob@example.com',
      cc: '',
      subject: 'Kickoff',
      body: 'Ann from Acme met Bob from Globex in Berlin.',
      sentAt: new Date('2025-01-06T09:00:00.000Z'),
    },
  ],
  nextCursor: '128',
};
