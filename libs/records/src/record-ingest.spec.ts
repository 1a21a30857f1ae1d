import { describe, expect, it } from '@jest/globals';
import { ErrorCode } from '#libs/common';
import type { AppConfig, IngestLimits } from '#libs/config';
import { RecordIngestService } from './record-ingest.service.js';
import type { IncomingRecord, RecordSourceName } from './source-record.js';
import type { SourceRecordRepository } from './source-record.repository.js';

/** source_records in memory, unique on (workspace, source, externalId) like the table. */
class InMemoryRecords {
  readonly rows = new Map<string, IncomingRecord & { source: RecordSourceName }>();

  insertMany(workspaceId: string, source: RecordSourceName, records: IncomingRecord[]): Promise<{ inserted: number; tombstoned: number }> {
    let inserted = 0;
    for (const record of records) {
      const key = `${workspaceId}/${source}/${record.externalId}`;
      if (this.rows.has(key)) continue;
      this.rows.set(key, { ...record, source });
      inserted++;
    }
    return Promise.resolve({ inserted, tombstoned: 0 });
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

const LIMITS: IngestLimits = {
  maxUploadBytes: 1024 * 1024,
  maxDecodedBytes: 1024 * 1024,
  maxRecords: 100,
  maxRecordBytes: 4096,
  maxDepth: 8,
  maxMessageBytes: 4096,
  maxMessageLines: 1_000,
  maxConcurrentUploads: 1,
  idleTimeoutMs: 5_000,
};

function service(limits: Partial<IngestLimits> = {}) {
  const records = new InMemoryRecords();
  const config = { ingest: { ...LIMITS, ...limits } } as AppConfig;
  return { records, ingest: new RecordIngestService(records as unknown as SourceRecordRepository, config) };
}

/** `text` cut into chunks of `size` bytes, as a socket might hand it over (a character may be split). */
function chunked(text: string, size: number): Buffer[] {
  const bytes = Buffer.from(text);
  return Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
}

describe('RecordIngestService.ingest', () => {
  it('takes a JSON array and the { records } form alike', async () => {
    const { ingest, records } = service();
    await expect(ingest.ingest('w', JSON.stringify([record('a'), record('b')]), 'json')).resolves.toEqual({
      accepted: 2,
      duplicates: 0,
      deleted: 0,
      rejected: [],
    });
    await expect(ingest.ingest('w', JSON.stringify({ records: [record('c')] }), 'json')).resolves.toEqual({
      accepted: 1,
      duplicates: 0,
      deleted: 0,
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
      deleted: 0,
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
      deleted: 0,
      rejected: [],
    });
  });

  it('reads NDJSON with CRLF, blank lines and a byte order mark; a malformed line is rejected on its own', async () => {
    const { ingest } = service();
    const payload = `\uFEFF${JSON.stringify(record('a'))}\r\n\r\n{"externalId": \r\n${JSON.stringify(record('b'))}\n`;
    await expect(ingest.ingest('w', payload, 'ndjson')).resolves.toEqual({
      accepted: 2,
      duplicates: 0,
      deleted: 0,
      rejected: [{ index: 1, code: ErrorCode.InvalidRecord, message: 'line 3 is not valid JSON' }],
    });
  });

  it('rejects an NDJSON line of bytes that are not UTF-8 on its own, as a JSON array upload refuses them, never storing U+FFFD', async () => {
    const { ingest, records } = service();
    const payload = Buffer.concat([
      Buffer.from(`${JSON.stringify(record('a'))}\n{"externalId":"b","body":"caf`),
      Buffer.from([0xff]),
      Buffer.from(`","sentAt":"2025-01-06T09:00:00Z"}\n${JSON.stringify(record('c'))}\n`),
    ]);
    await expect(ingest.ingest('w', [payload], 'ndjson')).resolves.toEqual({
      accepted: 2,
      duplicates: 0,
      deleted: 0,
      rejected: [{ index: 1, code: ErrorCode.InvalidRecord, message: 'line 2 is not valid UTF-8' }],
    });
    expect([...records.rows.keys()].join(' ')).not.toContain('\uFFFD');
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

describe('RecordIngestService.ingest caps, enforced while reading', () => {
  /** Chunks that count how many were taken, so a test sees the read stop at the cap. */
  function counted(chunks: Buffer[]) {
    const state = { taken: 0 };
    function* source() {
      for (const chunk of chunks) {
        state.taken++;
        yield chunk;
      }
    }
    return { state, source: source() };
  }

  it('parses records split anywhere across chunks, multi-byte characters included', async () => {
    const { ingest, records } = service();
    const rows = [record('é-1', { body: 'naïve café ✓ 😀' }), record('é-2')];
    await expect(ingest.ingest('w', chunked(JSON.stringify({ records: rows }), 3), 'json')).resolves.toMatchObject({ accepted: 2 });
    await expect(ingest.ingest('w', chunked(rows.map((r) => JSON.stringify(r)).join('\n'), 5), 'ndjson')).resolves.toMatchObject({ duplicates: 2 });
    expect(records.rows.get('w/api/é-1')?.body).toBe('naïve café ✓ 😀');
  });

  it.each(['json', 'ndjson'] as const)('stops a %s upload at the record after the cap, storing nothing', async (format) => {
    const { ingest, records } = service({ maxRecords: 3 });
    const rows = Array.from({ length: 50 }, (_, i) => record(`r${i}`));
    const text = format === 'json' ? JSON.stringify(rows) : rows.map((r) => JSON.stringify(r)).join('\n');
    const { state, source } = counted(chunked(text, 64));
    await expect(ingest.ingest('w', source, format)).rejects.toMatchObject({
      code: ErrorCode.RecordsLimit,
      message: expect.stringContaining('record cap'),
    });
    expect(state.taken).toBeLessThan(Math.ceil(Buffer.byteLength(text) / 64) / 2);
    expect(records.rows.size).toBe(0);
  });

  it('counts unreadable NDJSON lines against the record cap (a body of "x" lines)', async () => {
    const { ingest } = service({ maxRecords: 100 });
    const { state, source } = counted(chunked('x\n'.repeat(100_000), 1024));
    await expect(ingest.ingest('w', source, 'ndjson')).rejects.toMatchObject({ code: ErrorCode.RecordsLimit });
    expect(state.taken).toBeLessThan(5);
  });

  it('stops a JSON array of empty objects at the cap, not at the end', async () => {
    const { ingest } = service({ maxRecords: 1_000 });
    const { state, source } = counted(chunked(`[${'{},'.repeat(200_000)}{}]`, 1024));
    await expect(ingest.ingest('w', source, 'json')).rejects.toMatchObject({ code: ErrorCode.RecordsLimit });
    expect(state.taken).toBeLessThan(10);
  });

  it.each(['json', 'ndjson'] as const)('refuses a %s record larger than the per-record cap before it ends', async (format) => {
    const { ingest } = service({ maxRecordBytes: 2048 });
    const huge = JSON.stringify(record('big', { body: 'y'.repeat(100_000) }));
    const text = format === 'json' ? `[${huge}]` : huge;
    const { state, source } = counted(chunked(text, 512));
    await expect(ingest.ingest('w', source, format)).rejects.toMatchObject({
      code: ErrorCode.RecordsLimit,
      message: expect.stringContaining('per-record cap'),
    });
    expect(state.taken).toBeLessThan(10);
  });

  it.each([
    ['json', `[${'['.repeat(2_000)}${']'.repeat(2_000)}]`],
    ['json', `{"records": [{"externalId": ${'{"a":'.repeat(20)}1${'}'.repeat(20)}}]}`],
    ['ndjson', `${'['.repeat(2_000)}${']'.repeat(2_000)}`],
  ] as const)('refuses %s nested past the depth cap: %#', async (format, text) => {
    const { ingest } = service({ maxRecordBytes: 100_000 });
    await expect(ingest.ingest('w', text, format)).rejects.toMatchObject({
      code: ErrorCode.RecordsLimit,
      message: expect.stringContaining('depth cap'),
    });
  });

  it('takes nesting within the cap and judges the row on its own', async () => {
    const { ingest } = service();
    await expect(ingest.ingest('w', JSON.stringify([{ externalId: [[['deep']]] }]), 'json')).resolves.toMatchObject({
      accepted: 0,
      rejected: [{ index: 0, code: ErrorCode.InvalidRecord }],
    });
  });

  it.each([
    ['an empty body', ''],
    ['trailing data', '[] []'],
    ['a bare word', 'x'],
    ['an unterminated record', '[{"externalId": "a"'],
  ])('answers MALFORMED_JSON for %s', async (_, text) => {
    const { ingest } = service();
    await expect(ingest.ingest('w', text, 'json')).rejects.toMatchObject({ code: ErrorCode.MalformedJson });
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
    'From c@example.test Sun Feb 30 09:00:00 2025',
    'Message-ID: <m3@example.test>',
    'Subject: undated, and its postmark date is impossible',
    '',
    'No date either',
    '',
  ].join('\n');

  it('reports a message with nothing after its postmark as empty, by index, and stores the others', async () => {
    const { ingest, records } = service();
    const archive = ['From x@example.test Mon Jan  6 09:00:00 2025', '', mbox, 'From y@example.test Mon Jan  6 09:00:00 2025', '', ''].join('\n');
    const result = await ingest.importMbox('w', Buffer.from(archive));
    expect(result.rejected.filter((r) => r.message.startsWith('message is empty')).map((r) => r.index)).toEqual([0, 4]);
    expect(result.accepted).toBe(records.rows.size);
  });

  it('stores parsed messages with source mbox, dates a message without Date by its postmark, and reports unusable ones by index', async () => {
    const { ingest, records } = service();
    await expect(ingest.importMbox('w', Buffer.from(mbox))).resolves.toEqual({
      accepted: 2,
      duplicates: 0,
      deleted: 0,
      rejected: [{ index: 2, code: ErrorCode.InvalidDate, message: 'message has no Date header, and no valid postmark date' }],
    });
    expect(records.rows.get('w/mbox/<m1@example.test>')).toMatchObject({ subject: 'first', body: 'Hello', source: 'mbox' });
    expect(records.rows.get('w/mbox/<m2@example.test>')).toMatchObject({ body: 'No date', sentAt: new Date('2025-01-06T09:00:00Z') });
    await expect(ingest.importMbox('w', Buffer.from(mbox))).resolves.toMatchObject({ accepted: 0, duplicates: 2 });
  });

  it.each([
    ['an empty upload', ''],
    ['a JSON document', '[{"externalId": "x"}]'],
  ])('refuses %s as INVALID_MBOX', async (_, upload) => {
    const { ingest } = service();
    await expect(ingest.importMbox('w', Buffer.from(upload))).rejects.toMatchObject({ code: ErrorCode.InvalidMbox });
  });

  it('does not split on a "From " body line after a blank line, and unquotes >From lines one level', async () => {
    const { ingest, records } = service();
    const archive = [
      'From ceo@example.test Mon Mar 23 10:00:00 2015',
      'Message-ID: <memo@example.test>',
      'Date: Mon, 23 Mar 2015 10:00:00 +0000',
      'Subject: memo',
      '',
      'Team,',
      '',
      'From the desk of the CEO: we ship on Friday.',
      '>From here the quote keeps one level.',
      '>>From deeper.',
      '',
    ].join('\n');
    await expect(ingest.importMbox('w', chunked(archive, 7))).resolves.toEqual({ accepted: 1, duplicates: 0, deleted: 0, rejected: [] });
    expect(records.rows.get('w/mbox/<memo@example.test>')?.body).toBe(
      'Team,\n\nFrom the desk of the CEO: we ship on Friday.\nFrom here the quote keeps one level.\n>From deeper.',
    );
  });

  it('converts an HTML-only body to text and decodes 8-bit parts by their charset', async () => {
    const { ingest, records } = service();
    const archive = Buffer.concat([
      Buffer.from(
        'From a@example.test Mon Jan  6 09:00:00 2025\nMessage-ID: <html@example.test>\nDate: Mon, 06 Jan 2025 09:00:00 +0000\n' +
          'Content-Type: text/html; charset=utf-8\n\n<p>Hello <b>World</b> &amp; friends</p>\n\n',
      ),
      Buffer.from(
        'From a@example.test Mon Jan  6 09:00:00 2025\nMessage-ID: <latin@example.test>\nDate: Mon, 06 Jan 2025 09:00:00 +0000\n' +
          'Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\ncaf\xe9\n',
        'latin1',
      ),
    ]);
    await expect(ingest.importMbox('w', archive)).resolves.toMatchObject({ accepted: 2 });
    expect(records.rows.get('w/mbox/<html@example.test>')?.body).toBe('Hello World & friends');
    expect(records.rows.get('w/mbox/<latin@example.test>')?.body).toBe('café');
  });

  it('identifies a message without a Message-ID by its content, the same on every import and with CRLF', async () => {
    const { ingest, records } = service();
    const archive = 'From x Mon Jan  6 09:00:00 2025\nDate: Mon, 06 Jan 2025 09:00:00 +0000\nSubject: anonymous\n\nbody\n';
    await expect(ingest.importMbox('w', archive)).resolves.toMatchObject({ accepted: 1 });
    await expect(ingest.importMbox('w', archive.replace(/\n/g, '\r\n'))).resolves.toMatchObject({ accepted: 0, duplicates: 1 });
    expect([...records.rows.keys()]).toEqual([expect.stringMatching(/^w\/mbox\/sha256:[0-9a-f]{64}$/)]);
  });

  it('refuses an archive past the message cap or with a message past the per-message cap, storing nothing', async () => {
    const { ingest, records } = service({ maxRecords: 1, maxMessageBytes: 2048 });
    const two = `${mbox}\n`;
    await expect(ingest.importMbox('w', two)).rejects.toMatchObject({ code: ErrorCode.RecordsLimit, message: expect.stringContaining('record cap') });
    const long = `From a@example.test Mon Jan  6 09:00:00 2025\nSubject: long\n\n${'z'.repeat(100_000)}`;
    await expect(ingest.importMbox('w', chunked(long, 256))).rejects.toMatchObject({
      code: ErrorCode.RecordsLimit,
      message: expect.stringContaining('per-message cap'),
    });
    expect(records.rows.size).toBe(0);
  });

  it('refuses a body of blank lines as INVALID_MBOX after the first few KB', async () => {
    const { ingest } = service();
    let taken = 0;
    function* newlines() {
      for (let i = 0; i < 1_000; i++) {
        taken++;
        yield Buffer.alloc(1024, '\n');
      }
    }
    await expect(ingest.importMbox('w', newlines())).rejects.toMatchObject({ code: ErrorCode.InvalidMbox });
    expect(taken).toBeLessThan(10);
  });
});
