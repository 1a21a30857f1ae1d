import { parseMail } from './mail-parser.js';
import { Injectable } from '@nestjs/common';
import { describeIssue, ErrorCode } from '#libs/common';
import { AppConfig, type IngestLimits } from '#libs/config';
import { jsonRecords, ndjsonRecords, UnreadableRow } from './json-records.js';
import { splitMbox } from './mbox-stream.js';
import { type IncomingRecord, incomingRecordSchema, type IngestResult, type RecordSourceName, type RejectedRecord } from './source-record.js';
import { SourceRecordRepository } from './source-record.repository.js';

export type RecordPayloadFormat = 'json' | 'ndjson';

/** An upload's decoded bytes: a stream as the API reads it, or the whole body at once (seeding, scripts). */
export type UploadBytes = string | Buffer | Iterable<Buffer> | AsyncIterable<Buffer>;

function chunksOf(body: UploadBytes): AsyncIterable<Buffer> | Iterable<Buffer> {
  if (typeof body === 'string') return [Buffer.from(body, 'utf8')];
  return Buffer.isBuffer(body) ? [body] : body;
}

/**
 * Takes records from clients: every row is checked on its own, bad rows are reported by index and
 * good ones stored (idempotent on external id), so one bad row never loses the others.
 *
 * The body is parsed as it arrives, under the caps of {@link IngestLimits}. All or nothing per
 * request: valid rows are only collected while the upload is read (at most the decoded-bytes cap of
 * them), and stored once the whole upload was read within every cap; a cap passed, malformed JSON or
 * an mbox that is not one throws before anything is stored.
 */
@Injectable()
export class RecordIngestService {
  private readonly limits: IngestLimits;

  constructor(
    private readonly records: SourceRecordRepository,
    config: AppConfig,
  ) {
    this.limits = config.ingest;
  }

  /**
   * Stores the records of a JSON array, `{ "records": [...] }` or NDJSON body (the decoded bytes).
   * Throws RecordsLimitError (413 RECORDS_LIMIT), ValidationFailedError (400 MALFORMED_JSON or
   * VALIDATION_FAILED) and whatever `body` throws (its byte caps), with nothing stored.
   */
  async ingest(workspaceId: string, body: UploadBytes, format: RecordPayloadFormat): Promise<IngestResult> {
    const chunks = chunksOf(body);
    const rows = format === 'ndjson' ? ndjsonRecords(chunks, this.limits) : jsonRecords(chunks, this.limits);
    const rejected: RejectedRecord[] = [];
    const valid: IncomingRecord[] = [];
    let index = 0;
    for await (const row of rows) {
      const outcome = row instanceof UnreadableRow ? row : validate(row);
      if (outcome instanceof UnreadableRow) rejected.push({ index, code: ErrorCode.InvalidRecord, message: outcome.message });
      else valid.push(outcome);
      index++;
    }
    return this.store(workspaceId, 'api', valid, rejected);
  }

  /**
   * Stores the messages of an mbox archive (the decoded bytes), each parsed as soon as it is split
   * off. Throws InvalidMboxError (400) when the body is not an mbox, RecordsLimitError (413) past the
   * message caps, and whatever `body` throws, with nothing stored.
   */
  async importMbox(workspaceId: string, body: UploadBytes): Promise<IngestResult> {
    const rejected: RejectedRecord[] = [];
    const valid: IncomingRecord[] = [];
    let index = 0;
    for await (const message of splitMbox(chunksOf(body), this.limits)) {
      if (message.empty) {
        rejected.push({ index: index++, code: ErrorCode.InvalidRecord, message: 'message is empty (a From_ line and nothing after it)' });
        continue;
      }
      const parsed = await parseMail(message.raw, index++, message.postmarkDate);
      if (!parsed.record) {
        rejected.push({ index: parsed.index, code: parsed.code ?? ErrorCode.InvalidRecord, message: parsed.error ?? 'message could not be parsed' });
        continue;
      }
      const outcome = validate({ ...parsed.record, sentAt: parsed.record.sentAt.toISOString() });
      if (outcome instanceof UnreadableRow) rejected.push({ index: parsed.index, code: ErrorCode.InvalidRecord, message: outcome.message });
      else valid.push(outcome);
    }
    return this.store(workspaceId, 'mbox', valid, rejected);
  }

  private async store(workspaceId: string, source: RecordSourceName, valid: IncomingRecord[], rejected: RejectedRecord[]): Promise<IngestResult> {
    // one transaction for the whole upload: a request is stored all or nothing
    const { inserted: accepted, tombstoned: deleted } = await this.records.insertMany(workspaceId, source, valid);
    return { accepted, duplicates: valid.length - accepted - deleted, deleted, rejected };
  }
}

function validate(row: unknown): IncomingRecord | UnreadableRow {
  const parsed = incomingRecordSchema.safeParse(row);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  // a row that is not an object at all reads better said so than as a type error
  return new UnreadableRow(issue?.code === 'invalid_type' && issue.path.length === 0 ? 'a record must be a JSON object' : describeIssue(issue));
}
