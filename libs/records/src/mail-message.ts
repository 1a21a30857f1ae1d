import { createHash } from 'node:crypto';
import { simpleParser, type AddressObject } from 'mailparser';
import type { IncomingRecord } from './source-record.js';

/** One mbox message as a record, or why it cannot be one; `index` is its position in the archive. */
export interface ParsedMessage {
  index: number;
  record?: IncomingRecord;
  error?: string;
}

/**
 * Parses one message (RFC 5322 with MIME) with mailparser: headers and the text body (HTML converted
 * to text when there is no text part). A message that cannot become a record is reported with its
 * index, never thrown. `raw` as the mbox splitter yields it; `_postmarkDate` is the date of its From_
 * line (not used yet).
 */
export async function parseMailMessage(raw: Buffer, index: number, _postmarkDate?: Date): Promise<ParsedMessage> {
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
