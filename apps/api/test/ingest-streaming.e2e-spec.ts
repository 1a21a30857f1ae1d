import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request as httpRequest } from 'node:http';
import { deflateSync, gzipSync } from 'node:zlib';
import { PrismaService } from '#libs/database';
import type { IngestResult } from '#libs/records';
import { type ApiErrorBody, ApiHarness } from './api-harness.js';

const KB = 1024;
const MB = 1024 * KB;

const record = (externalId: string, extra: Record<string, unknown> = {}) => ({
  externalId,
  from: 'alice@example.test',
  to: 'bob@example.test',
  subject: `About ${externalId}`,
  body: `Body of ${externalId}`,
  sentAt: '2025-01-06T09:00:00.000Z',
  ...extra,
});

interface PartialAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: ApiErrorBody;
  /** Resolves when the server has closed the connection. */
  closed: Promise<void>;
}

/**
 * Uploads with small caps (set through the configuration), so hostile bodies stay small: the full-size
 * ones are `npm run bench:ingest`'s.
 */
describe('Uploads read as streams, after authentication, under caps (e2e)', () => {
  let api: ApiHarness;
  let prisma: PrismaService;

  beforeAll(async () => {
    api = await ApiHarness.start({
      UPLOAD_LIMIT_BYTES: String(4 * MB),
      UPLOAD_DECODED_LIMIT_BYTES: String(2 * MB),
      INGEST_MAX_RECORDS: '100',
      INGEST_MAX_RECORD_BYTES: String(16 * KB),
      INGEST_MAX_DEPTH: '8',
      MBOX_MAX_MESSAGE_BYTES: String(64 * KB),
    });
    prisma = api.app.get(PrismaService);
  });
  afterAll(() => api.close());

  async function newWorkspace() {
    const tenant = await api.newTenant();
    const workspace = await api.newWorkspace(tenant.id);
    return { workspaceId: workspace.id, token: await api.newTenantToken(tenant.id) };
  }
  const stored = (workspaceId: string) => prisma.sourceRecord.count({ where: { workspaceId } });
  const post = <T = IngestResult>(path: string, data: Buffer | string, headers: Record<string, string>, token?: string | null) =>
    api.request<T>('POST', path, { raw: { data, contentType: headers['content-type'] }, headers, token });

  /**
   * Sends the headers of a `declaredBytes` upload and only `first` of its body, then waits for the
   * answer: one that comes proves the server answered without waiting for (or reading) the rest.
   */
  function sendPart(path: string, headers: Record<string, string>, first: Buffer, declaredBytes: number): Promise<PartialAnswer> {
    const url = new URL(path, api.baseUrl);
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, { method: 'POST', headers: { ...headers, 'content-length': String(declaredBytes) } });
      const closed = new Promise<void>((done) => req.on('socket', (socket) => socket.once('close', () => done())));
      // the server closing while the client still "sends" is the expected end, not a failure
      req.on('error', () => undefined);
      req.on('response', (res) => {
        const parts: Buffer[] = [];
        res.on('data', (chunk: Buffer) => parts.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: JSON.parse(Buffer.concat(parts).toString('utf8')) as ApiErrorBody,
            closed,
          });
        });
      });
      req.write(first);
    });
  }

  /** An upload that waits for `100 Continue` (RFC 9110 section 10.1.1) and sends `body` only when it comes. */
  function expectingContinue(path: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; continued: boolean }> {
    return new Promise((resolve, reject) => {
      let continued = false;
      const req = httpRequest(new URL(path, api.baseUrl), {
        method: 'POST',
        headers: { ...headers, expect: '100-continue', 'content-length': String(body.length) },
      });
      req.on('error', () => undefined);
      req.on('continue', () => {
        continued = true;
        req.end(body);
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, continued }));
        res.on('error', reject);
      });
      req.flushHeaders();
    });
  }

  describe('authentication before the body', () => {
    it('answers a bad token without sending 100 Continue, so the client never sends its body; a good one gets it, then its answer', async () => {
      const { workspaceId, token } = await newWorkspace();
      const body = Buffer.from(JSON.stringify([record('continued')]));
      const path = `/v1/workspaces/${workspaceId}/records`;
      const refused = await expectingContinue(path, { 'content-type': 'application/json', authorization: 'Bearer x' }, body);
      expect(refused).toEqual({ status: 401, continued: false });
      const accepted = await expectingContinue(path, { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body);
      expect(accepted).toEqual({ status: 200, continued: true });
      expect(await stored(workspaceId)).toBe(1);
      // a JSON route gets its 100 as before: its body is read before the guard runs
      const tenant = await expectingContinue(
        '/v1/tenants',
        { 'content-type': 'application/json', authorization: `Bearer ${api.adminToken}` },
        Buffer.from('{}'),
      );
      expect(tenant).toEqual({ status: 400, continued: true });
    });

    it('answers 401 to a bad token with a large body at once, without reading it, and closes the connection', async () => {
      const { workspaceId } = await newWorkspace();
      const answer = await sendPart(
        `/v1/workspaces/${workspaceId}/records`,
        { 'content-type': 'application/json', authorization: 'Bearer x' },
        Buffer.from('[{"externalId": "a"'),
        50 * MB,
      );
      expect(answer.status).toBe(401);
      expect(answer.body.error.code).toBe('UNAUTHENTICATED');
      expect(answer.headers.connection).toBe('close');
      await answer.closed;
      expect(await stored(workspaceId)).toBe(0);
    });

    it('answers 401 to a gzip bomb with a bad token without inflating it, and to a multipart upload without a token', async () => {
      const { workspaceId } = await newWorkspace();
      const bomb = gzipSync(Buffer.alloc(20 * MB, ' '));
      const gzip = await sendPart(
        `/v1/workspaces/${workspaceId}/records`,
        { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: 'Bearer x' },
        bomb.subarray(0, 1024),
        bomb.length,
      );
      expect(gzip.status).toBe(401);
      const form = await sendPart(
        `/v1/workspaces/${workspaceId}/imports/mbox`,
        { 'content-type': 'multipart/form-data; boundary=x' },
        Buffer.from('--x\r\nContent-Disposition: form-data; name="file"; filename="a.mbox"\r\n\r\nFrom a'),
        40 * MB,
      );
      expect(form.status).toBe(401);
      expect(form.headers.connection).toBe('close');
    });

    it("answers 404 for another tenant's workspace before reading the body", async () => {
      const mine = await newWorkspace();
      const theirs = await newWorkspace();
      for (const path of ['records', 'imports/mbox']) {
        const answer = await sendPart(
          `/v1/workspaces/${theirs.workspaceId}/${path}`,
          { 'content-type': path === 'records' ? 'application/json' : 'application/mbox', authorization: `Bearer ${mine.token}` },
          Buffer.from('[{"externalId": "sneaky"'),
          30 * MB,
        );
        expect(answer.status).toBe(404);
        expect(answer.body.error.code).toBe('WORKSPACE_NOT_FOUND');
      }
      expect(await stored(theirs.workspaceId)).toBe(0);
    });
  });

  describe('caps enforced while reading', () => {
    it('answers 413 RECORDS_LIMIT as soon as the record cap is passed, before the upload ends, storing nothing', async () => {
      const { workspaceId, token } = await newWorkspace();
      const first = Buffer.from(`[${Array.from({ length: 150 }, (_, i) => JSON.stringify(record(`r${i}`))).join(',')},`);
      const answer = await sendPart(
        `/v1/workspaces/${workspaceId}/records`,
        { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        first,
        3 * MB,
      );
      expect(answer.status).toBe(413);
      expect(answer.body).toEqual({ error: { code: 'RECORDS_LIMIT', message: expect.stringContaining('record cap') } });
      await answer.closed;
      expect(await stored(workspaceId)).toBe(0);
    });

    it.each([
      ['NDJSON lines of "x"', 'application/x-ndjson', 'x\n'.repeat(1_000), 'record cap'],
      ['a JSON array of {}', 'application/json', `[${'{},'.repeat(1_000)}{}]`, 'record cap'],
      ['a record past the per-record cap', 'application/json', JSON.stringify([record('big', { body: 'y'.repeat(40 * KB) })]), 'per-record cap'],
      ['nesting past the depth cap', 'application/json', `[${'['.repeat(2_000)}${']'.repeat(2_000)}]`, 'depth cap'],
    ])('answers 413 RECORDS_LIMIT for %s', async (_, contentType, body, cap) => {
      const { workspaceId, token } = await newWorkspace();
      const res = await post<ApiErrorBody>(`/v1/workspaces/${workspaceId}/records`, body, { 'content-type': contentType }, token);
      expect(res.status).toBe(413);
      expect(res.body).toEqual({ error: { code: 'RECORDS_LIMIT', message: expect.stringContaining(cap) } });
      expect(await stored(workspaceId)).toBe(0);
    });

    it('answers 413 PAYLOAD_TOO_LARGE for a gzip bomb past the decoded cap, storing nothing', async () => {
      const { workspaceId, token } = await newWorkspace();
      const bomb = gzipSync(Buffer.from(`[${' '.repeat(8 * MB)}]`));
      expect(bomb.length).toBeLessThan(64 * KB);
      const res = await post<ApiErrorBody>(
        `/v1/workspaces/${workspaceId}/records`,
        bomb,
        { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        token,
      );
      expect(res.status).toBe(413);
      expect(res.body).toEqual({ error: { code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('once decoded') } });
      expect(await stored(workspaceId)).toBe(0);
    });

    it('answers 413 RECORDS_LIMIT for an mbox message past the per-message cap, and 400 INVALID_MBOX for a body of newlines', async () => {
      const { workspaceId, token } = await newWorkspace();
      const long = `From a@example.test Mon Jan  6 09:00:00 2025\nSubject: long\n\n${'z\n'.repeat(100 * KB)}`;
      const res = await post<ApiErrorBody>(`/v1/workspaces/${workspaceId}/imports/mbox`, long, { 'content-type': 'application/mbox' }, token);
      expect(res.status).toBe(413);
      expect(res.body).toEqual({ error: { code: 'RECORDS_LIMIT', message: expect.stringContaining('per-message cap') } });
      const newlines = await post<ApiErrorBody>(
        `/v1/workspaces/${workspaceId}/imports/mbox`,
        Buffer.alloc(MB, '\n'),
        { 'content-type': 'application/mbox' },
        token,
      );
      expect(newlines.status).toBe(400);
      expect(newlines.body.error.code).toBe('INVALID_MBOX');
      expect(await stored(workspaceId)).toBe(0);
    });

    it('answers 415 for an encoding it does not decode and 400 for a body that does not decode', async () => {
      const { workspaceId, token } = await newWorkspace();
      const path = `/v1/workspaces/${workspaceId}/records`;
      const br = await post<ApiErrorBody>(path, '[]', { 'content-type': 'application/json', 'content-encoding': 'br' }, token);
      expect(br.status).toBe(415);
      expect(br.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      const bad = await post<ApiErrorBody>(path, 'not gzip', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, token);
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    });
  });

  describe('valid uploads', () => {
    it('stores gzip JSON, deflate NDJSON and the { records } form, each within the caps', async () => {
      const { workspaceId, token } = await newWorkspace();
      const path = `/v1/workspaces/${workspaceId}/records`;
      const rows = Array.from({ length: 100 }, (_, i) => record(`g${i}`));
      const gzip = await post(path, gzipSync(JSON.stringify(rows)), { 'content-type': 'application/json', 'content-encoding': 'gzip' }, token);
      expect(gzip.body).toEqual({ accepted: 100, duplicates: 0, deleted: 0, rejected: [] });
      const ndjson = [record('d1'), record('d2')].map((r) => JSON.stringify(r)).join('\n');
      const deflate = await post(path, deflateSync(ndjson), { 'content-type': 'application/x-ndjson', 'content-encoding': 'deflate' }, token);
      expect(deflate.body).toEqual({ accepted: 2, duplicates: 0, deleted: 0, rejected: [] });
      const envelope = await post(path, JSON.stringify({ records: [record('e1')] }), { 'content-type': 'application/json' }, token);
      expect(envelope.body).toEqual({ accepted: 1, duplicates: 0, deleted: 0, rejected: [] });
      expect(await stored(workspaceId)).toBe(103);
    });

    it('imports an mbox whose body has a "From " line after a blank line as one message', async () => {
      const { workspaceId, token } = await newWorkspace();
      const archive = [
        'From ceo@example.test Mon Mar 23 10:00:00 2015',
        'Message-ID: <memo@example.test>',
        'Date: Mon, 23 Mar 2015 10:00:00 +0000',
        'From: CEO <ceo@example.test>',
        'Subject: memo',
        '',
        'Team,',
        '',
        'From the desk of the CEO: we ship on Friday.',
        '>From the archive, quoted once.',
        '',
        'From bob@example.test Tue Mar 24 10:00:00 2015',
        'Message-ID: <reply@example.test>',
        'Date: Tue, 24 Mar 2015 10:00:00 +0000',
        'Subject: re: memo',
        '',
        'Great.',
        '',
      ].join('\n');
      const res = await post(
        `/v1/workspaces/${workspaceId}/imports/mbox`,
        gzipSync(archive),
        {
          'content-type': 'application/mbox',
          'content-encoding': 'gzip',
        },
        token,
      );
      expect(res.body).toEqual({ accepted: 2, duplicates: 0, deleted: 0, rejected: [] });
      const rows = await prisma.sourceRecord.findMany({ where: { workspaceId }, orderBy: { seq: 'asc' } });
      expect(rows.map((r) => [r.externalId, r.body])).toEqual([
        ['<memo@example.test>', 'Team,\n\nFrom the desk of the CEO: we ship on Friday.\nFrom the archive, quoted once.'],
        ['<reply@example.test>', 'Great.'],
      ]);
    });
  });
});
