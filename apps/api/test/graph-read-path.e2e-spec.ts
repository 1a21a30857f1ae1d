import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { gunzipSync } from 'node:zlib';
import pg from 'pg';
import { PrismaService } from '#libs/database';
import { emptyPageGraph, type GraphPage, GraphRepository, mergeAnswer } from '#libs/graphrag';
import { type ApiErrorBody, ApiHarness } from './api-harness.js';

/** A workspace with a small graph written as a backfill page writes it. */
async function seededWorkspace(api: ApiHarness, names: string[]) {
  const tenant = await api.newTenant();
  const workspace = await api.newWorkspace(tenant.id);
  const prisma = api.app.get(PrismaService);
  const record = await prisma.sourceRecord.create({
    data: {
      workspaceId: workspace.id,
      source: 'api',
      externalId: 'm-1',
      fromAddr: 'a@example.test',
      toAddr: 'b@example.test',
      subject: 's',
      body: 'b',
      sentAt: new Date(),
    },
  });
  const graph = emptyPageGraph();
  mergeAnswer(graph, record.id, { entities: names.map((name) => ({ name, type: 'person', description: name })), relationships: [] });
  await prisma.$transaction((tx) => api.app.get(GraphRepository).applyPage(tx, workspace.id, graph));
  return { workspaceId: workspace.id, tenantId: tenant.id, recordId: record.id };
}

/** A GET through node:http, which (unlike fetch) leaves a gzipped body as it came. */
function rawGet(
  api: ApiHarness,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(new URL(path, api.baseUrl), { headers: { authorization: `Bearer ${api.adminToken}`, ...headers } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

/** Another session holds the entities table, so any graph read of it waits until released. */
async function lockEntities(databaseUrl: string): Promise<{ release(): Promise<void> }> {
  const holder = new pg.Client({ connectionString: databaseUrl });
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query('LOCK TABLE entities IN ACCESS EXCLUSIVE MODE');
  return {
    async release() {
      await holder.query('ROLLBACK');
      await holder.end();
    },
  };
}

describe('Graph read path (e2e): ETag and 304', () => {
  let api: ApiHarness;

  beforeAll(async () => {
    api = await ApiHarness.start();
  });
  afterAll(() => api.close());

  it('answers gzip to a client that accepts it, as another representation of the same page (own ETag, Vary), and identity otherwise', async () => {
    const { workspaceId } = await seededWorkspace(api, ['Alice Johnson', 'Bob Smith']);
    const path = `/v1/workspaces/${workspaceId}/graph?limit=10`;
    const identity = await rawGet(api, path, { 'accept-encoding': 'identity' });
    const gzipped = await rawGet(api, path, { 'accept-encoding': 'gzip, deflate, br' });

    expect(identity.status).toBe(200);
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(gzipped.status).toBe(200);
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.headers.vary).toBe('Accept-Encoding');
    expect(gunzipSync(gzipped.body).toString('utf8')).toBe(identity.body.toString('utf8'));
    expect(gzipped.headers.etag).toBe(identity.headers.etag!.replace(/"$/, '-gzip"'));
    // either tag names the page: a client that changed what it accepts still gets 304
    const revalidated = await rawGet(api, path, { 'accept-encoding': 'gzip', 'if-none-match': identity.headers.etag! });
    expect(revalidated.status).toBe(304);
    expect(revalidated.headers.etag).toBe(gzipped.headers.etag);
  });

  it('tags a page by graph version and query, answers 304 while both hold, and a new tag once the graph changed', async () => {
    const { workspaceId, recordId } = await seededWorkspace(api, ['Alice Johnson', 'Bob Smith']);
    const path = `/v1/workspaces/${workspaceId}/graph?limit=10`;

    const first = await api.request<GraphPage>('GET', path);
    expect(first.status).toBe(200);
    expect(first.body.entities.map((e) => [e.name, e.mentionCount])).toEqual([
      ['Alice Johnson', 1],
      ['Bob Smith', 1],
    ]);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"g1-[A-Za-z0-9_-]+"$/);

    const again = await api.request('GET', path, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
    expect(again.headers.get('etag')).toBe(etag);
    // a weak comparison and a list match too
    expect((await api.request('GET', path, { headers: { 'if-none-match': `"other", W/${etag}` } })).status).toBe(304);

    const otherQuery = await api.request('GET', `/v1/workspaces/${workspaceId}/graph?limit=1`, { headers: { 'if-none-match': etag } });
    expect(otherQuery.status).toBe(200);
    expect(otherQuery.headers.get('etag')).not.toBe(etag);

    // another record mentions Alice: the graph version moves, the cached page is not served
    const prisma = api.app.get(PrismaService);
    const record = await prisma.sourceRecord.create({
      data: {
        workspaceId,
        source: 'api',
        externalId: 'm-2',
        fromAddr: 'a@example.test',
        toAddr: 'b@example.test',
        subject: 's',
        body: 'b',
        sentAt: new Date(),
      },
    });
    expect(record.id).not.toBe(recordId);
    const graph = emptyPageGraph();
    mergeAnswer(graph, record.id, { entities: [{ name: 'Alice Johnson', type: 'person', description: 'Alice' }], relationships: [] });
    await prisma.$transaction((tx) => api.app.get(GraphRepository).applyPage(tx, workspaceId, graph));

    const changed = await api.request<GraphPage>('GET', path, { headers: { 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).toMatch(/^"g2-/);
    expect(changed.body.entities.map((e) => [e.name, e.mentionCount])).toEqual([
      ['Alice Johnson', 2],
      ['Bob Smith', 1],
    ]);
    expect(changed.body.relationshipsTruncated).toBe(false);
  });

  it("never answers 304 for another tenant's workspace", async () => {
    const { workspaceId } = await seededWorkspace(api, ['Carol Diaz']);
    const page = await api.request('GET', `/v1/workspaces/${workspaceId}/graph`);
    const stranger = await api.newTenantToken((await api.newTenant()).id);
    const res = await api.request<ApiErrorBody>('GET', `/v1/workspaces/${workspaceId}/graph`, {
      token: stranger,
      headers: { 'if-none-match': page.headers.get('etag')! },
    });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('WORKSPACE_NOT_FOUND');
  });
});

describe('Graph read path (e2e): statement timeout', () => {
  let api: ApiHarness;

  beforeAll(async () => {
    api = await ApiHarness.start({ GRAPH_STATEMENT_TIMEOUT_MS: '300' });
  });
  afterAll(() => api.close());

  it('answers 503 GRAPH_READ_TIMEOUT when a graph read waits past the timeout, and 200 once the table is free', async () => {
    const { workspaceId } = await seededWorkspace(api, ['Dan Okafor']);
    const lock = await lockEntities(api.config.databaseUrl);
    try {
      const res = await api.request<ApiErrorBody>('GET', `/v1/workspaces/${workspaceId}/graph`);
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('GRAPH_READ_TIMEOUT');
      expect(res.body.error.message).toContain('300 ms');
      const entity = await api.request<ApiErrorBody>('GET', `/v1/workspaces/${workspaceId}/graph/entities/${workspaceId}`);
      expect([entity.status, entity.body.error.code]).toEqual([503, 'GRAPH_READ_TIMEOUT']);
    } finally {
      await lock.release();
    }
    expect((await api.request('GET', `/v1/workspaces/${workspaceId}/graph`)).status).toBe(200);
  });
});

describe('Graph read path (e2e): abandoned requests', () => {
  let api: ApiHarness;
  let observer: pg.Client;

  beforeAll(async () => {
    // a timeout far beyond the test: a read that ends while the table is still locked was cancelled
    api = await ApiHarness.start({ GRAPH_STATEMENT_TIMEOUT_MS: '600000' });
    observer = new pg.Client({ connectionString: api.config.databaseUrl });
    await observer.connect();
  });
  afterAll(async () => {
    await observer.end();
    await api.close();
  });

  /** Graph reads of the entities table running now (waiting on the lock included). */
  async function runningGraphReads(): Promise<number> {
    const { rows } = await observer.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'graph-read' AND state = 'active' AND query LIKE '%FROM entities%'`,
    );
    return rows[0].n;
  }

  async function until(condition: () => Promise<boolean>): Promise<void> {
    while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 25));
  }

  it.each([
    ['a graph page', (workspaceId: string) => `/v1/workspaces/${workspaceId}/graph?q=okafor`],
    ['an entity', (workspaceId: string) => `/v1/workspaces/${workspaceId}/graph/entities/${workspaceId}`],
  ])('cancels %s in Postgres when its client goes away', async (_, pathOf) => {
    const { workspaceId } = await seededWorkspace(api, ['Eve Martin']);
    const lock = await lockEntities(api.config.databaseUrl);
    try {
      const client = new AbortController();
      const abandoned = fetch(`${api.baseUrl}${pathOf(workspaceId)}`, {
        headers: { authorization: `Bearer ${api.adminToken}` },
        signal: client.signal,
      }).catch((error: unknown) => error);
      await until(async () => (await runningGraphReads()) === 1);

      client.abort();
      expect(await abandoned).toMatchObject({ name: 'AbortError' });
      await until(async () => (await runningGraphReads()) === 0);
      // the lock is still held: the read did not finish, Postgres cancelled it
      const { rows } = await observer.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'entities' AND l.mode = 'AccessExclusiveLock' AND l.granted",
      );
      expect(rows[0].n).toBe(1);
    } finally {
      await lock.release();
    }
    // the connection went back to the pool in working order
    const page = await api.request<GraphPage>('GET', `/v1/workspaces/${workspaceId}/graph`);
    expect(page.body.entities.map((e) => e.name)).toEqual(['Eve Martin']);
  });
});
