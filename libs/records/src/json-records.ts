import { setImmediate as nextTurn } from 'node:timers/promises';
import { Tokenizer, TokenParser, TokenType, type ParsedTokenInfo } from '@streamparser/json';
import { AppError, ErrorCode, ValidationFailedError } from '#libs/common';
import type { IngestLimits } from '#libs/config';
import { RecordsLimitError } from './records.errors.js';

/** A row of an upload that could not be read as JSON; it is reported by index like an invalid record. */
export class UnreadableRow {
  constructor(readonly message: string) {}
}

type RecordLimits = Pick<IngestLimits, 'maxRecords' | 'maxRecordBytes' | 'maxDepth'>;

const NOT_RECORDS = 'The body must be a JSON array of records, { "records": [...] }, or NDJSON';
const OPENERS = new Set([TokenType.LEFT_BRACE, TokenType.LEFT_BRACKET]);
const CLOSERS = new Set([TokenType.RIGHT_BRACE, TokenType.RIGHT_BRACKET]);
const SEPARATORS = new Set([TokenType.COLON, TokenType.COMMA]);

const LF = 10;
const LINES_PER_TURN = 1_000;
const SKIP = Symbol('blank line');
const JSON_START = /^\s*[[{"\d\-tfn]/;

const tooManyRecords = (max: number) => new RecordsLimitError(`At most ${max} records per request (record cap); split the upload`);
const recordTooLarge = (max: number) => new RecordsLimitError(`A record is larger than ${max} bytes (per-record cap)`);

/**
 * The records of a JSON array or of `{ "records": [...] }` (RFC 8259), parsed as the bytes arrive
 * by @streamparser/json, each yielded as soon as it is complete; only one record is ever held.
 * The caps hold while reading: more than `maxRecords` records, a record of more than `maxRecordBytes`
 * or nesting deeper than `maxDepth` throw RecordsLimitError at the token that passes them. Malformed
 * JSON throws ValidationFailedError MALFORMED_JSON, another top-level shape VALIDATION_FAILED.
 */
export async function* jsonRecords(chunks: AsyncIterable<Buffer> | Iterable<Buffer>, limits: RecordLimits): AsyncGenerator<unknown> {
  const reader = new JsonRecordReader(limits);
  for await (const chunk of chunks) yield* reader.write(chunk);
  yield* reader.end();
}

/** Where the reader is in the one shape it accepts: `[ record, ... ]` or `{ "records": [ record, ... ] }`. */
class JsonRecordReader {
  // strings gathered as bytes and decoded once (not char by char): a 2 KB body is one string, not a rope of 2,000
  private readonly tokenizer = new Tokenizer({ stringBufferSize: 64 * 1024 });
  private parser?: TokenParser;
  private readonly ready: unknown[] = [];
  /** Depth of the containers open before the current token. */
  private depth = 0;
  /** Depth at which records are the values: 1 in an array, 2 in the envelope. */
  private recordDepth = 0;
  private expectingKey = false;
  private sawRecordsKey = false;
  private records = 0;
  /** Byte offset where the record being read started, while one is. */
  private recordStart: number | undefined;
  private bytesIn = 0;

  constructor(private readonly limits: RecordLimits) {
    this.tokenizer.onToken = (token) => this.onToken(token);
  }

  write(chunk: Buffer): unknown[] {
    this.guard(() => this.tokenizer.write(chunk));
    this.bytesIn += chunk.length;
    // a record still open after this chunk (one long string) is measured now, not when it ends
    if (this.recordStart !== undefined && this.bytesIn - this.recordStart > this.limits.maxRecordBytes) {
      throw recordTooLarge(this.limits.maxRecordBytes);
    }
    return this.ready.splice(0);
  }

  end(): unknown[] {
    this.guard(() => {
      this.tokenizer.end();
      if (!this.parser?.isEnded) throw new Error('incomplete');
    });
    return this.ready.splice(0);
  }

  /** Anything the tokenizer or the token parser throws that is not ours is malformed JSON. */
  private guard(step: () => void): void {
    try {
      step();
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new ValidationFailedError('The request body is not valid JSON', ErrorCode.MalformedJson);
    }
  }

  private onToken(info: ParsedTokenInfo): void {
    const { token } = info;
    if (this.depth === 0) this.start(token);
    else if (this.depth === 1 && this.recordDepth === 2) this.envelope(info);
    if (this.depth === this.recordDepth && !SEPARATORS.has(token) && !CLOSERS.has(token)) this.recordStarts(info.offset);
    if (OPENERS.has(token)) {
      this.depth++;
      if (this.depth > this.limits.maxDepth) throw new RecordsLimitError(`JSON nested deeper than ${this.limits.maxDepth} levels (depth cap)`);
    } else if (CLOSERS.has(token)) {
      this.depth--;
    }
    if (this.recordStart !== undefined && this.depth === this.recordDepth && !SEPARATORS.has(token)) this.recordEnds(info.offset);
    this.parser?.write(info);
  }

  private start(token: TokenType): void {
    if (this.parser) throw new Error('trailing data');
    if (token === TokenType.LEFT_BRACKET) this.recordDepth = 1;
    else if (token === TokenType.LEFT_BRACE) this.recordDepth = 2;
    else throw new ValidationFailedError(NOT_RECORDS);
    this.expectingKey = true;
    // keepStack false: a record is dropped from its array once handed over, so memory stays flat
    this.parser = new TokenParser({ paths: [this.recordDepth === 1 ? '$.*' : '$.records.*'], keepStack: false });
    this.parser.onValue = ({ value }) => this.ready.push(value);
  }

  /** Inside `{ ... }`: the one key must be "records", and its value an array. */
  private envelope({ token, value }: ParsedTokenInfo): void {
    if (token === TokenType.COMMA) {
      this.expectingKey = true;
    } else if (this.expectingKey && token === TokenType.STRING) {
      if (value !== 'records' || this.sawRecordsKey) throw new ValidationFailedError(NOT_RECORDS);
      this.sawRecordsKey = true;
      this.expectingKey = false;
    } else if (!SEPARATORS.has(token) && !CLOSERS.has(token) && token !== TokenType.LEFT_BRACKET) {
      throw new ValidationFailedError(NOT_RECORDS);
    } else if (token === TokenType.RIGHT_BRACE && !this.sawRecordsKey) {
      throw new ValidationFailedError(NOT_RECORDS);
    }
  }

  private recordStarts(offset: number): void {
    this.records++;
    if (this.records > this.limits.maxRecords) throw tooManyRecords(this.limits.maxRecords);
    this.recordStart = offset;
  }

  private recordEnds(offset: number): void {
    if (offset + 1 - (this.recordStart ?? offset) > this.limits.maxRecordBytes) throw recordTooLarge(this.limits.maxRecordBytes);
    this.recordStart = undefined;
  }
}

/**
 * The records of NDJSON (one JSON value per line, https://github.com/ndjson/ndjson-spec), split on
 * LF as the bytes arrive; a CR before the LF and blank lines are ignored, so an index counts records,
 * not lines. A line that is not JSON is yielded as an UnreadableRow naming the line. The caps hold
 * while reading, as for {@link jsonRecords}: a line longer than `maxRecordBytes` throws before it ends.
 */
// fatal: bytes that are not UTF-8 are an error, not U+FFFD; ignoreBOM: the first line's BOM is dropped below
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export async function* ndjsonRecords(chunks: AsyncIterable<Buffer> | Iterable<Buffer>, limits: RecordLimits): AsyncGenerator<unknown> {
  let partial: Buffer[] = [];
  let partialBytes = 0;
  let lineNumber = 0;
  let records = 0;
  const take = (line: Buffer): unknown => {
    lineNumber++;
    let decoded: string;
    try {
      decoded = strictUtf8.decode(line);
    } catch {
      // as a JSON array upload refuses bytes that are not UTF-8, a line of them is not silently turned into U+FFFD
      records++;
      if (records > limits.maxRecords) throw tooManyRecords(limits.maxRecords);
      return new UnreadableRow(`line ${lineNumber} is not valid UTF-8`);
    }
    const text = (lineNumber === 1 ? decoded.replace(/^\uFEFF/, '') : decoded).replace(/\r$/, '');
    if (text.trim() === '') return SKIP;
    records++;
    if (records > limits.maxRecords) throw tooManyRecords(limits.maxRecords);
    if (nestingDepth(text) > limits.maxDepth) throw new RecordsLimitError(`JSON nested deeper than ${limits.maxDepth} levels (depth cap)`);
    // a line that cannot start a JSON value is refused without JSON.parse's exception (20,000 of them cost 200 ms)
    if (!JSON_START.test(text)) return new UnreadableRow(`line ${lineNumber} is not valid JSON`);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return new UnreadableRow(`line ${lineNumber} is not valid JSON`);
    }
  };
  for await (const chunk of chunks) {
    let from = 0;
    let sinceTurn = 0;
    for (let newline = chunk.indexOf(LF); newline !== -1; newline = chunk.indexOf(LF, from)) {
      const piece = chunk.subarray(from, newline);
      if (partialBytes + piece.length > limits.maxRecordBytes) throw recordTooLarge(limits.maxRecordBytes);
      const row = take(partial.length ? Buffer.concat([...partial, piece]) : piece);
      partial = [];
      partialBytes = 0;
      from = newline + 1;
      if (row !== SKIP) yield row;
      // a chunk of short lines is thousands of rows: the event loop gets a turn between slices of them
      if (++sinceTurn === LINES_PER_TURN) {
        sinceTurn = 0;
        await nextTurn();
      }
    }
    if (from < chunk.length) {
      partial.push(chunk.subarray(from));
      partialBytes += chunk.length - from;
      if (partialBytes > limits.maxRecordBytes) throw recordTooLarge(limits.maxRecordBytes);
    }
  }
  const last = take(Buffer.concat(partial));
  if (last !== SKIP) yield last;
}

/** The deepest nesting of arrays and objects in a JSON text, brackets inside strings not counted. */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      deepest = Math.max(deepest, ++depth);
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return deepest;
}
