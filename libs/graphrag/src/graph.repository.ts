import { Injectable } from '@nestjs/common';
import { Prisma, type Tx } from '#libs/database';
import type { PageGraph } from './graph-merge.js';

/** What a record deletion took out of the graph. */
export interface GraphRemovalCounts {
  mentions: number;
  entities: number;
  relationships: number;
}

export interface GraphWriteCounts {
  newEntities: number;
  newRelationships: number;
  newMentions: number;
}

// ties in description length are settled by byte order, as in graph-merge.ts, so merge order never matters
const LONGER_DESCRIPTION = (table: string) =>
  Prisma.raw(`CASE WHEN length(EXCLUDED.description) > length(${table}.description)
  OR (length(EXCLUDED.description) = length(${table}.description) AND EXCLUDED.description COLLATE "C" < ${table}.description COLLATE "C")
  THEN EXCLUDED.description ELSE ${table}.description END`);

/** Writes entities, relationships and entity_mentions (reads: GraphReadRepository); scoped by workspace id first. */
@Injectable()
export class GraphRepository {
  /**
   * Upserts one page's graph inside the caller's transaction; counts only rows that did not exist.
   * Keeps entities.mention_count and bumps workspaces.graph_version in the same transaction.
   */
  async applyPage(tx: Tx, workspaceId: string, graph: PageGraph): Promise<GraphWriteCounts> {
    const entities = [...graph.entities.values()];
    if (entities.length === 0) return { newEntities: 0, newRelationships: 0, newMentions: 0 };

    const rows = await tx.$queryRaw<{ id: string; normalized_name: string; type: string; inserted: boolean }[]>`
      INSERT INTO entities (id, workspace_id, name, normalized_name, type, description)
      SELECT gen_random_uuid(), ${workspaceId}::uuid, u.name, u.normalized_name, u.type, u.description
      FROM unnest(${entities.map((e) => e.name)}::text[], ${entities.map((e) => e.normalizedName)}::text[],
                  ${entities.map((e) => e.type)}::text[], ${entities.map((e) => e.description)}::text[])
        AS u(name, normalized_name, type, description)
      ON CONFLICT (workspace_id, normalized_name, type)
      DO UPDATE SET description = ${LONGER_DESCRIPTION('entities')}, updated_at = now()
      RETURNING id, normalized_name, type, (xmax = 0) AS inserted`;
    const idByKey = new Map(rows.map((r) => [`${r.type}\u0000${r.normalized_name}`, r.id]));

    const relationships = [...graph.relationships.values()];
    let newRelationships = 0;
    if (relationships.length > 0) {
      const inserted = await tx.$queryRaw<{ inserted: boolean }[]>`
        INSERT INTO relationships (id, workspace_id, source_entity_id, target_entity_id, description, strength)
        SELECT gen_random_uuid(), ${workspaceId}::uuid, u.source_id, u.target_id, u.description, u.strength
        FROM unnest(${relationships.map((r) => idByKey.get(r.sourceKey)!)}::uuid[], ${relationships.map((r) => idByKey.get(r.targetKey)!)}::uuid[],
                    ${relationships.map((r) => r.description)}::text[], ${relationships.map((r) => r.strength)}::int[])
          AS u(source_id, target_id, description, strength)
        ON CONFLICT (workspace_id, source_entity_id, target_entity_id)
        DO UPDATE SET strength = GREATEST(relationships.strength, EXCLUDED.strength),
                      description = ${LONGER_DESCRIPTION('relationships')}, updated_at = now()
        RETURNING (xmax = 0) AS inserted`;
      newRelationships = inserted.filter((r) => r.inserted).length;
    }

    const mentionEntities: string[] = [];
    const mentionRecords: string[] = [];
    for (const entity of entities) {
      for (const recordId of entity.recordIds) {
        mentionEntities.push(idByKey.get(entity.key)!);
        mentionRecords.push(recordId);
      }
    }
    // only mentions that did not exist count, so a page applied twice (a resumed job) never counts twice
    const counted = await tx.$queryRaw<{ n: number }[]>`
      WITH inserted AS (
        INSERT INTO entity_mentions (entity_id, record_id, workspace_id, sent_at)
        SELECT u.entity_id, u.record_id, ${workspaceId}::uuid, r.sent_at
        FROM unnest(${mentionEntities}::uuid[], ${mentionRecords}::uuid[]) AS u(entity_id, record_id)
        JOIN source_records r ON r.id = u.record_id AND r.workspace_id = ${workspaceId}::uuid
        ON CONFLICT DO NOTHING
        RETURNING entity_id)
      UPDATE entities e SET mention_count = e.mention_count + c.n
      FROM (SELECT entity_id, count(*)::int AS n FROM inserted GROUP BY entity_id) c
      WHERE e.id = c.entity_id
      RETURNING c.n`;
    const newMentions = counted.reduce((sum, row) => sum + row.n, 0);
    // cached graph pages are keyed by this version: any page that wrote the graph makes them stale
    await tx.$executeRaw`UPDATE workspaces SET graph_version = graph_version + 1 WHERE id = ${workspaceId}::uuid`;

    return { newEntities: rows.filter((r) => r.inserted).length, newRelationships, newMentions };
  }

  /**
   * Takes records out of the graph inside the caller's transaction (before the records themselves
   * are deleted): their mentions go, the mention counts of the entities they named drop, and an
   * entity no remaining record mentions goes with every relationship it is an endpoint of (a
   * relationship has no mentions of its own: it lives as long as both its entities). Bumps
   * workspaces.graph_version so cached graph pages are stale. The caller must keep pages of the
   * workspace from committing meanwhile (RecordDeletionService locks the workspace row).
   */
  async forgetRecords(tx: Tx, workspaceId: string, recordIds: string[]): Promise<GraphRemovalCounts> {
    if (recordIds.length === 0) return { mentions: 0, entities: 0, relationships: 0 };
    const removed = await tx.$queryRaw<{ entity_id: string; n: number }[]>`
      WITH gone AS (
        DELETE FROM entity_mentions WHERE workspace_id = ${workspaceId}::uuid AND record_id = ANY(${recordIds}::uuid[])
        RETURNING entity_id)
      SELECT entity_id, count(*)::int AS n FROM gone GROUP BY entity_id`;
    const mentions = removed.reduce((sum, row) => sum + row.n, 0);
    if (removed.length > 0) {
      await tx.$executeRaw`
        UPDATE entities e SET mention_count = GREATEST(e.mention_count - c.n, 0), updated_at = now()
        FROM unnest(${removed.map((r) => r.entity_id)}::uuid[], ${removed.map((r) => r.n)}::int[]) AS c(entity_id, n)
        WHERE e.id = c.entity_id AND e.workspace_id = ${workspaceId}::uuid`;
    }
    // an orphan is judged by its mentions, not its counter, so a drifted counter cannot keep or drop one wrongly
    const orphans = (
      await tx.$queryRaw<{ id: string }[]>`
        SELECT e.id FROM entities e
        WHERE e.workspace_id = ${workspaceId}::uuid AND e.id = ANY(${removed.map((r) => r.entity_id)}::uuid[])
          AND NOT EXISTS (SELECT 1 FROM entity_mentions m WHERE m.entity_id = e.id)`
    ).map((r) => r.id);
    let relationships = 0;
    if (orphans.length > 0) {
      relationships = await tx.$executeRaw`
        DELETE FROM relationships WHERE workspace_id = ${workspaceId}::uuid
          AND (source_entity_id = ANY(${orphans}::uuid[]) OR target_entity_id = ANY(${orphans}::uuid[]))`;
      await tx.$executeRaw`DELETE FROM entities WHERE workspace_id = ${workspaceId}::uuid AND id = ANY(${orphans}::uuid[])`;
    }
    await tx.$executeRaw`UPDATE workspaces SET graph_version = graph_version + 1 WHERE id = ${workspaceId}::uuid`;
    return { mentions, entities: orphans.length, relationships };
  }
}
