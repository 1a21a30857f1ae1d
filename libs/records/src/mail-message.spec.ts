import { describe, expect, it } from '@jest/globals';
import { ErrorCode } from '#libs/common';
import { MAX_HTML_CHARS_TO_CONVERT, parseMailMessage } from './mail-message.js';
import { MAX_BODY_CHARS } from './source-record.js';

const DATE = 'Date: Mon, 06 Jan 2025 09:00:00 +0000';
const POSTMARK = new Date('2015-03-23T10:00:00Z');

/** A message with the given extra headers and body; CRLF as on the wire. */
function mail(headers: string[], body: string | Buffer): Buffer {
  const head = [
    'Message-ID: <m@example.test>',
    'From: Alice <alice@example.test>',
    'To: bob@example.test',
    'Subject: test',
    'MIME-Version: 1.0',
    ...headers,
  ]
    .join('\r\n')
    .concat('\r\n\r\n');
  return Buffer.concat([Buffer.from(head, 'latin1'), typeof body === 'string' ? Buffer.from(body.replace(/\r?\n/g, '\r\n')) : body]);
}

/** A multipart body: each part is its header lines and its content. */
function multipart(boundary: string, parts: [string[], string][]): string {
  return parts.map(([headers, content]) => `--${boundary}\n${headers.join('\n')}\n\n${content}\n`).join('') + `--${boundary}--\n`;
}

const HTML = [
  '<html><head><title>Minutes</title><style>p { color: red }</style><script>var who = "Mallory Hidden";</script></head>',
  '<body><h1>Board minutes</h1><p>Present:&nbsp;<b>Grace Hopper</b> &amp; Ada Lovelace &mdash; caf&eacute;</p>',
  '<p>See <a href="https://example.test/plan">the plan</a> or write to <a href="mailto:ada@example.test">ada@example.test</a>.</p>',
  '<table><tr><td>Alan Turing</td><td>CFO</td></tr></table><img src="cid:logo@x" alt="Company logo"></body></html>',
].join('');
const HTML_TEXT = [
  'Board minutes',
  '',
  'Present: Grace Hopper & Ada Lovelace — café',
  '',
  'See the plan [https://example.test/plan] or write to ada@example.test.',
  '',
  'Alan Turing',
  'CFO',
].join('\n');

// a tiny but well-formed PDF, base64 as a mail client sends it
const PDF_BASE64 = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n')
  .toString('base64')
  .replace(/.{76}/g, '$&\n');

async function bodyOf(raw: Buffer): Promise<string | undefined> {
  const parsed = await parseMailMessage(raw, 0);
  expect(parsed.error).toBeUndefined();
  return parsed.record?.body;
}

describe('parseMailMessage: text from HTML', () => {
  it('converts a single text/html message: scripts, styles and images dropped, entities decoded, links readable, table cells apart', async () => {
    await expect(bodyOf(mail([DATE, 'Content-Type: text/html; charset=utf-8'], HTML))).resolves.toBe(HTML_TEXT);
  });

  it('takes the HTML of a multipart/alternative without text/plain', async () => {
    const body = multipart('alt', [
      [['Content-Type: text/html; charset=utf-8'], HTML],
      [['Content-Type: text/calendar; charset=utf-8'], 'BEGIN:VCALENDAR\nEND:VCALENDAR'],
    ]);
    await expect(bodyOf(mail([DATE, 'Content-Type: multipart/alternative; boundary="alt"'], body))).resolves.toBe(HTML_TEXT);
  });

  it('takes the HTML of a multipart/related with an inline image, without the image', async () => {
    const body = multipart('rel', [
      [['Content-Type: text/html; charset=utf-8'], HTML],
      [
        ['Content-Type: image/png', 'Content-Transfer-Encoding: base64', 'Content-ID: <logo@x>', 'Content-Disposition: inline; filename="logo.png"'],
        'iVBORw0KGgo=',
      ],
    ]);
    const text = await bodyOf(mail([DATE, 'Content-Type: multipart/related; boundary="rel"; type="text/html"'], body));
    expect(text).toBe(HTML_TEXT);
  });

  it('takes the HTML of a multipart/mixed with an HTML-only alternative and a base64 PDF attachment, leaving the PDF out', async () => {
    const body = multipart('mix', [
      [['Content-Type: multipart/alternative; boundary="alt"'], multipart('alt', [[['Content-Type: text/html; charset=utf-8'], HTML]])],
      [
        [
          'Content-Type: application/pdf; name="minutes.pdf"',
          'Content-Transfer-Encoding: base64',
          'Content-Disposition: attachment; filename="minutes.pdf"',
        ],
        PDF_BASE64,
      ],
    ]);
    const text = await bodyOf(mail([DATE, 'Content-Type: multipart/mixed; boundary="mix"'], body));
    expect(text).toBe(HTML_TEXT);
    expect(text).not.toMatch(/PDF|Catalog|JVBER/);
  });

  it('decodes quoted-printable HTML (soft line breaks, =3D, UTF-8 bytes)', async () => {
    const qp = '<p style=3D"margin:0">Met Kath=\nerine Johnson at the caf=C3=A9 =E2=80=94 ok</p>';
    const raw = mail([DATE, 'Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable'], qp);
    await expect(bodyOf(raw)).resolves.toBe('Met Katherine Johnson at the café — ok');
  });

  it('decodes iso-8859-1 HTML by its charset', async () => {
    const latin1 = Buffer.from('<p>Jos\xe9 Mar\xeda N\xfa\xf1ez &amp; Fran\xe7ois</p>', 'latin1');
    const raw = mail([DATE, 'Content-Type: text/html; charset=iso-8859-1', 'Content-Transfer-Encoding: 8bit'], latin1);
    await expect(bodyOf(raw)).resolves.toBe('José María Núñez & François');
  });

  it('prefers the text/plain part of an alternative to its HTML', async () => {
    const body = multipart('alt', [
      [['Content-Type: text/plain; charset=utf-8'], 'Plain Grace'],
      [['Content-Type: text/html; charset=utf-8'], '<p>HTML Grace</p>'],
    ]);
    await expect(bodyOf(mail([DATE, 'Content-Type: multipart/alternative; boundary="alt"'], body))).resolves.toBe('Plain Grace');
  });

  it('keeps an HTML part that sits beside text/plain in a multipart/mixed (people named only there)', async () => {
    const body = multipart('mix', [
      [['Content-Type: text/plain; charset=utf-8'], 'See below.'],
      [['Content-Type: text/html; charset=utf-8'], '<p>Forwarded from <b>Margaret Hamilton</b></p>'],
    ]);
    const text = await bodyOf(mail([DATE, 'Content-Type: multipart/mixed; boundary="mix"'], body));
    expect(text).toContain('See below.');
    expect(text).toContain('Margaret Hamilton');
  });

  it('rejects a message whose HTML nests deeper than 1,000 elements instead of converting it (quadratic in htmlparser2)', async () => {
    const deep = mail([DATE, 'Content-Type: text/html; charset=utf-8'], `${'<div>'.repeat(200_000)}Grace`);
    await expect(parseMailMessage(deep, 4)).resolves.toEqual({
      index: 4,
      code: ErrorCode.InvalidRecord,
      error: 'message HTML is nested deeper than 1000 elements',
    });
    // depth is what counts: as many elements side by side, or unclosed cells and paragraphs, convert
    const wide = mail(
      [DATE, 'Content-Type: text/html; charset=utf-8'],
      `${'<div>a</div>'.repeat(2_000)}${'<td>b'.repeat(2_000)}<!-- ${'<div>'.repeat(2_000)} -->`,
    );
    await expect(parseMailMessage(wide, 0)).resolves.toMatchObject({ record: { body: expect.stringMatching(/^a\na\n[\s\S]*b$/) } });
  });

  it('converts only the first MAX_HTML_CHARS_TO_CONVERT characters of a huge HTML part', async () => {
    const filler = '<p>filler</p>'.repeat(Math.ceil(MAX_HTML_CHARS_TO_CONVERT / 13));
    const text = await bodyOf(mail([DATE, 'Content-Type: text/html; charset=utf-8'], `<p>Early Person</p>${filler}<p>Late Person</p>`));
    expect(text).toMatch(/^Early Person\n\nfiller/);
    expect(text).not.toContain('Late Person');
  });
});

describe('parseMailMessage: size caps', () => {
  it('keeps a Message-ID longer than 512 characters as its SHA-256, so two sharing their first 512 stay two records', async () => {
    const long = (tail: string) =>
      Buffer.from(`Message-ID: <${'x'.repeat(600)}${tail}@example.test>\r\nFrom: a@example.test\r\n${DATE}\r\nSubject: s\r\n\r\nbody\r\n`);
    const [one, two] = await Promise.all([parseMailMessage(long('1'), 0), parseMailMessage(long('2'), 1)]);
    expect(one.record?.externalId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(two.record?.externalId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(one.record?.externalId).not.toBe(two.record?.externalId);
  });

  it('cuts the text to MAX_BODY_CHARS characters (truncated, not rejected), never through a surrogate pair', async () => {
    const text = `${'a'.repeat(MAX_BODY_CHARS - 1)}😀 and more`;
    const parsed = await parseMailMessage(mail([DATE, 'Content-Type: text/plain; charset=utf-8'], text), 0);
    expect(parsed.record?.body).toBe('a'.repeat(MAX_BODY_CHARS - 1));
  });

  it('reports a message mailparser refuses (a header block over 1 MB) as INVALID_RECORD instead of throwing', async () => {
    const parsed = await parseMailMessage(mail([DATE, `X-Huge: ${'x'.repeat(1_100_000)}`], 'body'), 7);
    expect(parsed).toEqual({ index: 7, code: ErrorCode.InvalidRecord, error: 'message could not be parsed' });
  });
});

describe('parseMailMessage: dates', () => {
  const dated = (dateHeaders: string[]) => mail([...dateHeaders, 'Content-Type: text/plain'], 'hello');
  const sentAt = async (dateHeaders: string[], postmark?: Date) => (await parseMailMessage(dated(dateHeaders), 0, postmark)).record?.sentAt;

  it('uses a valid Date header over the postmark date', async () => {
    await expect(sentAt([DATE], POSTMARK)).resolves.toEqual(new Date('2025-01-06T09:00:00Z'));
  });

  it.each([
    ['a zone offset and a comment', 'Date: Mon, 6 Jan 2025 10:00:00 +0100 (CET)', '2025-01-06T09:00:00Z'],
    ['no day-of-week or seconds, an obsolete zone', 'Date: 6 Jan 2025 04:00 EST', '2025-01-06T09:00:00Z'],
    ['a two-digit year', 'Date: Mon, 06 Jan 25 09:00:00 GMT', '2025-01-06T09:00:00Z'],
    ['a wrong day-of-week', 'Date: Fri, 06 Jan 2025 09:00:00 +0000', '2025-01-06T09:00:00Z'],
    ['folding', 'Date: Mon, 06 Jan 2025\r\n 09:00:00 +0000', '2025-01-06T09:00:00Z'],
  ])('reads an RFC 5322 date with %s', async (_, header, iso) => {
    await expect(sentAt([header])).resolves.toEqual(new Date(iso));
  });

  it.each([
    ['missing', []],
    ['a dotted European date', ['Date: 23.03.2015 10:00']],
    ['an RFC 2047 encoded word', ['Date: =?UTF-8?Q?Mon=2C_23_Mar_2015_10=3A00=3A00_+0000?=']],
    ['garbage', ['Date: soon']],
    ['empty', ['Date: ']],
    ['year 0000', ['Date: Sat, 01 Jan 0000 00:00:00 +0000']],
    ['before 1900', ['Date: Sun, 01 Jan 1899 00:00:00 +0000']],
    ['after 2199', ['Date: Wed, 01 Jan 2200 00:00:00 +0000']],
  ])('falls back to the postmark date when the Date header is %s', async (_, headers) => {
    await expect(sentAt(headers, POSTMARK)).resolves.toEqual(POSTMARK);
  });

  it.each([
    ['missing', [], 'message has no Date header, and no valid postmark date'],
    [
      'a dotted European date',
      ['Date: 23.03.2015 10:00'],
      'message Date header is not an RFC 5322 date: "23.03.2015 10:00", and no valid postmark date',
    ],
    [
      'an RFC 2047 encoded word',
      ['Date: =?UTF-8?Q?Mon=2C_23_Mar_2015_10=3A00=3A00_+0000?='],
      'message Date header is not an RFC 5322 date: "=?UTF-8?Q?Mon=2C_23_Mar_2015_10=3A00=3A00_+0000?=", and no valid postmark date',
    ],
    [
      'year 0000',
      ['Date: Sat, 01 Jan 0000 00:00:00 +0000'],
      'message Date 0000-01-01T00:00:00.000Z is outside the years 1900-2199, and no valid postmark date',
    ],
  ])('rejects a message whose Date header is %s as INVALID_DATE without a postmark date, never dating it now', async (_, headers, error) => {
    await expect(parseMailMessage(dated(headers), 2)).resolves.toEqual({ index: 2, code: ErrorCode.InvalidDate, error });
  });

  it.each([
    ['invalid', new Date(Number.NaN)],
    ['before 1900', new Date('1800-01-01T00:00:00Z')],
    ['after 2199', new Date('2200-01-01T00:00:00Z')],
  ])('rejects a Date-less message as INVALID_DATE when the postmark date is %s', async (_, postmark) => {
    await expect(parseMailMessage(dated([]), 0, postmark)).resolves.toEqual({
      index: 0,
      code: ErrorCode.InvalidDate,
      error: 'message has no Date header, and no valid postmark date',
    });
  });
});

describe('parseMailMessage: headers', () => {
  it('builds the record from the headers (Cc included), identifying a message without a Message-ID by its bytes', async () => {
    const raw = Buffer.from(
      [
        DATE,
        'From: =?UTF-8?Q?Jos=C3=A9?= <jose@example.test>',
        'To: Bob <bob@example.test>, carol@example.test',
        'Cc: dan@example.test',
        'Subject: =?UTF-8?Q?Caf=C3=A9_plan?=',
        '',
        'Hi',
      ].join('\r\n'),
    );
    const first = await parseMailMessage(raw, 0);
    expect(first.record).toEqual({
      externalId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      from: '"José" <jose@example.test>',
      to: '"Bob" <bob@example.test>, carol@example.test',
      cc: 'dan@example.test',
      subject: 'Café plan',
      body: 'Hi',
      sentAt: new Date('2025-01-06T09:00:00Z'),
    });
    expect((await parseMailMessage(raw, 1)).record?.externalId).toBe(first.record?.externalId);
  });

  it('takes an empty Message-ID ("<>") as none, so such messages are not duplicates of each other', async () => {
    const raw = (text: string) => Buffer.from(`Message-ID: <>\r\n${DATE}\r\n\r\n${text}`);
    const [one, two] = await Promise.all([parseMailMessage(raw('one'), 0), parseMailMessage(raw('two'), 1)]);
    expect(one.record?.externalId).toMatch(/^sha256:/);
    expect(two.record?.externalId).toMatch(/^sha256:/);
    expect(one.record?.externalId).not.toBe(two.record?.externalId);
  });
});
