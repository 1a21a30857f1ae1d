import { createHash } from 'node:crypto';
import { simpleParser, type AddressObject } from 'mailparser';
import type { IncomingRecord } from './source-record.js';
import { InvalidMboxError } from './records.errors.js';

export interface ParsedMessage {
  index: number;
  record?: IncomingRecord;
  error?: string;
}

/**
 * Splits an mbox archive (mboxo or mboxrd: messages separated by "From " lines after a blank line or
 * at the start) into messages. The separator line is dropped, CRLF becomes LF, and ">From " quoting
 * is undone one level, as mboxrd specifies. Anything before the first separator is ignored.
 */
export function* splitMbox(archive: string): Generator<string> {
  let current: string[] | undefined;
  let previousBlank = true;
  for (const line of archive.split(/\r?\n/)) {
    if (line.startsWith('From ') && previousBlank) {
      if (current?.some((l) => l.trim())) yield current.join('\n');
      current = [];
    } else if (current) {
      current.push(/^>+From /.test(line) ? line.slice(1) : line);
    }
    previousBlank = line.trim() === '';
  }
  if (current?.some((l) => l.trim())) yield current.join('\n');
}

/**
 * Parses every message with mailparser: headers and the text body (HTML converted to text when there
 * is no text part). A message that cannot become a record is reported with its index, not thrown.
 */
export async function parseMbox(archive: Buffer | string, maxMessages = Infinity): Promise<ParsedMessage[]> {
  // split as latin1, where one character is one byte, so 8-bit parts reach mailparser byte for byte
  // and are decoded by their own charset
  const bytes = typeof archive === 'string' ? Buffer.from(archive) : archive;
  const results: ParsedMessage[] = [];
  for (const raw of splitMbox(bytes.toString('latin1'))) {
    if (results.length === maxMessages) throw new InvalidMboxError(`At most ${maxMessages} messages per upload`);
    results.push(await parseMessage(Buffer.from(raw, 'latin1'), results.length));
  }
  return results;
}

async function parseMessage(raw: Buffer, index: number): Promise<ParsedMessage> {
  try {
    const mail = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true });
    if (!mail.date || Number.isNaN(mail.date.getTime())) return { index, error: 'message has no valid Date header' };
    return {
      index,
      record: {
        // a message without a Message-ID is identified by its content, so a re-import stays idempotent
        externalId: mail.messageId?.slice(0, 512) ?? `sha256:${createHash('sha256').update(raw).digest('hex')}`,
        from: addresses(mail.from, 1_000),
        to: addresses(mail.to, 10_000),
        cc: addresses(mail.cc, 10_000),
        subject: mail.subject ?? '',
        body: (mail.text ?? '').trim(),
        sentAt: mail.date,
      },
    };
  } catch {
    return { index, error: 'message could not be parsed' };
  }
}

function addresses(value: AddressObject | AddressObject[] | undefined, maxChars: number): string {
  if (!value) return '';
  return (Array.isArray(value) ? value : [value])
    .map((a) => a.text)
    .join(', ')
    .slice(0, maxChars);
}
