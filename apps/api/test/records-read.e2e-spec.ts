import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { IngestResult } from '#libs/records';
import type { RecordsPageView } from '../src/records/records-read.dto.js';
import { type ApiErrorBody, ApiHarness } from './api-harness.js';

const record = (externalId: string, extra: Record<string, unknown> = {}) => ({
  externalId,
  from: 'alice@example.test',
  subject: `About ${externalId}`,
  body: `Body of ${externalId}`,
  sentAt: '2025-01-06T09:00:00.000Z',
  ...extra,
});

const MBOX = [
  'From sender@example.test Mon Jan  6 09:00:00 2025',
  'Message-ID: <m1@example.test>',
  'Date: Mon, 06 Jan 2025 09:00:00 +0000',
  'From: Alice <alice@example.test>',
  'To: bob@example.test',
  'Cc: carol@example.test, Dan <dan@example.test>',
  'Subject: From the archive',
  '',
  'Hello from mbox',
  '',
].join('\n');

describe('Records read back: GET /v1/workspaces/:workspaceId/records (e2e)', () => {
  let api: ApiHarness;

  beforeAll(async () => {
    api = await ApiHarness.start();
  });
  afterAll(() => api.close());

  async function newWorkspace() {
    const tenant = await api.newTenant();
    const workspace = await api.newWorkspace(tenant.id);
    return { workspaceId: workspace.id, token: await api.newTenantToken(tenant.id) };
  }

  const post = (workspaceId: string, rows: unknown[], token?: string) =>
    api.request<IngestResult>('POST', `/v1/workspaces/${workspaceId}/records`, { body: rows, token });
  const read = <T = RecordsPageView>(workspaceId: string, query = '', token?: string | null) =>
    api.request<T>('GET', `/v1/workspaces/${workspaceId}/records${query}`, { token });

  it('reads back to and cc sent as a string or as a list, normalized to one comma-separated text', async () => {
    const { workspaceId, token } = await newWorkspace();
    const stored = await post(
      workspaceId,
      [
        record('list', { to: [' Bob@Example.test ', '', 'carol@example.test'], cc: ['dan@example.test', '  '] }),
        record('string', { to: '"Doe, Jane" <jane@example.test>, bob@example.test ', cc: 'Erin@Example.test' }),
        record('none'),
      ],
      token,
    );
    expect(stored.body).toEqual({ accepted: 3, duplicates: 0, deleted: 0, rejected: [] });

    const res = await read(workspaceId, '', token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      items: [
        {
          externalId: 'list',
          source: 'api',
          from: 'alice@example.test',
          to: 'Bob@Example.test, carol@example.test',
          cc: 'dan@example.test',
          subject: 'About list',
          body: 'Body of list',
          sentAt: '2025-01-06T09:00:00.000Z',
        },
        expect.objectContaining({ externalId: 'string', to: '"Doe, Jane" <jane@example.test>, bob@example.test', cc: 'Erin@Example.test' }),
        expect.objectContaining({ externalId: 'none', to: '', cc: '' }),
      ],
      nextCursor: null,
    });
  });

  it('rejects a record whose to or cc is neither a string nor a list of strings by its index, storing the rest', async () => {
    const { workspaceId } = await newWorkspace();
    const res = await post(workspaceId, [record('ok', { cc: ['a@example.test'] }), record('bad', { cc: [1] }), record('nul', { to: ['a\u0000'] })]);
    expect(res.body).toEqual({
      accepted: 1,
      duplicates: 0,
      deleted: 0,
      rejected: [
        { index: 1, code: 'INVALID_RECORD', message: 'cc must be a string or a list of strings' },
        { index: 2, code: 'INVALID_RECORD', message: 'to.0: must not contain NUL (U+0000) characters' },
      ],
    });
    expect((await read(workspaceId)).body.items.map((r) => r.externalId)).toEqual(['ok']);
  });

  it('pages by insertion order with nextCursor until null, each record once, whatever is added meanwhile', async () => {
    const { workspaceId, token } = await newWorkspace();
    await post(
      workspaceId,
      Array.from({ length: 7 }, (_, i) => record(`r${i}`)),
      token,
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await read(workspaceId, query, token);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.items.map((r) => r.externalId));
      cursor = res.body.nextCursor;
      // a record added after the first page comes last, never shifts a page
      if (++pages === 1) await post(workspaceId, [record('late')], token);
    } while (cursor !== null);
    expect(seen).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'late']);
    expect(pages).toBe(3);
  });

  it('gives 50 records a page by default and at most 200', async () => {
    const { workspaceId } = await newWorkspace();
    await post(
      workspaceId,
      Array.from({ length: 201 }, (_, i) => record(`r${String(i).padStart(3, '0')}`)),
    );
    const first = await read(workspaceId);
    expect(first.body.items).toHaveLength(50);
    expect(first.body.nextCursor).not.toBeNull();
    const big = await read(workspaceId, '?limit=200');
    expect(big.body.items).toHaveLength(200);
    const rest = await read(workspaceId, `?limit=200&cursor=${big.body.nextCursor}`);
    expect(rest.body).toEqual({ items: [expect.objectContaining({ externalId: 'r200' })], nextCursor: null });
  });

  it('filters by source: mbox records carry their Cc too', async () => {
    const { workspaceId } = await newWorkspace();
    await post(workspaceId, [record('from-api')]);
    const imported = await api.request<IngestResult>('POST', `/v1/workspaces/${workspaceId}/imports/mbox`, {
      raw: { data: MBOX, contentType: 'application/mbox' },
    });
    expect(imported.body).toEqual({ accepted: 1, duplicates: 0, deleted: 0, rejected: [] });

    expect((await read(workspaceId)).body.items.map((r) => [r.source, r.externalId])).toEqual([
      ['api', 'from-api'],
      ['mbox', '<m1@example.test>'],
    ]);
    expect((await read(workspaceId, '?source=mbox')).body.items).toEqual([
      {
        externalId: '<m1@example.test>',
        source: 'mbox',
        from: '"Alice" <alice@example.test>',
        to: 'bob@example.test',
        cc: 'carol@example.test, "Dan" <dan@example.test>',
        subject: 'From the archive',
        body: 'Hello from mbox',
        sentAt: '2025-01-06T09:00:00.000Z',
      },
    ]);
    expect((await read(workspaceId, '?source=api')).body.items.map((r) => r.externalId)).toEqual(['from-api']);
  });

  it("answers another tenant's workspace with 404, exactly like a missing one", async () => {
    const mine = await newWorkspace();
    const theirs = await newWorkspace();
    await post(theirs.workspaceId, [record('secret')]);
    const res = await read<ApiErrorBody>(theirs.workspaceId, '', mine.token);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('WORKSPACE_NOT_FOUND');
    expect(res.text).not.toContain('secret');
    const missing = await read<ApiErrorBody>('00000000-0000-4000-8000-000000000000', '', mine.token);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('WORKSPACE_NOT_FOUND');
    expect((await read(theirs.workspaceId, '', null)).status).toBe(401);
  });

  it.each([
    ['?cursor=abc', 'cursor is not one this API returned; start again without it'],
    ['?cursor=-1', 'cursor is not one this API returned; start again without it'],
    ['?cursor=9223372036854775808', 'cursor is not one this API returned; start again without it'],
    ['?cursor=1&cursor=2', 'cursor must be a single string'],
    ['?limit=0', 'limit must be from 1 to 200'],
    ['?limit=201', 'limit must be from 1 to 200'],
    ['?limit=99999999999999999999', 'limit must be from 1 to 200'],
    ['?limit=2.5', 'limit must be an integer'],
    ['?source=pop3', 'source must be one of api, mbox, imap'],
    ['?sort=desc', 'Unrecognized key: "sort"'],
  ])('answers %s with 400 VALIDATION_FAILED', async (query, message) => {
    const { workspaceId } = await newWorkspace();
    const res = await read<ApiErrorBody>(workspaceId, query);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: 'VALIDATION_FAILED', message } });
  });

  it('takes the largest cursor Postgres can hold, and answers it with an empty last page', async () => {
    const { workspaceId } = await newWorkspace();
    await post(workspaceId, [record('a')]);
    expect((await read(workspaceId, '?cursor=9223372036854775807')).body).toEqual({ items: [], nextCursor: null });
  });
});
