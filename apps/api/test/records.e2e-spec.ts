import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { randomUUID } from 'node:crypto';
import { PrismaService } from '#libs/database';
import type { IngestResult } from '#libs/records';
import { type ApiErrorBody, ApiHarness } from './api-harness.js';

const MBOX = readFileSync(new URL('./fixtures/sample.mbox', import.meta.url));
const MB = 1024 * 1024;

const record = (externalId: string, extra: Record<string, unknown> = {}) => ({
  externalId,
  from: 'alice@example.test',
  to: 'bob@example.test',
  subject: `About ${externalId}`,
  body: `Body of ${externalId}`,
  sentAt: '2025-01-06T09:00:00.000Z',
  ...extra,
});

describe('Records and mbox imports (e2e)', () => {
  let api: ApiHarness;
  let prisma: PrismaService;

  beforeAll(async () => {
    api = await ApiHarness.start();
    prisma = api.app.get(PrismaService);
  });
  afterAll(() => api.close());

  async function newWorkspace() {
    const tenant = await api.newTenant();
    const workspace = await api.newWorkspace(tenant.id);
    return { tenant, workspaceId: workspace.id, token: await api.newTenantToken(tenant.id) };
  }

  // `T`: the answer expected, `ApiErrorBody` for a refusal
  const postRecords = <T = IngestResult>(workspaceId: string, data: string | Buffer, contentType = 'application/json', token?: string | null) =>
    api.request<T>('POST', `/v1/workspaces/${workspaceId}/records`, { raw: { data, contentType }, token });
  const postMbox = <T = IngestResult>(workspaceId: string, data: string | Buffer, contentType = 'application/mbox', token?: string | null) =>
    api.request<T>('POST', `/v1/workspaces/${workspaceId}/imports/mbox`, { raw: { data, contentType }, token });
  const stored = (workspaceId: string) => prisma.sourceRecord.findMany({ where: { workspaceId }, orderBy: { seq: 'asc' } });

  /** A multipart/form-data body exactly as a browser or curl -F sends it. */
  async function encodeForm(body: FormData) {
    const encoded = new Response(body);
    return { data: Buffer.from(await encoded.arrayBuffer()), contentType: encoded.headers.get('content-type')! };
  }
  /**
   * Sends `data` as a client that stops sending once the server has answered (RFC 9112 section 9.6:
   * a server may answer and close before reading all of a body; a client that kept writing into the
   * closed connection would see a reset instead of the answer, depending on timing).
   */
  function sendUntilAnswered(path: string, data: Buffer, contentType: string): Promise<{ status: number; body: ApiErrorBody }> {
    return new Promise((resolve, reject) => {
      const url = new URL(path, api.baseUrl);
      const req = httpRequest(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${api.adminToken}`, 'content-type': contentType, 'content-length': String(data.length) },
      });
      let answered = false;
      req.on('response', (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as ApiErrorBody }));
      });
      // a reset after the answer arrived is the server closing as it said it would
      req.on('error', (error) => {
        if (!answered) reject(error);
      });
      const CHUNK = 256 * 1024;
      let offset = 0;
      const write = () => {
        while (!answered && offset < data.length) {
          const more = req.write(data.subarray(offset, offset + CHUNK));
          offset += CHUNK;
          if (!more) return void req.once('drain', write);
        }
        if (!answered) req.end();
      };
      write();
    });
  }

  function form(field: string, content: Buffer) {
    const body = new FormData();
    body.append(field, new Blob([new Uint8Array(content)], { type: 'application/mbox' }), 'inbox.mbox');
    return encodeForm(body);
  }

  describe('POST /v1/workspaces/:workspaceId/records', () => {
    it('stores a JSON array with a tenant token', async () => {
      const { workspaceId, token } = await newWorkspace();
      const res = await postRecords(
        workspaceId,
        JSON.stringify([record('a'), record('b', { to: 'carol@example.test, dan@example.test' })]),
        'application/json',
        token,
      );
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ accepted: 2, duplicates: 0, deleted: 0, rejected: [] });
      const rows = await stored(workspaceId);
      expect(rows.map((r) => [r.source, r.externalId, r.fromAddr, r.toAddr, r.subject, r.body, r.sentAt.toISOString()])).toEqual([
        ['api', 'a', 'alice@example.test', 'bob@example.test', 'About a', 'Body of a', '2025-01-06T09:00:00.000Z'],
        ['api', 'b', 'alice@example.test', 'carol@example.test, dan@example.test', 'About b', 'Body of b', '2025-01-06T09:00:00.000Z'],
      ]);
    });

    it('stores the { records: [...] } form the same way', async () => {
      const { workspaceId } = await newWorkspace();
      const res = await postRecords(workspaceId, JSON.stringify({ records: [record('a')] }), 'application/json; charset=utf-8');
      expect(res.body).toEqual({ accepted: 1, duplicates: 0, deleted: 0, rejected: [] });
      expect((await stored(workspaceId)).map((r) => r.externalId)).toEqual(['a']);
    });

    it.each(['application/x-ndjson', 'application/jsonl'])('stores %s, rejecting a malformed line by its index', async (contentType) => {
      const { workspaceId } = await newWorkspace();
      const body = [JSON.stringify(record('a')), '{"externalId": "broken",', JSON.stringify(record('c')), ''].join('\r\n');
      const res = await postRecords(workspaceId, body, contentType);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        accepted: 2,
        duplicates: 0,
        deleted: 0,
        rejected: [{ index: 1, code: 'INVALID_RECORD', message: 'line 2 is not valid JSON' }],
      });
      expect((await stored(workspaceId)).map((r) => r.externalId)).toEqual(['a', 'c']);
    });

    it('reports every bad row with its index and reason, and stores the good rows of the same request', async () => {
      const { workspaceId } = await newWorkspace();
      const rows = [
        record('good-1'),
        { ...record('x'), externalId: undefined },
        record('bad-date', { sentAt: 'yesterday' }),
        record('extra', { bcc: 'eve@example.test' }),
        record('good-2'),
      ];
      const res = await postRecords(workspaceId, JSON.stringify(rows));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        accepted: 2,
        duplicates: 0,
        deleted: 0,
        rejected: [
          { index: 1, code: 'INVALID_RECORD', message: 'externalId is required' },
          { index: 2, code: 'INVALID_RECORD', message: 'sentAt must be an ISO 8601 date-time' },
          { index: 3, code: 'INVALID_RECORD', message: 'Unrecognized key: "bcc"' },
        ],
      });
      expect((await stored(workspaceId)).map((r) => r.externalId)).toEqual(['good-1', 'good-2']);
    });

    it('is idempotent on externalId: a re-post answers duplicates and changes nothing', async () => {
      const { workspaceId } = await newWorkspace();
      const rows = JSON.stringify([record('a'), record('b')]);
      await postRecords(workspaceId, rows);
      const before = await stored(workspaceId);
      const again = await postRecords(workspaceId, JSON.stringify([record('a', { body: 'changed' }), record('b'), record('c')]));
      expect(again.body).toEqual({ accepted: 1, duplicates: 2, deleted: 0, rejected: [] });
      const after = await stored(workspaceId);
      expect(after.slice(0, 2)).toEqual(before);
      expect(after.map((r) => r.externalId)).toEqual(['a', 'b', 'c']);
    });

    it('accepts an upload over the global 1 MB JSON limit', async () => {
      const { workspaceId } = await newWorkspace();
      const rows = Array.from({ length: 30 }, (_, i) => record(`big-${i}`, { body: 'x'.repeat(100_000) }));
      const body = JSON.stringify(rows);
      expect(body.length).toBeGreaterThan(2 * MB);
      const res = await postRecords(workspaceId, body);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ accepted: 30 });
    });

    it('answers 413 PAYLOAD_TOO_LARGE over 50 MB and stores nothing', async () => {
      const { workspaceId } = await newWorkspace();
      const line = JSON.stringify(record('r', { body: 'y'.repeat(100_000) }));
      const count = Math.ceil((51 * MB) / line.length);
      const body = Buffer.from(Array.from({ length: count }, (_, i) => line.replace('"r"', `"r-${i}"`)).join('\n'));
      expect(body.length).toBeGreaterThan(51 * MB);
      const res = await sendUntilAnswered(`/v1/workspaces/${workspaceId}/records`, body, 'application/x-ndjson');
      expect(res.status).toBe(413);
      expect(res.body).toEqual({ error: { code: 'PAYLOAD_TOO_LARGE', message: expect.any(String) } });
      expect(await stored(workspaceId)).toEqual([]);
    });

    it('keeps the 1 MB limit on every other route', async () => {
      const res = await api.request<ApiErrorBody>('POST', '/v1/tenants', {
        body: { subdomain: 'big', planType: 'team', aiKeyMode: 'byok', padding: 'z'.repeat(MB + 1) },
      });
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it.each(['text/csv', 'text/plain', 'application/xml', 'application/json; charset=latin1'])(
      'answers 415 UNSUPPORTED_MEDIA_TYPE for %s',
      async (contentType) => {
        const { workspaceId } = await newWorkspace();
        const res = await postRecords(workspaceId, JSON.stringify([record('a')]), contentType);
        expect(res.status).toBe(415);
        expect(res.body).toEqual({ error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: expect.any(String) } });
        expect(await stored(workspaceId)).toEqual([]);
      },
    );

    it('answers 415 for a multipart form', async () => {
      const { workspaceId } = await newWorkspace();
      const res = await api.request<ApiErrorBody>('POST', `/v1/workspaces/${workspaceId}/records`, {
        raw: await form('file', Buffer.from(JSON.stringify([record('a')]))),
      });
      expect(res.status).toBe(415);
      expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it.each([
      ['malformed JSON', '[{"externalId": "a"', 'MALFORMED_JSON'],
      ['an object without records', '{"items": []}', 'VALIDATION_FAILED'],
    ])('answers 400 for %s as a whole', async (_, body, code) => {
      const { workspaceId } = await newWorkspace();
      const res = await postRecords(workspaceId, body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
    });

    it('answers 401 without a token before reading the body', async () => {
      const { workspaceId } = await newWorkspace();
      const res = await postRecords<ApiErrorBody>(workspaceId, '[{"externalId": ', 'application/json', null);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('UNAUTHENTICATED');
      const bogus = await postRecords(workspaceId, JSON.stringify([record('a')]), 'application/json', 'not-a-token');
      expect(bogus.status).toBe(401);
      expect(await stored(workspaceId)).toEqual([]);
    });

    it("answers 404 for another tenant's workspace, an unknown one, and 400 for a malformed id; nothing is written", async () => {
      const mine = await newWorkspace();
      const theirs = await newWorkspace();
      const body = JSON.stringify([record('sneaky')]);
      for (const workspaceId of [theirs.workspaceId, randomUUID()]) {
        const res = await postRecords<ApiErrorBody>(workspaceId, body, 'application/json', mine.token);
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe('WORKSPACE_NOT_FOUND');
      }
      const mbox = await postMbox<ApiErrorBody>(theirs.workspaceId, MBOX, 'application/mbox', mine.token);
      expect(mbox.status).toBe(404);
      expect(mbox.body.error.code).toBe('WORKSPACE_NOT_FOUND');
      expect((await postRecords<ApiErrorBody>('not-a-uuid', body)).body.error.code).toBe('VALIDATION_FAILED');
      expect(await stored(theirs.workspaceId)).toEqual([]);
    });
  });

  describe('POST /v1/workspaces/:workspaceId/imports/mbox', () => {
    function expectSampleImported(res: { status: number; body: unknown }) {
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        accepted: 3,
        duplicates: 0,
        deleted: 0,
        rejected: [{ index: 3, code: 'INVALID_DATE', message: 'message has no Date header, and no valid postmark date' }],
      });
    }

    it('imports a raw archive: plain, HTML-only and multipart/alternative messages, unquoting >From lines', async () => {
      const { workspaceId, token } = await newWorkspace();
      expectSampleImported(await postMbox(workspaceId, MBOX, 'application/mbox', token));

      const rows = await stored(workspaceId);
      expect(rows.map((r) => [r.source, r.externalId, r.subject, r.sentAt.toISOString()])).toEqual([
        ['mbox', '<plain-1@example.test>', 'Plain renewal notes', '2025-01-06T09:00:00.000Z'],
        ['mbox', '<html-1@example.test>', 'HTML only', '2025-01-07T10:00:00.000Z'],
        ['mbox', '<alt-1@example.test>', 'Launch plan ✓', '2025-01-08T10:00:00.000Z'],
      ]);
      const [plain, html, alternative] = rows;
      expect(plain.fromAddr).toBe('"Alice Johnson" <alice@example.test>');
      expect(plain.body).toBe('Hi Bob,\n\nFrom the renewal call: Acme Corp wants a pilot.\n>From here on the quote stays quoted once.\n\nAlice');
      expect(html.body).toBe('Hello Alice,\n\nThe invoice from Globex & Initech was paid.');
      expect(html.body).not.toMatch(/[<>]|color/);
      expect(alternative.body).toBe('The launch plan is ready (plain part).');
      expect(alternative.toAddr).toBe('carol@example.test, "Eve Martin" <eve@example.test>');
    });

    it.each(['text/plain', 'application/octet-stream'])('takes the raw archive as %s too', async (contentType) => {
      const { workspaceId } = await newWorkspace();
      expectSampleImported(await postMbox(workspaceId, MBOX, contentType));
    });

    it('imports a multipart upload (CRLF line endings) and counts a re-import as duplicates', async () => {
      const { workspaceId } = await newWorkspace();
      const crlf = Buffer.from(MBOX.toString('utf8').replace(/\n/g, '\r\n'));
      const upload = await form('file', crlf);
      expectSampleImported(await api.request('POST', `/v1/workspaces/${workspaceId}/imports/mbox`, { raw: upload }));
      const rows = await stored(workspaceId);
      expect(rows.map((r) => r.source)).toEqual(['mbox', 'mbox', 'mbox']);
      expect(rows[0].body).toContain('\nFrom the renewal call');

      const again = await postMbox(workspaceId, MBOX);
      expect(again.body).toEqual({ accepted: 0, duplicates: 3, deleted: 0, rejected: [expect.objectContaining({ index: 3 })] });
      expect(await stored(workspaceId)).toHaveLength(3);
    });

    it('answers 400 for a form without a file field, or with the file under another name', async () => {
      const { workspaceId } = await newWorkspace();
      const textOnly = new FormData();
      textOnly.append('note', 'no file here');
      const uploads = [await encodeForm(textOnly), await form('archive', MBOX)];
      for (const raw of uploads) {
        const res = await api.request('POST', `/v1/workspaces/${workspaceId}/imports/mbox`, { raw });
        expect(res.status).toBe(400);
        expect(res.body).toEqual({ error: { code: 'VALIDATION_FAILED', message: expect.any(String) } });
      }
      expect(await stored(workspaceId)).toEqual([]);
    });

    it('answers 400 INVALID_MBOX for an upload that is not an mbox archive', async () => {
      const { workspaceId } = await newWorkspace();
      for (const data of ['', '[{"externalId": "a"}]']) {
        const res = await postMbox<ApiErrorBody>(workspaceId, data);
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('INVALID_MBOX');
      }
    });

    it.each(['application/json', 'multipart/mixed; boundary=x', 'image/png'])('answers 415 for %s', async (contentType) => {
      const { workspaceId } = await newWorkspace();
      const res = await postMbox<ApiErrorBody>(workspaceId, MBOX, contentType);
      expect(res.status).toBe(415);
      expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(await stored(workspaceId)).toEqual([]);
    });

    it('answers 413 over 50 MB, raw or multipart', async () => {
      const { workspaceId } = await newWorkspace();
      const archive = Buffer.concat([MBOX, Buffer.alloc(50 * MB, 'a')]);
      const encoded = await form('file', archive);
      const path = `/v1/workspaces/${workspaceId}/imports/mbox`;
      const raw = await sendUntilAnswered(path, archive, 'application/mbox');
      expect(raw.status).toBe(413);
      expect(raw.body.error.code).toBe('PAYLOAD_TOO_LARGE');
      const multipart = await sendUntilAnswered(path, encoded.data, encoded.contentType);
      expect(multipart.status).toBe(413);
      expect(multipart.body.error.code).toBe('PAYLOAD_TOO_LARGE');
      expect(await stored(workspaceId)).toEqual([]);
    });
  });
});
