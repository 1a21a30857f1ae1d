import { describe, expect, it } from '@jest/globals';
import { parseMbox, splitMbox } from './mbox-parser.js';
import { InvalidMboxError } from './records.errors.js';

const message = (id: string, body: string, headers = 'Date: Mon, 06 Jan 2025 09:00:00 +0000\n') =>
  `From sender@example.test Mon Jan  6 09:00:00 2025\nMessage-ID: <${id}@example.test>\n${headers}From: A <a@example.test>\nTo: b@example.test\nSubject: ${id}\n\n${body}\n\n`;

describe('splitMbox', () => {
  it('yields nothing for an empty archive, blank lines, or text without a "From " line', () => {
    expect([...splitMbox('')]).toEqual([]);
    expect([...splitMbox('\n\r\n  \n')]).toEqual([]);
    expect([...splitMbox('Subject: not an mbox\n\nhello\n')]).toEqual([]);
  });

  it('splits on "From " lines at the start or after a blank line, dropping the separator', () => {
    const parts = [...splitMbox(message('one', 'first') + message('two', 'second'))];
    expect(parts).toHaveLength(2);
    expect(parts[0]).toMatch(/^Message-ID: <one@example.test>\n/);
    expect(parts[0]).not.toContain('From sender@');
    expect(parts[1]).toContain('\n\nsecond\n');
  });

  it('does not split on a "From " line inside a paragraph', () => {
    const parts = [...splitMbox(message('one', 'Hello\nFrom the team, thanks'))];
    expect(parts).toHaveLength(1);
    expect(parts[0]).toContain('Hello\nFrom the team, thanks');
  });

  it('handles CRLF line endings like LF', () => {
    const lf = message('one', 'first') + message('two', 'second');
    expect([...splitMbox(lf.replace(/\n/g, '\r\n'))]).toEqual([...splitMbox(lf)]);
  });

  it('undoes mboxrd quoting one level', () => {
    const [part] = [...splitMbox(message('one', '>From the archive\n>>From deeper\n> From is not quoting\n>Fromage'))];
    expect(part).toContain('\nFrom the archive\n>From deeper\n> From is not quoting\n>Fromage');
  });

  it('ignores text before the first separator and skips empty messages', () => {
    const parts = [...splitMbox(`preamble\n\nFrom x Mon Jan  6 09:00:00 2025\n\n${message('one', 'body')}`)];
    expect(parts).toHaveLength(1);
    expect(parts[0]).toContain('<one@example.test>');
  });
});

describe('parseMbox', () => {
  it('returns no messages for an empty archive', async () => {
    await expect(parseMbox('')).resolves.toEqual([]);
    await expect(parseMbox(Buffer.alloc(0))).resolves.toEqual([]);
  });

  it('reads headers, the text body and the date of each message, with CRLF line endings', async () => {
    const archive = (message('one', 'First body\n>From quoted') + message('two', 'Second body')).replace(/\n/g, '\r\n');
    const [one, two] = await parseMbox(Buffer.from(archive));
    expect(one).toEqual({
      index: 0,
      record: {
        externalId: '<one@example.test>',
        from: '"A" <a@example.test>',
        to: 'b@example.test',
        cc: '',
        subject: 'one',
        body: 'First body\nFrom quoted',
        sentAt: new Date('2025-01-06T09:00:00Z'),
      },
    });
    expect(two.record?.body).toBe('Second body');
  });

  it('reads the Cc recipients as one comma-separated text', async () => {
    const headers = 'Date: Mon, 06 Jan 2025 09:00:00 +0000\nCc: "Doe, Jane" <jane@example.test>, carol@example.test\n';
    const [parsed] = await parseMbox(message('cc', 'body', headers));
    expect(parsed.record?.cc).toBe('"Doe, Jane" <jane@example.test>, carol@example.test');
  });

  it('converts an HTML-only body to text', async () => {
    const headers = 'Date: Mon, 06 Jan 2025 09:00:00 +0000\nContent-Type: text/html; charset=utf-8\n';
    const [parsed] = await parseMbox(message('html', '<p>Hello <b>World</b> &amp; friends</p>', headers));
    expect(parsed.record?.body).toBe('Hello World & friends');
  });

  it('decodes 8-bit parts by their own charset', async () => {
    const headers = 'Date: Mon, 06 Jan 2025 09:00:00 +0000\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n';
    const [parsed] = await parseMbox(Buffer.from(message('latin', 'caf\xe9', headers), 'latin1'));
    expect(parsed.record?.body).toBe('café');
  });

  it('reports a message without a Date header by its index instead of failing the archive', async () => {
    const parsed = await parseMbox(message('dated', 'ok') + message('undated', 'no date', ''));
    expect(parsed[0].record).toBeDefined();
    expect(parsed[1]).toEqual({ index: 1, error: 'message has no valid Date header' });
  });

  it('identifies a message without a Message-ID by its content, the same on every import', async () => {
    const archive = 'From x Mon Jan  6 09:00:00 2025\nDate: Mon, 06 Jan 2025 09:00:00 +0000\nSubject: anonymous\n\nbody\n';
    const [first] = await parseMbox(archive);
    const [second] = await parseMbox(archive);
    expect(first.record?.externalId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(second.record?.externalId).toBe(first.record?.externalId);
  });

  it('stops at maxMessages instead of parsing the whole archive', async () => {
    const archive = message('a', '1') + message('b', '2') + message('c', '3');
    await expect(parseMbox(archive, 2)).rejects.toThrow(InvalidMboxError);
    await expect(parseMbox(archive, 3)).resolves.toHaveLength(3);
  });
});
