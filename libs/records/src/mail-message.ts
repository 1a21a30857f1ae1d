import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { compile } from 'html-to-text';
import { DateTime } from 'luxon';
import {
  MailParser,
  type AddressObject,
  type AttachmentStream,
  type HeaderLines,
  type HeaderValue,
  type MessageText,
  type StructuredHeader,
} from 'mailparser';
import { ErrorCode } from '#libs/common';
import { exceedsNestingDepth } from './html-nesting.js';
import { type IncomingRecord, isSentAtInRange, MAX_BODY_CHARS, SENT_AT_MAX_YEAR, SENT_AT_MIN_YEAR } from './source-record.js';

/** One message of an import: the record it becomes, or why it was rejected (`code` from ErrorCode). */
export interface ParsedMessage {
  index: number;
  record?: IncomingRecord;
  error?: string;
  code?: ErrorCode;
}

/**
 * HTML longer than this (UTF-16 code units) is cut before it is converted to text: html-to-text takes
 * about 0.2 s per million characters on this event loop, and the body keeps at most MAX_BODY_CHARS anyway.
 */
export const MAX_HTML_CHARS_TO_CONVERT = 1_000_000;

// how much of the raw message mailparser is given at a time, and so about the most of an attachment
// that is decoded at once (bytes)
const INPUT_SLICE_BYTES = 64 * 1024;

// a Date outside the years every record is held to (SENT_AT_MIN_YEAR..SENT_AT_MAX_YEAR in
// source-record.ts) is a broken clock or a typo (0000, 20255), not a real send time

// what the record schema accepts (source-record.ts); longer values are cut here rather than rejected there
const MAX_FROM_CHARS = 1_000;
const MAX_TO_CHARS = 10_000;
const MAX_SUBJECT_CHARS = 2_000;
const MAX_EXTERNAL_ID_CHARS = 512;

const HEADINGS = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'th'];
const TABLE_PARTS = ['table', 'thead', 'tbody', 'tfoot', 'tr', 'td', 'th'];

// deeper HTML is refused rather than converted (see exceedsNestingDepth); Chrome's own parser flattens
// anything past 512 levels, so no real message comes near
const MAX_HTML_DEPTH = 1_000;

// tuned for records read by an extraction model rather than for a terminal: no wrapping, names keep
// their case in headings, no-break spaces are spaces, every table cell on its own line (a layout
// table's cells otherwise run together: "Dave JonesCFO"), images dropped (their alt text is mostly
// "logo"), a link keeps its address in brackets unless the text already shows it; html-to-text drops
// <head>, <script> and <style> and decodes entities by default
const htmlToText = compile({
  wordwrap: false,
  // &nbsp; between a first and a last name is still one space to whoever reads the name
  whitespaceCharacters: ' \t\r\n\f\u200b\u00a0',
  limits: { maxInputLength: MAX_HTML_CHARS_TO_CONVERT, maxDepth: MAX_HTML_DEPTH },
  selectors: [
    { selector: 'img', format: 'skip' },
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true, ignoreHref: false } },
    ...HEADINGS.map((selector) => ({ selector, options: { uppercase: false } })),
    ...TABLE_PARTS.map((selector) => ({ selector, format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } })),
  ],
});

/**
 * Turns one RFC 5322 message (MIME per RFC 2045-2049) into a record, for any mail source (an mbox
 * import today, an IMAP connector later). Never throws: a message that cannot become a record comes
 * back with `error` and `code` and no `record`.
 *
 * - Text: the message's text/plain parts; when they are empty (an HTML-only message, a
 *   multipart/alternative without text/plain, multipart/related, multipart/mixed with an HTML part and
 *   attachments), its HTML converted by html-to-text (scripts and styles dropped, entities decoded,
 *   links kept as "text [url]"). HTML past MAX_HTML_CHARS_TO_CONVERT characters is not converted, and
 *   HTML nested deeper than 1,000 elements rejects the message (ErrorCode.InvalidRecord); the
 *   text is cut to MAX_BODY_CHARS characters (truncated, not rejected: a long thread's people are at its
 *   start, and rejecting would lose the whole message).
 * - Attachments: mailparser's streaming MailParser (not simpleParser, which buffers every attachment)
 *   is fed `raw` in 64 KB slices, and each attachment stream is drained and discarded chunk by chunk;
 *   no attachment byte outlives its chunk, so a 30 MB PDF costs one chunk of memory, not 30 MB. Text
 *   parts are held by mailparser whole; they are bounded by `raw`, which the caller caps.
 * - Date: the Date header read from the raw header lines as RFC 5322 section 3.3 date-time (obsolete
 *   zones and two-digit years included, a wrong day-of-week ignored). When it is missing, unreadable
 *   (`23.03.2015 10:00`, an RFC 2047 encoded word, garbage) or outside the years 1900-2199 (Postgres
 *   refuses some, and none is a real send time), `postmarkDate` is used when it is valid and within
 *   those years; otherwise the message is rejected with ErrorCode.InvalidDate. Never the import time
 *   (mailparser's own date falls back to "now", so it is not used).
 * - Addresses: From, To and Cc as mailparser formats them (`"Name" <a@b>`, comma separated).
 * - externalId: the Message-ID (its `sha256:<hex>` past 512 characters), or `sha256:<hex of raw>`
 *   without one, so a re-import is idempotent.
 *
 * @param raw the message bytes (headers and body; no mbox From_ line).
 * @param index the message's position in its import, echoed in the result.
 * @param postmarkDate the date the message was received (an mbox From_ line, an IMAP INTERNALDATE).
 */
export async function parseMailMessage(raw: Buffer, index: number, postmarkDate?: Date): Promise<ParsedMessage> {
  try {
    const mail = await readMail(raw);
    const sentAt = sendDate(mail.headerLines, postmarkDate);
    if (typeof sentAt === 'string') return { index, error: sentAt, code: ErrorCode.InvalidDate };
    const body = bodyText(mail);
    if (body === undefined) return { index, error: `message HTML is nested deeper than ${MAX_HTML_DEPTH} elements`, code: ErrorCode.InvalidRecord };
    return {
      index,
      record: {
        externalId: messageId(mail.parser) ?? `sha256:${createHash('sha256').update(raw).digest('hex')}`,
        from: addressText(mail.parser.from, MAX_FROM_CHARS),
        to: addressText(mail.parser.to, MAX_TO_CHARS),
        cc: addressText(mail.parser.cc, MAX_TO_CHARS),
        subject: (mail.parser.subject ?? '').slice(0, MAX_SUBJECT_CHARS),
        body: truncate(body, MAX_BODY_CHARS),
        sentAt,
      },
    };
  } catch {
    // mailparser refuses a message (a header block over 1 MB, more than 1,000 parts) with an error
    return { index, error: 'message could not be parsed', code: ErrorCode.InvalidRecord };
  }
}

interface ReadMail {
  parser: MailParser;
  headerLines: HeaderLines;
  content: MessageText | undefined;
}

async function readMail(raw: Buffer): Promise<ReadMail> {
  const parser = new MailParser({
    skipImageLinks: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    // attachments are thrown away: hashing them would only burn CPU
    checksumAlgo: false,
    maxHtmlLengthToParse: MAX_HTML_CHARS_TO_CONVERT,
  });
  // fed in slices: given one Buffer, mailparser decodes a base64 attachment in one piece, allocating
  // all of it at once however the content stream is then read
  const source = Readable.from(slices(raw, INPUT_SLICE_BYTES));
  source.pipe(parser);
  let content: MessageText | undefined;
  try {
    for await (const part of parser as AsyncIterable<AttachmentStream | MessageText>) {
      if (part.type === 'attachment') await discard(part);
      else content = part;
    }
  } finally {
    source.destroy();
  }
  return { parser, headerLines: parser.headerLines || [], content };
}

function* slices(bytes: Buffer, size: number): Generator<Buffer> {
  for (let start = 0; start < bytes.length; start += size) yield bytes.subarray(start, start + size);
}

/** The parser waits for every attachment to be read and released before it goes on. */
async function discard(attachment: AttachmentStream): Promise<void> {
  for await (const chunk of attachment.content as AsyncIterable<Buffer>) void chunk;
  attachment.release?.();
}

// "<>" names no message: taken as an id, every such message would be a duplicate of the first. An id
// longer than an external id may be is kept as its SHA-256: cut short, two ids sharing their first
// 512 characters would become one record
function messageId(parser: MailParser): string | undefined {
  const id = parser.messageId;
  if (!id || !id.replace(/[<>\s]/g, '')) return undefined;
  return id.length <= MAX_EXTERNAL_ID_CHARS ? id : `sha256:${createHash('sha256').update(id).digest('hex')}`;
}

/** The body text; undefined when it would come from HTML nested too deep to convert. */
function bodyText(mail: ReadMail): string | undefined {
  const text = mail.content?.text?.trim() ?? '';
  const html = mail.content?.html?.slice(0, MAX_HTML_CHARS_TO_CONVERT);
  // mailparser converts a lone text/html message itself, with terminal-style options (wrapped at 80
  // columns, upper-case headings); ours are tuned for extraction
  if (!html || (text && !isSinglePartHtml(mail.parser))) return text;
  return exceedsNestingDepth(html, MAX_HTML_DEPTH) ? undefined : htmlToText(html).trim();
}

function isSinglePartHtml(parser: MailParser): boolean {
  const contentType = parser.headers ? parser.headers.get('content-type') : undefined;
  return isStructuredHeader(contentType) && contentType.value.toLowerCase() === 'text/html';
}

function isStructuredHeader(value: HeaderValue | undefined): value is StructuredHeader {
  return typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date) && typeof value.value === 'string';
}

/** The send date, or why there is none (the rejection message). */
function sendDate(headerLines: HeaderLines, postmarkDate: Date | undefined): Date | string {
  const header = headerLines.find((h) => h.key === 'date');
  const value = header ? unfold(header.line.slice(header.line.indexOf(':') + 1)) : undefined;
  const parsed = value === undefined ? undefined : rfc5322Date(value);
  if (parsed && isSentAtInRange(parsed)) return parsed;
  if (postmarkDate && !Number.isNaN(postmarkDate.getTime()) && isSentAtInRange(postmarkDate)) return postmarkDate;
  const problem =
    value === undefined
      ? 'message has no Date header'
      : parsed
        ? `message Date ${parsed.toISOString()} is outside the years ${SENT_AT_MIN_YEAR}-${SENT_AT_MAX_YEAR}`
        : `message Date header is not an RFC 5322 date: "${value.slice(0, 100)}"`;
  return `${problem}, and no valid postmark date`;
}

// RFC 5322 section 3.2.2: a folded header continues on lines that start with white space
function unfold(value: string): string {
  return value.replace(/\r?\n(?=[ \t])/g, '').trim();
}

function rfc5322Date(value: string): Date | undefined {
  // the day-of-week repeats the date; mailers that get it wrong still send the right date
  const withoutWeekday = value.replace(/^[A-Za-z]{3},\s*/, '');
  const parsed = DateTime.fromRFC2822(withoutWeekday, { zone: 'utc' });
  return parsed.isValid ? parsed.toJSDate() : undefined;
}

function addressText(value: AddressObject | AddressObject[] | undefined, maxChars: number): string {
  if (!value) return '';
  return truncate(
    (Array.isArray(value) ? value : [value])
      .map((a) => a.text)
      .join(', ')
      .trim(),
    maxChars,
  );
}

/** Cuts to `maxChars` UTF-16 code units without leaving half of a surrogate pair at the end. */
function truncate(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const cut = text.slice(0, maxChars);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}
