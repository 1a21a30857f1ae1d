import { parseMailMessage, type ParsedMessage } from './mail-message.js';
import { InvalidMboxError } from './records.errors.js';

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
 * Parses every message with parseMailMessage (see there for text, attachments and dates). A message
 * that cannot become a record is reported with its index and code, not thrown.
 */
export async function parseMbox(archive: Buffer | string, maxMessages = Infinity): Promise<ParsedMessage[]> {
  // split as latin1, where one character is one byte, so 8-bit parts reach mailparser byte for byte
  // and are decoded by their own charset
  const bytes = typeof archive === 'string' ? Buffer.from(archive) : archive;
  const results: ParsedMessage[] = [];
  for (const raw of splitMbox(bytes.toString('latin1'))) {
    if (results.length === maxMessages) throw new InvalidMboxError(`At most ${maxMessages} messages per upload`);
    results.push(await parseMailMessage(Buffer.from(raw, 'latin1'), results.length));
  }
  return results;
}
