import { describe, expect, it } from '@jest/globals';
import { ErrorCode } from '#libs/common';
import { type MboxMessage, parsePostmark, splitMbox } from './mbox-stream.js';

const LIMITS = { maxRecords: 100, maxMessageBytes: 64 * 1024, maxMessageLines: 1_000 };
const message = (id: string, body: string) =>
  `From sender@example.test Mon Jan  6 09:00:00 2025\nMessage-ID: <${id}@example.test>\nSubject: ${id}\n\n${body}\n\n`;

async function split(archive: string | Buffer, chunkSize = 5, limits = LIMITS): Promise<MboxMessage[]> {
  const bytes = Buffer.from(archive);
  const chunks = Array.from({ length: Math.ceil(bytes.length / chunkSize) }, (_, i) => bytes.subarray(i * chunkSize, (i + 1) * chunkSize));
  const messages: MboxMessage[] = [];
  for await (const m of splitMbox(chunks, limits)) messages.push(m);
  return messages;
}
const texts = (messages: MboxMessage[]) => messages.map((m) => m.raw.toString('latin1'));

describe('parsePostmark', () => {
  it.each([
    ['From alice@example.com Mon Mar 23 10:00:00 2015', '2015-03-23T10:00:00.000Z'],
    ['From MAILER-DAEMON Sat Jan  3 01:05:34 1996', '1996-01-03T01:05:34.000Z'],
    ['From - Mon Jan  6 09:00 2025', '2025-01-06T09:00:00.000Z'],
    ['From 1496238426538318413@xxx Wed May 31 13:57:52 +0000 2017', '2017-05-31T13:57:52.000Z'],
    ['From bob@example.com Mon Mar 23 10:00:00 2015 +0200', '2015-03-23T08:00:00.000Z'],
    ['From bob@example.com Mon Mar 23 10:00:00 2015 remote from relay', '2015-03-23T10:00:00.000Z'],
  ])('reads %s', (line, iso) => {
    expect(parsePostmark(line)?.toISOString()).toBe(iso);
  });

  it('keeps a postmark whose date is impossible, without a date', () => {
    expect(parsePostmark('From a@example.com Mon Feb 30 10:00:00 2015')).toBeUndefined();
    expect(parsePostmark('From a@example.com Mon Feb  3 25:00:00 2015')).toBeUndefined();
  });

  it.each([
    'From the desk of the CEO: we ship on Friday.',
    'From here on',
    'From a@example.com yesterday',
    'From  Mon Mar 23 10:00:00 2015',
    '>From a Mon Mar 23 10:00:00 2015',
  ])('does not take %p for a postmark', (line) => {
    expect(parsePostmark(line)).toBeNull();
  });
});

describe('splitMbox', () => {
  it('splits on postmarks at the start or after a blank line, dropping them, with their dates', async () => {
    const parts = await split(message('one', 'first') + message('two', 'second'));
    expect(texts(parts)).toEqual([
      'Message-ID: <one@example.test>\nSubject: one\n\nfirst\n',
      'Message-ID: <two@example.test>\nSubject: two\n\nsecond\n\n',
    ]);
    expect(parts.map((p) => p.postmarkDate?.toISOString())).toEqual(['2025-01-06T09:00:00.000Z', '2025-01-06T09:00:00.000Z']);
  });

  it('does not split on a "From " body line, after a blank line or inside a paragraph', async () => {
    const parts = await split(message('one', 'Hello\n\nFrom the desk of the CEO: thanks\nFrom the team'));
    expect(parts).toHaveLength(1);
    expect(texts(parts)[0]).toContain('\n\nFrom the desk of the CEO: thanks\nFrom the team\n');
  });

  it('does not split on a postmark-shaped line inside a paragraph', async () => {
    const parts = await split(message('one', 'quoted:\nFrom a@example.com Mon Mar 23 10:00:00 2015'));
    expect(parts).toHaveLength(1);
  });

  it('handles CRLF line endings like LF, whatever the chunking', async () => {
    const lf = message('one', 'first') + message('two', 'second');
    expect(texts(await split(lf.replace(/\n/g, '\r\n'), 1))).toEqual(texts(await split(lf, 4096)));
  });

  it('undoes mboxrd quoting one level', async () => {
    const [part] = await split(message('one', '>From the archive\n>>From deeper\n> From is not quoting\n>Fromage'));
    expect(part.raw.toString()).toContain('\nFrom the archive\n>From deeper\n> From is not quoting\n>Fromage');
  });

  it('skips blank lines before the first postmark, and yields a message with only blank lines as empty (it counts toward the cap)', async () => {
    const parts = await split(`\n\r\n  \nFrom x Mon Jan  6 09:00:00 2025\n\n${message('one', 'body')}`);
    expect(parts.map((p) => p.empty)).toEqual([true, false]);
    expect(texts(parts)[1]).toBe('Message-ID: <one@example.test>\nSubject: one\n\nbody\n\n');
    const postmarksOnly = 'From x Mon Jan  6 09:00:00 2025\n\n'.repeat(3);
    await expect(split(postmarksOnly, 64, { ...LIMITS, maxRecords: 2 })).rejects.toMatchObject({ code: ErrorCode.RecordsLimit });
  });

  it('keeps the bytes of 8-bit messages as sent', async () => {
    const [part] = await split(Buffer.from(message('latin', 'caf\xe9'), 'latin1'), 3);
    expect(part.raw.includes(Buffer.from([0x63, 0x61, 0x66, 0xe9]))).toBe(true);
  });

  it.each([
    ['an empty upload', ''],
    ['blank lines only', '\n\n\n'],
    ['text before the first postmark', `preamble\n\n${message('one', 'body')}`],
    ['a "From " line that is no postmark', 'From the desk of the CEO\n\nhello\n'],
    ['more than 4 KB of blank lines', `${'\n'.repeat(5_000)}${message('one', 'body')}`],
  ])('refuses %s as INVALID_MBOX', async (_, archive) => {
    await expect(split(archive, 1024)).rejects.toMatchObject({ code: ErrorCode.InvalidMbox });
  });

  it('stops at a message past the per-message cap, also within one long line', async () => {
    const limits = { maxRecords: 100, maxMessageBytes: 1024, maxMessageLines: 1_000 };
    await expect(split(message('one', 'a\n'.repeat(1_000)), 64, limits)).rejects.toMatchObject({ code: ErrorCode.RecordsLimit });
    await expect(split(message('one', 'a'.repeat(10_000)), 64, limits)).rejects.toMatchObject({ code: ErrorCode.RecordsLimit });
  });

  it('stops at a message past the per-message line cap (bare newlines cost the mail parser per line), and passes one at the cap', async () => {
    const limits = { maxRecords: 100, maxMessageBytes: 1024 * 1024, maxMessageLines: 1_000 };
    const over = split(message('one', '\n'.repeat(5_000)), 4096, limits);
    await expect(over).rejects.toMatchObject({ code: ErrorCode.RecordsLimit });
    await expect(over).rejects.toThrow('more than 1000 lines');
    // the message's own header lines count too: a body short of the cap passes
    await expect(split(message('one', 'x\n'.repeat(900)), 4096, limits)).resolves.toHaveLength(1);
  });

  it('stops at the message after the record cap', async () => {
    const archive = message('a', '1') + message('b', '2') + message('c', '3');
    await expect(split(archive, 64, { ...LIMITS, maxRecords: 2 })).rejects.toMatchObject({ code: ErrorCode.RecordsLimit });
    await expect(split(archive, 64, { ...LIMITS, maxRecords: 3 })).resolves.toHaveLength(3);
  });
});
