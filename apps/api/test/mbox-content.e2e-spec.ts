import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PrismaService } from '#libs/database';
import type { IngestResult } from '#libs/records';
import { ApiHarness } from './api-harness.js';

// the people are named only in the HTML; the PDF's bytes must not reach the body
const PDF_BASE64 = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n').toString('base64');
const MBOX = [
  'From grace@example.test Mon Jan  6 09:00:00 2025',
  'Message-ID: <html-mixed@example.test>',
  'Date: Mon, 06 Jan 2025 09:00:00 +0000',
  'From: Grace <grace@example.test>',
  'To: team@example.test',
  'Subject: Minutes',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="mix"',
  '',
  '--mix',
  'Content-Type: multipart/alternative; boundary="alt"',
  '',
  '--alt',
  'Content-Type: text/html; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  '<html><head><style>p { color: red }</style></head><body><p>Present: <b>Grace Hopper</b> &amp; Ada =',
  'Lovelace.</p><p>Agenda: <a href=3D"https://example.test/q3">Q3 plan</a></p></body></html>',
  '--alt--',
  '--mix',
  'Content-Type: application/pdf; name="minutes.pdf"',
  'Content-Transfer-Encoding: base64',
  'Content-Disposition: attachment; filename="minutes.pdf"',
  '',
  PDF_BASE64,
  '--mix--',
  '',
  // a From_ line whose date no real message has, and no Date header: nothing to date the message by
  'From ghost@example.test Thu Jan  1 00:00:00 1880',
  'Message-ID: <undated@example.test>',
  'From: ghost@example.test',
  'Subject: Undated',
  '',
  'No Date header here.',
  '',
].join('\n');

describe('mbox message content (e2e)', () => {
  let api: ApiHarness;
  let prisma: PrismaService;

  beforeAll(async () => {
    api = await ApiHarness.start();
    prisma = api.app.get(PrismaService);
  });
  afterAll(() => api.close());

  it('stores the text of an HTML-only message with a PDF attachment, and rejects a message without a usable date as INVALID_DATE', async () => {
    const tenant = await api.newTenant();
    const workspace = await api.newWorkspace(tenant.id);

    const res = await api.request<IngestResult>('POST', `/v1/workspaces/${workspace.id}/imports/mbox`, {
      raw: { data: MBOX, contentType: 'application/mbox' },
    });

    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      accepted: 1,
      duplicates: 0,
      deleted: 0,
      rejected: [{ index: 1, code: 'INVALID_DATE', message: 'message has no Date header, and no valid postmark date' }],
    });
    const rows = await prisma.sourceRecord.findMany({ where: { workspaceId: workspace.id } });
    expect(rows.map((r) => [r.source, r.externalId, r.subject, r.sentAt.toISOString(), r.body])).toEqual([
      [
        'mbox',
        '<html-mixed@example.test>',
        'Minutes',
        '2025-01-06T09:00:00.000Z',
        'Present: Grace Hopper & Ada Lovelace.\n\nAgenda: Q3 plan [https://example.test/q3]',
      ],
    ]);
  });
});
