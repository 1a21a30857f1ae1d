import { Injectable } from '@nestjs/common';
import { ErrorCode, ValidationFailedError } from '#libs/common';
import { InvalidMboxError } from './sync.errors.js';
import { parseMbox } from './mbox-parser.js';
import { type IncomingRecord, incomingRecordSchema, type IngestResult, type RecordSourceName, type RejectedRecord } from './source-record.js';
import { SourceRecordRepository } from './source-record.repository.js';

export const MAX_RECORDS_PER_REQUEST = 20_000;
const INSERT_BATCH = 1_000;

export type RecordPayloadFormat = 'json' | 'ndjson';

/**
 * Takes records from clients: every row is checked on its own, bad rows are reported by index and
 * good ones stored (idempotent on external id), so one bad row never loses the others.
 */
@Injectable()
export class RecordIngestService {
  constructor(private readonly records: SourceRecordRepository) {}

  async ingest(workspaceId: string, payload: string, format: RecordPayloadFormat): Promise<IngestResult> {
    const rows = format === 'ndjson' ? parseNdjson(payload) : parseJsonPayload(payload);
    if (rows.length > MAX_RECORDS_PER_REQUEST) {
      throw new ValidationFailedError(`At most ${MAX_RECORDS_PER_REQUEST} records per request; split the upload`);
    }
    const rejected: RejectedRecord[] = [];
    const valid: IncomingRecord[] = [];
    rows.forEach((row, index) => {
      if (row instanceof Error) {
        rejected.push({ index, code: ErrorCode.InvalidRecord, message: row.message });
        return;
      }
      const parsed = incomingRecordSchema.safeParse(row);
      if (parsed.success) valid.push(parsed.data);
      else rejected.push({ index, code: ErrorCode.InvalidRecord, message: describeIssue(parsed.error.issues[0]) });
    });
    return this.store(workspaceId, 'api', valid, rejected);
  }

  async importMbox(workspaceId: string, archive: Buffer): Promise<IngestResult> {
    const text = archive.toString('utf8');
    if (!text.trimStart().startsWith('From ')) throw new InvalidMboxError('The upload is not an mbox archive (it must start with a "From " line)');
    const messages = await parseMbox(text);
    if (messages.length > MAX_RECORDS_PER_REQUEST) throw new InvalidMboxError(`At most ${MAX_RECORDS_PER_REQUEST} messages per upload`);
    const rejected: RejectedRecord[] = [];
    const valid: IncomingRecord[] = [];
    for (const message of messages) {
      const parsed = message.record && incomingRecordSchema.safeParse({ ...message.record, sentAt: message.record.sentAt.toISOString() });
      if (parsed?.success) valid.push(parsed.data);
      else rejected.push({ index: message.index, code: ErrorCode.InvalidRecord, message: message.error ?? describeIssue(parsed!.error!.issues[0]) });
    }
    return this.store(workspaceId, 'mbox', valid, rejected);
  }

  private async store(workspaceId: string, source: RecordSourceName, valid: IncomingRecord[], rejected: RejectedRecord[]): Promise<IngestResult> {
    let accepted = 0;
    for (let i = 0; i < valid.length; i += INSERT_BATCH) {
      accepted += await this.records.insertMany(workspaceId, source, valid.slice(i, i + INSERT_BATCH));
    }
    return { accepted, duplicates: valid.length - accepted, rejected };
  }
}

function parseJsonPayload(payload: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    throw new ValidationFailedError('The request body is not valid JSON', ErrorCode.MalformedJson);
  }
  if (Array.isArray(parsed)) return parsed;
  if (parsed && typeof parsed === 'object' && Array.isArray((parsed as { records?: unknown }).records)) {
    return (parsed as { records: unknown[] }).records;
  }
  throw new ValidationFailedError('The body must be a JSON array of records, { "records": [...] }, or NDJSON');
}

function parseNdjson(payload: string): (unknown | Error)[] {
  return payload
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        return new Error('line is not valid JSON');
      }
    });
}

function describeIssue(issue: { path: PropertyKey[]; message: string; code: string } | undefined): string {
  if (!issue) return 'invalid record';
  const field = issue.path.map(String).join('.');
  if (issue.code === 'invalid_type' && field && issue.message.includes('received undefined')) return `${field} is required`;
  if (issue.code === 'unrecognized_keys') return issue.message;
  return issue.message.startsWith(field) || !field ? issue.message : `${field}: ${issue.message}`;
}
