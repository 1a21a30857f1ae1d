import { createHash } from 'node:crypto';
import { simpleParser, type AddressObject } from 'mailparser';
import type { IncomingRecord } from './source-record.js';

export interface ParsedMessage {
  index: number;
  record?: IncomingRecord;
  error?: string;
}

/**
 * Splits an mbox archive (mboxo or mboxrd: messages separated by "From " lines) into messages. The
 * separator line is dropped and ">From " quoting is undone one level, as mboxrd specifies.
 */
export function* splitMbox(archive: string): Generator<string> {
  const lines = archive.split(/\r?\n/);
  let current: string[] | undefined;
  let previousBlank = true;
  for (const line of lines) {
    if (line.startsWith('From ') && previousBlank) {
      if (current && current.some((l) => l.trim())) yield current.join('\n');
      current = [];
    } else if (current) {
      current.push(/^>+From /.test(line) ? line.slice(1) : line);
    }
    previousBlank = line.trim() === '';
  }
  if (current && current.some((l) => l.trim())) yield current.join('\n');
}

/** Parses every message with mailparser: headers, the text body (HTML converted to text when there is no text part). */
export async function parseMbox(archive: string): Promise<ParsedMessage[]> {
  const results: ParsedMessage[] = [];
  let index = 0;
  for (const raw of splitMbox(archive)) {
    results.push(await parseMessage(raw, index++));
  }
  return results;
}

async function parseMessage(raw: string, index: number): Promise<ParsedMessage> {
  try {
    const mail = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true });
    if (!mail.date || Number.isNaN(mail.date.getTime())) return { index, error: 'message has no valid Date header' };
    const body = (mail.text ?? '').trim();
    return {
      index,
      record: {
        // a message without a Message-ID is identified by its content, so a re-import stays idempotent
        externalId: mail.messageId?.slice(0, 512) ?? `sha256:${createHash('sha256').update(raw).digest('hex')}`,
        from: addresses(mail.from),
        to: addresses(mail.to),
        subject: mail.subject ?? '',
        body,
        sentAt: mail.date,
      },
    };
  } catch {
    return { index, error: 'message could not be parsed' };
  }
}

function addresses(value: AddressObject | AddressObject[] | undefined): string {
  if (!value) return '';
  return (Array.isArray(value) ? value : [value]).map((a) => a.text).join(', ').slice(0, 1_000);
}
