import { Injectable } from '@nestjs/common';
import { describeIssue, ErrorCode, ValidationFailedError } from '#libs/common';
import { InvalidMboxError } from './records.errors.js';
import { type IncomingRecord, incomingRecordSchema, type IngestResult, type RecordSourceName, type RejectedRecord } from './source-record.js';
import { SourceRecordRepository } from './source-record.repository.js';

export const MAX_RECORDS_PER_REQUEST = 20_000;
const INSERT_BATCH = 1_000;

export type RecordPayloadFormat = 'json' | 'ndjson';

/** Why one row was not stored; unreadable rows and invalid ones are reported alike. */
class Rejection {
  constructor(readonly message: string) {}
}

/**
 * Takes records from clients: every row is checked on its own, bad rows are reported by index and
 * good ones stored (idempotent on external id), so one bad row never loses the others.
 */
@Injectable()
export class RecordIngestService {
  constructor(private readonly records: SourceRecordRepository) {}

  async ingest(workspaceId: string, payload: string, format: RecordPayloadFormat): Promise<IngestResult> {
    const text = payload.replace(/^\uFEFF/, '');
    const rows = format === 'ndjson' ? parseNdjson(text) : parseJsonPayload(text);
    if (rows.length > MAX_RECORDS_PER_REQUEST) {
      throw new ValidationFailedError(`At most ${MAX_RECORDS_PER_REQUEST} records per request; split the upload`);
    }
    const rejected: RejectedRecord[] = [];
    const valid: IncomingRecord[] = [];
    rows.forEach((row, index) => {
      const outcome = row instanceof Rejection ? row : validate(row);
      if (outcome instanceof Rejection) rejected.push({ index, code: ErrorCode.InvalidRecord, message: outcome.message });
      else valid.push(outcome);
    });
    return this.store(workspaceId, 'api', valid, rejected);
  }

  async importMbox(workspaceId: string, archive: Buffer): Promise<IngestResult> {
    if (!archive.toString('latin1', 0, 4096).trimStart().startsWith('From ')) {
      throw new InvalidMboxError('The upload is not an mbox archive (it must start with a "From " line)');
    }
    // loaded on first use: the mail parser is large, and worker processes never need it
    const { parseMbox } = await import('./mbox-parser.js');
    const messages = await parseMbox(archive, MAX_RECORDS_PER_REQUEST);
    const rejected: RejectedRecord[] = [];
    const valid: IncomingRecord[] = [];
    for (const message of messages) {
      if (!message.record) {
        rejected.push({
          index: message.index,
          code: message.code ?? ErrorCode.InvalidRecord,
          message: message.error ?? 'message could not be parsed',
        });
        continue;
      }
      const outcome = validate({ ...message.record, sentAt: message.record.sentAt.toISOString() });
      if (outcome instanceof Rejection) rejected.push({ index: message.index, code: ErrorCode.InvalidRecord, message: outcome.message });
      else valid.push(outcome);
    }
    return this.store(workspaceId, 'mbox', valid, rejected);
  }

  private async store(workspaceId: string, source: RecordSourceName, valid: IncomingRecord[], rejected: RejectedRecord[]): Promise<IngestResult> {
    let accepted = 0;
    let deleted = 0;
    for (let i = 0; i < valid.length; i += INSERT_BATCH) {
      const { inserted, tombstoned } = await this.records.insertMany(workspaceId, source, valid.slice(i, i + INSERT_BATCH));
      accepted += inserted;
      deleted += tombstoned;
    }
    return { accepted, duplicates: valid.length - accepted - deleted, deleted, rejected };
  }
}

function validate(row: unknown): IncomingRecord | Rejection {
  const parsed = incomingRecordSchema.safeParse(row);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  // a row that is not an object at all reads better said so than as a type error
  return new Rejection(issue?.code === 'invalid_type' && issue.path.length === 0 ? 'a record must be a JSON object' : describeIssue(issue));
}

function parseJsonPayload(payload: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    throw new ValidationFailedError('The request body is not valid JSON', ErrorCode.MalformedJson);
  }
  if (Array.isArray(parsed)) return parsed;
  if (isRecordsEnvelope(parsed)) return parsed.records;
  throw new ValidationFailedError('The body must be a JSON array of records, { "records": [...] }, or NDJSON');
}

function isRecordsEnvelope(value: unknown): value is { records: unknown[] } {
  if (!value || typeof value !== 'object') return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === 'records' && Array.isArray((value as { records: unknown }).records);
}

/** Blank lines are skipped, so an index counts records, not lines; the message names the line. */
function parseNdjson(payload: string): unknown[] {
  const rows: unknown[] = [];
  payload.split(/\r?\n/).forEach((line, lineIndex) => {
    if (line.trim() === '') return;
    try {
      rows.push(JSON.parse(line) as unknown);
    } catch {
      rows.push(new Rejection(`line ${lineIndex + 1} is not valid JSON`));
    }
  });
  return rows;
}
