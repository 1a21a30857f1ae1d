import type { IngestLimits } from '#libs/config';
import { InvalidMboxError, RecordsLimitError } from './records.errors.js';

/** One message of an mbox archive: its bytes as the mail parser reads them, and its postmark's date. */
export interface MboxMessage {
  /** Lines joined with LF (a CR before LF dropped), the postmark line left out, `>From ` unquoted one level. */
  raw: Buffer;
  /** The date of the message's From_ line, when it is a valid date. */
  postmarkDate?: Date;
  /** Nothing but blank lines after the postmark: reported as a rejected message, never parsed or stored. */
  empty: boolean;
}

type MboxLimits = Pick<IngestLimits, 'maxRecords' | 'maxMessageBytes' | 'maxMessageLines'>;

/** Blank lines a client may send before the first postmark (bytes); past them the upload is not an mbox. */
const MAX_PREAMBLE_BYTES = 4096;
const LF = 10;
const CR = 13;
const NEWLINE = Buffer.from('\n');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * The From_ line of mbox (RFC 4155 appendix A; qmail's mbox(5)): "From ", the envelope sender, then an
 * asctime(3) date, `Mon Mar 23 10:00:00 2015`, whose zone (`+0000`, `UTC`) some writers put before or
 * after the year (Gmail's Takeout: `Wed May 31 13:57:52 +0000 2017`). Seconds may be missing.
 */
const POSTMARK =
  /^From \S+ +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) +(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(\d{1,2}) +(\d{1,2}):(\d{2})(?::(\d{2}))?(?: +([+-]\d{4}|[A-Z]{1,5}))? +(\d{4})(?: +([+-]\d{4}|[A-Z]{1,5}))?(?: +remote from \S+)? *$/;

/**
 * Whether `line` (without its line break) is a postmark, and its date: a Date when the fields make a
 * real instant (asctime has no zone: UTC unless a numeric offset is given), undefined when they do
 * not (`Feb 30`), null when the line is no postmark at all ("From the desk of the CEO:").
 */
export function parsePostmark(line: string): Date | undefined | null {
  const match = POSTMARK.exec(line);
  if (!match) return null;
  const [, month, day, hour, minute, second = '0', zoneBefore, year, zoneAfter] = match;
  const fields = [Number(year), MONTHS.indexOf(month), Number(day), Number(hour), Number(minute), Number(second)] as const;
  const utc = Date.UTC(...fields);
  const date = new Date(utc);
  // Date.UTC rolls Feb 30 over into March: a field out of range is caught by reading it back
  if (date.getUTCDate() !== fields[2] || fields[3] > 23 || fields[4] > 59 || fields[5] > 60) return undefined;
  const zone = zoneBefore ?? zoneAfter ?? '';
  const offset = /^[+-]\d{4}$/.test(zone) ? (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3))) : 0;
  return new Date(utc - offset * 60_000);
}

/**
 * Splits an mbox archive (mboxo or mboxrd) into messages as its bytes arrive. A message starts at a
 * postmark (see {@link parsePostmark}) at the start of the archive or after a blank line, and nowhere
 * else: a body line "From the desk of the CEO:" after a blank line stays in its message. Lines matching
 * `^>+From ` lose one `>` (mboxrd's unquoting, which is also right for mboxo's single level). A message
 * with only blank lines is yielded `empty` (the caller reports it) and counts toward `maxRecords`. Throws InvalidMboxError (400) when the upload does not start
 * with a postmark (blank lines aside), RecordsLimitError (413) past `maxMessageBytes` or
 * `maxMessageLines` in one message or past `maxRecords` messages, in each case before reading further.
 */
export async function* splitMbox(chunks: AsyncIterable<Buffer> | Iterable<Buffer>, limits: MboxLimits): AsyncGenerator<MboxMessage> {
  const splitter = new MboxSplitter(limits);
  for await (const chunk of chunks) yield* splitter.write(chunk);
  yield* splitter.end();
}

class MboxSplitter {
  private started = false;
  private preambleBytes = 0;
  private previousBlank = true;
  private readonly message: MessageBytes;
  private messageLines = 0;
  private hasContent = false;
  private postmarkDate: Date | undefined;
  private messages = 0;
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private readonly ready: MboxMessage[] = [];

  constructor(private readonly limits: MboxLimits) {
    this.message = new MessageBytes(limits.maxMessageBytes);
  }

  write(chunk: Buffer): MboxMessage[] {
    let from = 0;
    for (let newline = chunk.indexOf(LF); newline !== -1; newline = chunk.indexOf(LF, from)) {
      const piece = chunk.subarray(from, newline);
      this.line(this.partial.length ? Buffer.concat([...this.partial, piece]) : piece);
      this.partial = [];
      this.partialBytes = 0;
      from = newline + 1;
    }
    if (from < chunk.length) {
      this.partial.push(chunk.subarray(from));
      this.partialBytes += chunk.length - from;
      this.checkSize(this.partialBytes);
    }
    return this.ready.splice(0);
  }

  end(): MboxMessage[] {
    // as a split on line breaks would: what follows the last LF is a line, even an empty one
    this.line(Buffer.concat(this.partial));
    if (!this.started) throw notMbox();
    this.finishMessage();
    return this.ready.splice(0);
  }

  private line(bytes: Buffer): void {
    const line = bytes.at(-1) === CR ? bytes.subarray(0, -1) : bytes;
    const blank = isBlank(line);
    // only a line starting "F" or ">" can be a postmark or quoted: the others are copied as they are
    const head = line[0] === 0x46 || line[0] === 0x3e ? line.toString('latin1', 0, 256) : '';
    const postmark = this.previousBlank && head.startsWith('From ') ? parsePostmark(line.toString('latin1')) : null;
    if (postmark !== null) {
      this.finishMessage();
      this.started = true;
      this.postmarkDate = postmark;
    } else if (!this.started) {
      this.preambleBytes += bytes.length + 1;
      if (!blank || this.preambleBytes > MAX_PREAMBLE_BYTES) throw notMbox();
    } else {
      const kept = /^>+From /.test(head) ? line.subarray(1) : line;
      this.checkSize(kept.length + 1);
      if (this.messageLines >= this.limits.maxMessageLines) {
        throw new RecordsLimitError(`A message has more than ${this.limits.maxMessageLines} lines (per-message cap)`);
      }
      if (this.messageLines++ > 0) this.message.append(NEWLINE);
      this.message.append(kept);
      this.hasContent ||= !blank;
    }
    this.previousBlank = blank;
  }

  private checkSize(pending: number): void {
    if (!this.started) {
      if (this.preambleBytes + pending > MAX_PREAMBLE_BYTES) throw notMbox();
    } else if (this.message.length + pending > this.limits.maxMessageBytes) {
      throw new RecordsLimitError(`A message is larger than ${this.limits.maxMessageBytes} bytes (per-message cap)`);
    }
  }

  private finishMessage(): void {
    const raw = this.message.take();
    // every postmark starts a message, an empty one too: it is reported, and it counts toward the cap
    // (an upload of a million postmark lines answered 200 with nothing accepted and nothing said)
    if (this.started) {
      this.messages++;
      if (this.messages > this.limits.maxRecords) throw new RecordsLimitError(`At most ${this.limits.maxRecords} messages per upload (record cap)`);
      this.ready.push({ raw, postmarkDate: this.postmarkDate, empty: !this.hasContent });
    }
    this.messageLines = 0;
    this.hasContent = false;
    this.postmarkDate = undefined;
  }
}

/**
 * One message's bytes, copied into one growing buffer: a message of a million short lines is one
 * allocation, not a million (each Buffer object costs far more than a short line).
 */
class MessageBytes {
  private buffer = Buffer.alloc(0);
  length = 0;

  constructor(private readonly maxBytes: number) {}

  append(bytes: Uint8Array): void {
    const needed = this.length + bytes.length;
    if (needed > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, Math.min(Math.max(this.buffer.length * 2, 64 * 1024), this.maxBytes)));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    this.buffer.set(bytes, this.length);
    this.length = needed;
  }

  /** The bytes so far, copied out; the builder starts over (its buffer kept, reused by the next message). */
  take(): Buffer {
    const bytes = Buffer.from(this.buffer.subarray(0, this.length));
    this.length = 0;
    return bytes;
  }
}

/** Whether a line holds only whitespace (as String.prototype.trim sees it in latin1). */
function isBlank(line: Buffer): boolean {
  for (const byte of line) {
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0b && byte !== 0x0c && byte !== 0x0d && byte !== 0xa0) return false;
  }
  return true;
}

function notMbox(): InvalidMboxError {
  return new InvalidMboxError(
    'The upload is not an mbox archive: it must start with a From_ line such as "From alice@example.com Mon Mar 23 10:00:00 2015"',
  );
}
