import type { ParsedMessage } from './mail-message.js';

/**
 * The mail parser of every mail source (an mbox import, a mailbox backfill): one RFC 5322 message
 * in, its record or why it cannot be one out (see parseMailMessage). Loaded on first use: it is
 * large, and most processes never parse mail.
 */
export async function parseMail(raw: Buffer, index: number, postmarkDate?: Date): Promise<ParsedMessage> {
  const { parseMailMessage } = await import('./mail-message.js');
  return parseMailMessage(raw, index, postmarkDate);
}
