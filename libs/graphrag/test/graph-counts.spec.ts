import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import {
  type ExtractionAnswer,
  emptyPageGraph,
  type GraphPage,
  GraphQueryService,
  GraphReadTimeoutError,
  GraphragModule,
  GraphRepository,
  mergeAnswer,
} from '#libs/graphrag';
import { MediumContext } from '#libs/testing';

const STATEMENT_TIMEOUT_MS = 300;

describe('Graph counts and versions (applyPage) and the graph read timeout', () => {
  let ctx: MediumContext;

  beforeAll(async () => {
    ctx = await MediumContext.create({ imports: [GraphragModule], env: { GRAPH_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS) } });
  });
  afterAll(() => ctx.close());

  async function workspaceWithRecords(count: number) {
    const tenant = await ctx.newTenant();
    const workspace = await ctx.newWorkspace(tenant.id);
    await ctx.prisma.sourceRecord.createMany({
      data: Array.from({ length: count }, (_, i) => ({
        workspaceId: workspace.id,
        source: 'api',
        externalId: `r-${i}`,
        fromAddr: 'a@example.test',
        toAddr: 'b@example.test',
        subject: `s ${i}`,
        body: `b ${i}`,
        sentAt: new Date(Date.UTC(2026, 0, 1 + i)),
      })),
    });
    const records = await ctx.prisma.sourceRecord.findMany({ where: { workspaceId: workspace.id }, orderBy: { seq: 'asc' } });
    return { workspaceId: workspace.id, recordIds: records.map((r) => r.id) };
  }

  const answer = (...names: string[]): ExtractionAnswer => ({
    entities: names.map((name) => ({ name, type: 'person', description: `${name} is a person` })),
    relationships: [],
  });

  async function apply(workspaceId: string, answers: [recordId: string, answer: ExtractionAnswer][]) {
    const graph = emptyPageGraph();
    for (const [recordId, a] of answers) mergeAnswer(graph, recordId, a);
    return ctx.prisma.$transaction((tx) => ctx.get(GraphRepository).applyPage(tx, workspaceId, graph));
  }

  async function state(workspaceId: string) {
    const entities = await ctx.prisma.entity.findMany({ where: { workspaceId }, include: { _count: { select: { mentions: true } } } });
    const workspace = await ctx.prisma.workspace.findUniqueOrThrow({ where: { id: workspaceId } });
    return {
      counts: Object.fromEntries(entities.map((e) => [e.name, e.mentionCount])),
      counted: Object.fromEntries(entities.map((e) => [e.name, e._count.mentions])),
      version: workspace.graphVersion,
    };
  }

  it('counts each new mention once: a page applied again adds nothing, a second page adds its own', async () => {
    const { workspaceId, recordIds: r } = await workspaceWithRecords(3);
    const first: [string, ExtractionAnswer][] = [
      [r[0], answer('Alice Johnson', 'Bob Smith')],
      [r[1], answer('Alice Johnson')],
    ];

    await expect(apply(workspaceId, first)).resolves.toEqual({ newEntities: 2, newRelationships: 0, newMentions: 3 });
    const afterFirst = await state(workspaceId);
    expect(afterFirst.counts).toEqual({ 'Alice Johnson': 2, 'Bob Smith': 1 });
    expect(afterFirst.version).toBe(1n);

    // a resumed job applies the same page again
    await expect(apply(workspaceId, first)).resolves.toEqual({ newEntities: 0, newRelationships: 0, newMentions: 0 });
    expect((await state(workspaceId)).counts).toEqual({ 'Alice Johnson': 2, 'Bob Smith': 1 });

    await expect(apply(workspaceId, [[r[2], answer('ALICE JOHNSON', 'Carol Diaz')]])).resolves.toEqual({
      newEntities: 1,
      newRelationships: 0,
      newMentions: 2,
    });
    const last = await state(workspaceId);
    expect(last.counts).toEqual({ 'Alice Johnson': 3, 'Bob Smith': 1, 'Carol Diaz': 1 });
    expect(last.counts).toEqual(last.counted);
    expect(last.version).toBe(3n);
  });

  it('leaves the graph version alone for a page without entities', async () => {
    const { workspaceId, recordIds } = await workspaceWithRecords(1);
    await apply(workspaceId, [[recordIds[0], answer()]]);
    expect((await state(workspaceId)).version).toBe(0n);
  });

  it('stops a graph read that waits past GRAPH_STATEMENT_TIMEOUT_MS with GraphReadTimeoutError', async () => {
    const { workspaceId, recordIds } = await workspaceWithRecords(1);
    await apply(workspaceId, [[recordIds[0], answer('Alice Johnson')]]);
    // another session holds the table: the read waits for the lock until its timeout ends it
    const holder = new pg.Client({ connectionString: ctx.config.databaseUrl });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE entities IN ACCESS EXCLUSIVE MODE');
      await expect(ctx.get(GraphQueryService).page(workspaceId)).rejects.toThrow(GraphReadTimeoutError);
      await expect(ctx.get(GraphQueryService).page(workspaceId)).rejects.toMatchObject({ code: 'GRAPH_READ_TIMEOUT' });
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    // the pool's connections are fine afterwards
    const { body: json } = await ctx.get(GraphQueryService).page(workspaceId);
    const page = JSON.parse(json!.toString('utf8')) as GraphPage;
    expect(page.entities.map((e) => [e.name, e.mentionCount])).toEqual([['Alice Johnson', 1]]);
  });
});
