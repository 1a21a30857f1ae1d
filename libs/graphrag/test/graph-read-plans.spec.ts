import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { type GraphQuery, GraphReadRepository, GraphragModule } from '#libs/graphrag';
import { MediumContext } from '#libs/testing';

const GRAPH_TABLES = new Set(['entities', 'relationships', 'entity_mentions']);
const SURNAMES = ['johnson', 'smith', 'diaz', 'okafor', 'martin', 'liu', 'hopper', 'sato', 'petrov', 'adams'];

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodesOf(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodesOf)];
}

/**
 * Every statement GraphReadRepository runs, EXPLAINed on a graph of realistic size (two workspaces,
 * 40,000 entities, 140,000 mentions, 80,000 relationships, statistics fresh from ANALYZE): none reads
 * a graph table by a sequential scan.
 */
describe('Graph read plans', () => {
  let ctx: MediumContext;
  let client: pg.Client;
  const repository = new GraphReadRepository();
  let workspaceId: string;
  let hubId: string;
  let pageIds: string[];

  beforeAll(async () => {
    ctx = await MediumContext.create({ imports: [GraphragModule] });
    client = new pg.Client({ connectionString: ctx.config.databaseUrl });
    await client.connect();
    const tenant = await ctx.newTenant();
    workspaceId = (await ctx.newWorkspace(tenant.id)).id;
    await seed(workspaceId, 20_000, 100_000);
    await seed((await ctx.newWorkspace(tenant.id, 'Other')).id, 20_000, 40_000);
    await client.query('ANALYZE');
    hubId = (await client.query<{ id: string }>('SELECT id FROM entities WHERE workspace_id = $1 ORDER BY mention_count DESC LIMIT 1', [workspaceId]))
      .rows[0].id;
    pageIds = (
      await client.query<{ id: string }>('SELECT id FROM entities WHERE workspace_id = $1 ORDER BY normalized_name, id LIMIT 100', [workspaceId])
    ).rows.map((r) => r.id);
  }, 120_000);
  afterAll(async () => {
    await client.end();
    await ctx.close();
  });

  async function seed(id: string, entities: number, mentions: number): Promise<void> {
    const records = mentions / 10;
    await client.query(
      `INSERT INTO source_records (id, workspace_id, source, external_id, from_addr, to_addr, subject, body, sent_at)
       SELECT md5('r' || $1::text || i)::uuid, $1::uuid, 'api', 'r-' || i, 'a@example.test', 'b@example.test', 's', 'b', timestamp '2026-01-01' + i * interval '1 minute'
       FROM generate_series(1, $2::int) i`,
      [id, records],
    );
    await client.query(
      `INSERT INTO entities (id, workspace_id, name, normalized_name, type, description)
       SELECT md5('e' || $1::text || i)::uuid, $1::uuid, n, lower(n), (ARRAY['person','organization','project','location'])[1 + i % 4], 'd'
       FROM generate_series(0, $2::int - 1) i, LATERAL (SELECT 'Name ' || initcap(($3::text[])[1 + i % 10]) || ' ' || substr(md5(i::text), 1, 6) AS n) x`,
      [id, entities, SURNAMES],
    );
    // skewed: a few entities are mentioned thousands of times, most a handful
    await client.query(
      `INSERT INTO entity_mentions (entity_id, record_id, workspace_id, sent_at)
       SELECT DISTINCT ON (e, r.id) e, r.id, $1::uuid, r.sent_at
       FROM (SELECT md5('e' || $1::text || floor($2::int * power(random(), 3))::int)::uuid AS e, md5('r' || $1::text || (1 + floor(random() * $3::int))::int)::uuid AS rid
             FROM generate_series(1, $4::int)) m JOIN source_records r ON r.id = m.rid
       ON CONFLICT DO NOTHING`,
      [id, entities, records, mentions],
    );
    await client.query(
      `UPDATE entities e SET mention_count = c.n FROM (SELECT entity_id, count(*)::int AS n FROM entity_mentions WHERE workspace_id = $1::uuid GROUP BY entity_id) c
       WHERE e.id = c.entity_id`,
      [id],
    );
    await client.query(
      `INSERT INTO relationships (id, workspace_id, source_entity_id, target_entity_id, description, strength)
       SELECT gen_random_uuid(), $1::uuid, md5('e' || $1::text || s)::uuid, md5('e' || $1::text || t)::uuid, 'knows', 1 + (s + t) % 10
       FROM (SELECT floor($2::int * power(random(), 2))::int s, floor(random() * $2::int)::int t FROM generate_series(1, $2::int * 2)) p
       WHERE s <> t ON CONFLICT DO NOTHING`,
      [id, entities],
    );
  }

  /** Runs `read` with a query function that EXPLAINs each statement instead of running it. */
  async function plansOf(read: (query: GraphQuery) => Promise<unknown>): Promise<PlanNode[][]> {
    const plans: PlanNode[][] = [];
    const explain = async (sql: string, params: unknown[]) => {
      const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
      plans.push(nodesOf(rows[0]['QUERY PLAN'][0].Plan));
      return [];
    };
    await read(explain);
    return plans;
  }

  const cases: [string, (query: GraphQuery) => Promise<unknown>][] = [
    ['the graph version', (q) => repository.graphVersion(q, workspaceId)],
    ['a first page', (q) => repository.findEntities(q, workspaceId, { limit: 101 })],
    ['a next page', (q) => repository.findEntities(q, workspaceId, { limit: 101, after: { normalizedName: 'name johnson 5', id: pageIds[0] } })],
    ['a type filter', (q) => repository.findEntities(q, workspaceId, { type: 'project', limit: 101 })],
    [
      'a type filter, next page',
      (q) => repository.findEntities(q, workspaceId, { type: 'project', limit: 101, after: { normalizedName: 'name m', id: pageIds[0] } }),
    ],
    // entity 1234's name: names end in a distinct token, as real names are mostly distinct
    ['a name search', (q) => repository.findEntities(q, workspaceId, { nameFragment: `okafor ${md5('1234').slice(0, 6)}`, limit: 101 })],
    ['a short name search', (q) => repository.findEntities(q, workspaceId, { nameFragment: 'sa', limit: 101 })],
    ["a page's relationships", (q) => repository.findRelationships(q, workspaceId, pageIds, 2_001)],
    ["the far ends of a page's relationships", (q) => repository.findEntitiesByIds(q, workspaceId, pageIds)],
    ['one entity', (q) => repository.findEntity(q, workspaceId, hubId)],
    ["the busiest entity's first mentions", (q) => repository.findMentions(q, workspaceId, hubId, 100)],
  ];

  it.each(cases)('reads %s through indexes only', async (_, read) => {
    const plans = await plansOf(read);
    expect(plans).toHaveLength(1);
    const graphScans = plans[0].filter((node) => node['Relation Name'] !== undefined && GRAPH_TABLES.has(node['Relation Name']));
    const seqScans = graphScans.filter((node) => node['Node Type'] === 'Seq Scan').map((node) => node['Relation Name']);
    expect(seqScans).toEqual([]);
    if (graphScans.length > 0) expect(graphScans.every((node) => /Index|Bitmap Heap/.test(node['Node Type']))).toBe(true);
  });

  it('reads mentions in index order, without sorting all of the busiest entity’s mentions', async () => {
    const [plan] = await plansOf((q) => repository.findMentions(q, workspaceId, hubId, 100));
    expect(plan.map((node) => node['Node Type'])).not.toContain('Sort');
    expect(plan.find((node) => node['Relation Name'] === 'entity_mentions')?.['Index Name']).toBe('entity_mentions_entity_id_sent_at_record_id_idx');
  });
});

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}
