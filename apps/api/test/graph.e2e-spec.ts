import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { PrismaService } from '#libs/database';
import { emptyPageGraph, GraphRepository, mergeAnswer, type ExtractionAnswer, type GraphPage } from '#libs/graphrag';
import { type ApiErrorBody, ApiHarness, type HttpResult, type Json } from './api-harness.js';

const PEOPLE = [
  'Alice Johnson',
  'Bob Smith',
  'Carol Diaz',
  'José Álvarez',
  'Zoë Quinn',
  'alice cooper',
  'Ali Baba',
  'Dan Okafor',
  'Eve Martin',
  'Frank Liu',
  'Grace Hopper',
];
const ORGS = ['Acme Corp', 'Globex Inc', 'Initech Ltd', 'Umbrella Group', 'Stark Labs', 'Wayne Holdings', 'ACME'];

interface EntityView {
  id: string;
  name: string;
  type: string;
  description: string;
  mentionCount: number;
}

describe('Graph read API (e2e)', () => {
  let api: ApiHarness;
  let prisma: PrismaService;

  beforeAll(async () => {
    api = await ApiHarness.start();
    prisma = api.app.get(PrismaService);
  });
  afterAll(() => api.close());

  /** A workspace with records stored through the API and a graph written as a backfill writes it. */
  async function seededWorkspace(answers: ExtractionAnswer[]) {
    const tenant = await api.newTenant();
    const workspace = await api.newWorkspace(tenant.id);
    const records = answers.map((_, i) => ({
      externalId: `msg-${i}@example.test`,
      from: `sender-${i}@example.test`,
      to: 'team@example.test',
      subject: `Subject ${i}`,
      body: `Body ${i}`,
      sentAt: new Date(Date.UTC(2025, 0, 1 + i)).toISOString(),
    }));
    const ingest = await api.request('POST', `/v1/workspaces/${workspace.id}/records`, { body: records });
    expect(ingest.body).toMatchObject({ accepted: answers.length });
    const stored = await prisma.sourceRecord.findMany({ where: { workspaceId: workspace.id }, orderBy: { seq: 'asc' } });
    const graph = emptyPageGraph();
    answers.forEach((answer, i) => mergeAnswer(graph, stored[i].id, answer));
    await prisma.$transaction((tx) => api.app.get(GraphRepository).applyPage(tx, workspace.id, graph));
    return { tenant, workspaceId: workspace.id, records: stored };
  }

  const entity = (name: string, type: string) => ({ name, type, description: `${name} is a ${type}` });
  const standardGraph = () =>
    seededWorkspace([
      {
        entities: [...PEOPLE.map((p) => entity(p, 'person')), ...ORGS.map((o) => entity(o, 'organization'))],
        relationships: [
          { source: 'Alice Johnson', target: 'Acme Corp', description: 'works at', strength: 9 },
          { source: 'Bob Smith', target: 'Globex Inc', description: 'works at', strength: 7 },
          { source: 'Zoë Quinn', target: 'Alice Johnson', description: 'reports to', strength: 4 },
        ],
      },
      { entities: [entity('Alice Johnson', 'person'), entity('Acme Corp', 'organization')], relationships: [] },
      { entities: [{ name: 'ALICE JOHNSON', type: 'person', description: 'Alice' }], relationships: [] },
    ]);

  /** One page of the graph; `T` is the answer expected, `ApiErrorBody` for a refusal. */
  const graphPage = <T = GraphPage>(workspaceId: string, query = '', token?: string) =>
    api.request<T>('GET', `/v1/workspaces/${workspaceId}/graph${query}`, { token });

  async function walk(workspaceId: string, query: string): Promise<{ entities: EntityView[]; pages: number; relationships: Set<string> }> {
    const entities: EntityView[] = [];
    const relationships = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: HttpResult<Json<GraphPage>> = await graphPage(workspaceId, `?${query}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      entities.push(...res.body.entities);
      for (const r of res.body.relationships) relationships.add(r.id);
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    return { entities, pages, relationships };
  }

  it('pages through every entity once, in normalized-name order, with relationships touching each page', async () => {
    const { workspaceId } = await standardGraph();
    const expected = await prisma.entity.findMany({ where: { workspaceId }, orderBy: [{ normalizedName: 'asc' }, { id: 'asc' }] });
    expect(expected).toHaveLength(PEOPLE.length + ORGS.length);

    const { entities, pages, relationships } = await walk(workspaceId, 'limit=4');
    expect(entities.map((e) => e.id)).toEqual(expected.map((e) => e.id));
    expect(pages).toBe(Math.ceil(expected.length / 4));
    expect(relationships.size).toBe(3);

    const first = await graphPage(workspaceId, '?limit=4');
    const ids = new Set(first.body.entities.map((e: EntityView) => e.id));
    for (const r of first.body.relationships) expect(ids.has(r.sourceId) || ids.has(r.targetId)).toBe(true);
  });

  it('answers the exact page size on the last full page without an empty extra page', async () => {
    const { workspaceId } = await standardGraph();
    const total = PEOPLE.length + ORGS.length;
    const all = await graphPage(workspaceId, `?limit=${total}`);
    expect(all.body.entities).toHaveLength(total);
    expect(all.body.nextCursor).toBeNull();
    const byDefault = await graphPage(workspaceId);
    expect(byDefault.body.entities).toHaveLength(total);
    expect(byDefault.body.nextCursor).toBeNull();
  });

  it('tells apart entities with the same normalized name by id across a page boundary', async () => {
    const { workspaceId } = await standardGraph();
    const acmes = (await walk(workspaceId, 'q=acme&limit=1')).entities;
    expect(acmes.map((e) => [e.name, e.type]).sort()).toEqual([
      ['ACME', 'organization'],
      ['Acme Corp', 'organization'],
    ]);
    const sameName = await seededWorkspace([
      { entities: [entity('Mercury', 'planet'), entity('Mercury', 'element'), entity('mercury', 'god')], relationships: [] },
    ]);
    const walked = await walk(sameName.workspaceId, 'limit=1');
    expect(walked.pages).toBe(3);
    expect(walked.entities.map((e) => e.type).sort()).toEqual(['element', 'god', 'planet']);
  });

  it('returns the entity summary with its mention count and relationship fields', async () => {
    const { workspaceId } = await standardGraph();
    const res = await graphPage(workspaceId, '?q=alice%20johnson');
    expect(res.body.entities).toEqual([
      { id: expect.any(String), name: 'Alice Johnson', type: 'person', description: 'Alice Johnson is a person', mentionCount: 3 },
    ]);
    const alice = res.body.entities[0].id;
    expect(res.body.relationships).toEqual([
      { id: expect.any(String), sourceId: alice, targetId: expect.any(String), description: 'works at', strength: 9 },
      { id: expect.any(String), sourceId: expect.any(String), targetId: alice, description: 'reports to', strength: 4 },
    ]);
    // the far ends come with the page, as summaries
    expect(res.body.linkedEntities).toEqual([
      {
        id: res.body.relationships[0].targetId,
        name: 'Acme Corp',
        type: 'organization',
        description: 'Acme Corp is a organization',
        mentionCount: 2,
      },
      { id: res.body.relationships[1].sourceId, name: 'Zoë Quinn', type: 'person', description: 'Zoë Quinn is a person', mentionCount: 1 },
    ]);
  });

  it.each([
    ['pages of 4', 'limit=4'],
    ['pages of 1', 'limit=1'],
    ['a type filter', 'type=person&limit=3'],
    ['a name search', 'q=a&limit=2'],
    ['a type filter and a name search', 'type=organization&q=c&limit=1'],
  ])('answers every relationship with both its ends in the same page (%s)', async (_, query) => {
    const { workspaceId } = await standardGraph();
    let cursor: string | null = null;
    const seen = new Set<string>();
    do {
      const res: HttpResult<Json<GraphPage>> = await graphPage(workspaceId, `?${query}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      const listed = new Set(res.body.entities.map((e) => e.id));
      const linked = new Set(res.body.linkedEntities.map((e) => e.id));
      // linkedEntities holds the far ends only: none of them is listed, each is some relationship's end
      for (const id of linked) expect(listed.has(id)).toBe(false);
      const ends = new Set(res.body.relationships.flatMap((r) => [r.sourceId, r.targetId]));
      for (const id of linked) expect(ends.has(id)).toBe(true);
      for (const r of res.body.relationships) {
        expect(listed.has(r.sourceId) || listed.has(r.targetId)).toBe(true);
        expect(listed.has(r.sourceId) || linked.has(r.sourceId)).toBe(true);
        expect(listed.has(r.targetId) || linked.has(r.targetId)).toBe(true);
        seen.add(r.id);
      }
      cursor = res.body.nextCursor;
    } while (cursor);
    // and the walk still reaches every relationship that touches a matching entity
    const all = await graphPage(workspaceId, '?limit=500');
    const matching = new Set((await walk(workspaceId, query.replace(/&?limit=\d+/, ''))).entities.map((e) => e.id));
    const touching = all.body.relationships.filter((r) => matching.has(r.sourceId) || matching.has(r.targetId)).map((r) => r.id);
    expect([...seen].sort()).toEqual(touching.sort());
  });

  it('says in its OpenAPI description that every relationship comes with both its ends', async () => {
    interface Operation {
      description: string;
      responses: Record<string, { content: Record<string, { schema: { properties: Record<string, unknown> } }> }>;
    }
    const docs = await api.request<{ paths: Record<string, { get: Operation }> }>('GET', '/docs/openapi.json', { token: null });
    const operation = docs.body.paths['/v1/workspaces/{workspaceId}/graph'].get;
    expect(operation.description).toContain('Every relationship in an answer has both ends in it');
    expect(operation.description).toContain('`linkedEntities`');
    expect(Object.keys(operation.responses['200'].content['application/json'].schema.properties)).toEqual([
      'entities',
      'linkedEntities',
      'relationships',
      'relationshipsTruncated',
      'nextCursor',
    ]);
  });

  it('filters by exact type, across pages', async () => {
    const { workspaceId } = await standardGraph();
    const { entities } = await walk(workspaceId, 'type=organization&limit=3');
    expect(entities.map((e) => e.name).sort()).toEqual([...ORGS].sort());
    expect((await graphPage(workspaceId, '?type=organisation')).body).toEqual({
      entities: [],
      linkedEntities: [],
      relationships: [],
      relationshipsTruncated: false,
      nextCursor: null,
    });
    expect((await graphPage(workspaceId, '?type=Organization')).body.entities).toEqual([]);
  });

  it('filters by a case- and accent-insensitive name fragment, combined with type', async () => {
    const { workspaceId } = await standardGraph();
    const names = async (query: string) => (await walk(workspaceId, query)).entities.map((e) => e.name).sort();
    expect(await names('q=ALI')).toEqual(['Ali Baba', 'Alice Johnson', 'alice cooper']);
    expect(await names('q=alice&limit=1')).toEqual(['Alice Johnson', 'alice cooper']);
    expect(await names('q=jose%20alv')).toEqual(['José Álvarez']);
    expect(await names('q=ZOE')).toEqual(['Zoë Quinn']);
    expect(await names('q=acme&type=person')).toEqual([]);
    expect(await names('q=%25')).toHaveLength(PEOPLE.length + ORGS.length);
    expect(await names('q=nobody')).toEqual([]);
  });

  it('shows one entity with the records that mention it', async () => {
    const { workspaceId, records } = await standardGraph();
    const [alice] = (await graphPage(workspaceId, '?q=alice%20johnson')).body.entities;
    const res = await api.request('GET', `/v1/workspaces/${workspaceId}/graph/entities/${alice.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: alice.id,
      name: 'Alice Johnson',
      type: 'person',
      description: 'Alice Johnson is a person',
      mentionCount: 3,
      mentions: records.map((r) => ({
        recordId: r.id,
        externalId: r.externalId,
        subject: r.subject,
        from: r.fromAddr,
        sentAt: r.sentAt.toISOString(),
      })),
    });
  });

  it("answers 404 for an unknown entity and for another workspace's entity", async () => {
    const mine = await standardGraph();
    const other = await seededWorkspace([{ entities: [entity('Hidden Person', 'person')], relationships: [] }]);
    const [hidden] = (await graphPage(other.workspaceId)).body.entities;
    for (const entityId of [randomUUID(), hidden.id]) {
      const res = await api.request('GET', `/v1/workspaces/${mine.workspaceId}/graph/entities/${entityId}`);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
    }
    const malformed = await api.request<ApiErrorBody>('GET', `/v1/workspaces/${mine.workspaceId}/graph/entities/not-a-uuid`);
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('VALIDATION_FAILED');
  });

  it("answers 404 WORKSPACE_NOT_FOUND for another tenant's workspace and its entities", async () => {
    const theirs = await standardGraph();
    const intruder = await api.newTenant();
    const token = await api.newTenantToken(intruder.id);
    const [someone] = (await graphPage(theirs.workspaceId)).body.entities;
    for (const path of [
      `/v1/workspaces/${theirs.workspaceId}/graph`,
      `/v1/workspaces/${theirs.workspaceId}/graph/entities/${someone.id}`,
      `/v1/workspaces/${randomUUID()}/graph`,
    ]) {
      const res = await api.request('GET', path, { token });
      expect({ path, status: res.status, body: res.body }).toEqual({
        path,
        status: 404,
        body: { error: { code: 'WORKSPACE_NOT_FOUND', message: expect.any(String) } },
      });
    }
    const ownerToken = await api.newTenantToken(theirs.tenant.id);
    expect((await graphPage(theirs.workspaceId, '', ownerToken)).status).toBe(200);
  });

  it.each([
    ['a cursor that is not base64url', '?cursor=not%20a%20cursor'],
    ['a cursor of random bytes', `?cursor=${Buffer.from('garbage').toString('base64url')}`],
    ['a cursor with a bad id', `?cursor=${Buffer.from(JSON.stringify(['alice', 'nope'])).toString('base64url')}`],
    ['two cursors', '?cursor=a&cursor=b'],
    ['limit 0', '?limit=0'],
    ['limit 501', '?limit=501'],
    ['a fractional limit', '?limit=1.5'],
    ['a limit that is not a number', '?limit=ten'],
    ['an empty limit', '?limit='],
    ['an unknown parameter', '?sort=name'],
  ])('answers 400 VALIDATION_FAILED for %s', async (_, query) => {
    const { workspaceId } = await seededWorkspace([{ entities: [entity('Someone', 'person')], relationships: [] }]);
    const res = await graphPage<ApiErrorBody>(workspaceId, query);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: 'VALIDATION_FAILED', message: expect.any(String) } });
  });

  it('answers an empty graph for a workspace without one, and accepts the largest limit', async () => {
    const tenant = await api.newTenant();
    const workspace = await api.newWorkspace(tenant.id);
    const res = await graphPage(workspace.id, '?limit=500');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ entities: [], linkedEntities: [], relationships: [], relationshipsTruncated: false, nextCursor: null });
  });
});
