import { describe, expect, it } from '@jest/globals';
import { ErrorCode } from '#libs/common';
import { RecordIngestService } from './record-ingest.service.js';
import type { IncomingRecord, RecordSourceName } from './source-record.js';
import type { SourceRecordRepository } from './source-record.repository.js';

/** source_records in memory, unique on (workspace, source, externalId) like the table. */
class InMemoryRecords {
  readonly rows = new Map<string, IncomingRecord & { source: RecordSourceName }>();

  insertMany(workspaceId: string, source: RecordSourceName, records: IncomingRecord[]): Promise<number> {
    let inserted = 0;
    for (const record of records) {
      const key = `${workspaceId}/${source}/${record.externalId}`;
      if (this.rows.has(key)) continue;
      this.rows.set(key, { ...record, source });
      inserted++;
    }
    return Promise.resolve(inserted);
  }
}

const record = (externalId: string, extra: Record<string, unknown> = {}) => ({
  externalId,
  from: 'a@example.test',
  to: 'b@example.test',
  subject: `Subject ${externalId}`,
  body: 'Hello',
  sentAt: '2025-01-06T09:00:00Z',
  ...extra,
});

function service() {
  const records = new InMemoryRecords();
  return { records, ingest: new RecordIngestService(records as unknown as SourceRecordRepository) };
}

describe('RecordIngestService.ingest', () => {
  it('takes a JSON array and the { records } form alike', async () => {
    const { ingest, records } = service();
    await expect(ingest.ingest('w', JSON.stringify([record('a'), record('b')]), 'json')).resolves.toEqual({
      accepted: 2,
      duplicates: 0,
      rejected: [],
    });
    await expect(ingest.ingest('w', JSON.stringify({ records: [record('c')] }), 'json')).resolves.toEqual({
      accepted: 1,
      duplicates: 0,
      rejected: [],
    });
    expect([...records.rows.values()].map((r) => r.source)).toEqual(['api', 'api', 'api']);
    expect(records.rows.get('w/api/a')?.sentAt).toEqual(new Date('2025-01-06T09:00:00Z'));
  });

  it('defaults from, to and subject, and trims ids and addresses', async () => {
    const { ingest, records } = service();
    await ingest.ingest('w', JSON.stringify([{ externalId: '  x  ', from: ' a@b.c ', body: 'b', sentAt: '2025-01-06T10:00:00+01:00' }]), 'json');
    expect(records.rows.get('w/api/x')).toEqual({
      externalId: 'x',
      from: 'a@b.c',
      to: '',
      cc: '',
      subject: '',
      body: 'b',
      sentAt: new Date('2025-01-06T09:00:00Z'),
      source: 'api',
    });
  });

  it('reports each bad row by index while storing the good ones', async () => {
    const { ingest, records } = service();
    const rows = [
      record('good-1'),
      record('', {}),
      { ...record('no-id'), externalId: undefined },
      record('bad-date', { sentAt: '2025-02-30T00:00:00Z' }),
      record('extra', { bcc: 'x@example.test' }),
      record('nul', { body: 'a\u0000b' }),
      42,
      record('good-2'),
    ];
    const result = await ingest.ingest('w', JSON.stringify(rows), 'json');
    expect(result).toEqual({
      accepted: 2,
      duplicates: 0,
      rejected: [
        { index: 1, code: ErrorCode.InvalidRecord, message: 'externalId is required' },
        { index: 2, code: ErrorCode.InvalidRecord, message: 'externalId is required' },
        { index: 3, code: ErrorCode.InvalidRecord, message: 'sentAt must be an ISO 8601 date-time' },
        { index: 4, code: ErrorCode.InvalidRecord, message: 'Unrecognized key: "bcc"' },
        { index: 5, code: ErrorCode.InvalidRecord, message: 'body must not contain NUL (U+0000) characters' },
        { index: 6, code: ErrorCode.InvalidRecord, message: 'a record must be a JSON object' },
      ],
    });
    expect([...records.rows.keys()]).toEqual(['w/api/good-1', 'w/api/good-2']);
  });

  it('counts a re-sent externalId as a duplicate, also within one request', async () => {
    const { ingest } = service();
    await ingest.ingest('w', JSON.stringify([record('a')]), 'json');
    await expect(ingest.ingest('w', JSON.stringify([record('a'), record('b'), record('b')]), 'json')).resolves.toEqual({
      accepted: 1,
      duplicates: 2,
      rejected: [],
    });
  });

  it('reads NDJSON with CRLF, blank lines and a byte order mark; a malformed line is rejected on its own', async () => {
    const { ingest } = service();
    const payload = `\uFEFF${JSON.stringify(record('a'))}\r\n\r\n{"externalId": \r\n${JSON.stringify(record('b'))}\n`;
    await expect(ingest.ingest('w', payload, 'ndjson')).resolves.toEqual({
      accepted: 2,
      duplicates: 0,
      rejected: [{ index: 1, code: ErrorCode.InvalidRecord, message: 'line 3 is not valid JSON' }],
    });
  });

  it.each([
    ['malformed JSON', '[{"externalId": ', ErrorCode.MalformedJson],
    ['an object without records', '{"items": []}', ErrorCode.ValidationFailed],
    ['records beside other keys', '{"records": [], "extra": 1}', ErrorCode.ValidationFailed],
    ['a JSON string', '"records"', ErrorCode.ValidationFailed],
  ])('refuses %s as a whole', async (_, payload, code) => {
    const { ingest, records } = service();
    await expect(ingest.ingest('w', payload, 'json')).rejects.toMatchObject({ code });
    expect(records.rows.size).toBe(0);
  });
});

describe('RecordIngestService.importMbox', () => {
  const mbox = [
    'From a@example.test Mon Jan  6 09:00:00 2025',
    'Message-ID: <m1@example.test>',
    'Date: Mon, 06 Jan 2025 09:00:00 +0000',
    'Subject: first',
    '',
    'Hello',
    '',
    'From b@example.test Mon Jan  6 09:00:00 2025',
    'Message-ID: <m2@example.test>',
    'Subject: undated',
    '',
    'No date',
    '',
  ].join('\n');

  it('stores parsed messages with source mbox and reports unusable ones by index', async () => {
    const { ingest, records } = service();
    await expect(ingest.importMbox('w', Buffer.from(mbox))).resolves.toEqual({
      accepted: 1,
      duplicates: 0,
      rejected: [{ index: 1, code: ErrorCode.InvalidRecord, message: 'message has no valid Date header' }],
    });
    expect(records.rows.get('w/mbox/<m1@example.test>')).toMatchObject({ subject: 'first', body: 'Hello', source: 'mbox' });
    await expect(ingest.importMbox('w', Buffer.from(mbox))).resolves.toMatchObject({ accepted: 0, duplicates: 1 });
  });

  it.each([
    ['an empty upload', ''],
    ['a JSON document', '[{"externalId": "x"}]'],
  ])('refuses %s as INVALID_MBOX', async (_, upload) => {
    const { ingest } = service();
    await expect(ingest.importMbox('w', Buffer.from(upload))).rejects.toMatchObject({ code: ErrorCode.InvalidMbox });
  });
});
