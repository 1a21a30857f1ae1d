import { Injectable } from '@nestjs/common';
import { type Entity, Prisma, PrismaService, type Relationship, type Tx } from '#libs/database';
import type { PageGraph } from './graph-merge.js';

export interface GraphWriteCounts {
  newEntities: number;
  newRelationships: number;
  newMentions: number;
}

export interface GraphPageQuery {
  type?: string;
  /** A fragment of the normalized name (see normalizeName). */
  nameFragment?: string;
  after?: { normalizedName: string; id: string };
  limit: number;
}

export type EntityWithMentionCount = Entity & { _count: { mentions: number } };

// ties in description length are settled by byte order, as in graph-merge.ts, so merge order never matters
const LONGER_DESCRIPTION = (table: string) =>
  Prisma.raw(`CASE WHEN length(EXCLUDED.description) > length(${table}.description)
  OR (length(EXCLUDED.description) = length(${table}.description) AND EXCLUDED.description COLLATE "C" < ${table}.description COLLATE "C")
  THEN EXCLUDED.description ELSE ${table}.description END`);

/** Owns entities, relationships and entity_mentions; every method is scoped by workspace id first. */
@Injectable()
export class GraphRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Upserts one page's graph inside the caller's transaction; counts only rows that did not exist. */
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
    const newMentions = await tx.$executeRaw`
      INSERT INTO entity_mentions (entity_id, record_id, workspace_id)
      SELECT u.entity_id, u.record_id, ${workspaceId}::uuid FROM unnest(${mentionEntities}::uuid[], ${mentionRecords}::uuid[]) AS u(entity_id, record_id)
      ON CONFLICT DO NOTHING`;

    return { newEntities: rows.filter((r) => r.inserted).length, newRelationships, newMentions };
  }

  /** A page of entities in (normalized name, id) order, after a keyset position, filtered by type and a name fragment. */
  findEntities(workspaceId: string, query: GraphPageQuery): Promise<EntityWithMentionCount[]> {
    const { after } = query;
    return this.prisma.entity.findMany({
      where: {
        workspaceId,
        ...(query.type !== undefined ? { type: query.type } : {}),
        ...(query.nameFragment ? { normalizedName: { contains: query.nameFragment } } : {}),
        ...(after ? { OR: [{ normalizedName: { gt: after.normalizedName } }, { normalizedName: after.normalizedName, id: { gt: after.id } }] } : {}),
      },
      orderBy: [{ normalizedName: 'asc' }, { id: 'asc' }],
      take: query.limit,
      include: { _count: { select: { mentions: true } } },
    });
  }

  /** Relationships touching any of the given entities. */
  findRelationships(workspaceId: string, entityIds: string[]): Promise<Relationship[]> {
    if (entityIds.length === 0) return Promise.resolve([]);
    return this.prisma.relationship.findMany({
      where: { workspaceId, OR: [{ sourceEntityId: { in: entityIds } }, { targetEntityId: { in: entityIds } }] },
      orderBy: [{ strength: 'desc' }, { id: 'asc' }],
    });
  }

  /** One entity with its first `maxMentions` mentions, oldest record first. */
  findEntity(workspaceId: string, entityId: string, maxMentions: number) {
    return this.prisma.entity.findFirst({
      where: { workspaceId, id: entityId },
      include: {
        _count: { select: { mentions: true } },
        mentions: {
          take: maxMentions,
          orderBy: [{ record: { sentAt: 'asc' } }, { recordId: 'asc' }],
          include: { record: { select: { id: true, externalId: true, subject: true, fromAddr: true, sentAt: true } } },
        },
      },
    });
  }
}
