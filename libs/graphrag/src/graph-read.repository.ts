import { Injectable } from '@nestjs/common';
import type { GraphQuery } from './graph-read-pool.js';

export interface GraphPageQuery {
  type?: string;
  /** A fragment of the normalized name (see normalizeName). */
  nameFragment?: string;
  after?: { normalizedName: string; id: string };
  limit: number;
}

export interface EntityRow {
  id: string;
  name: string;
  normalizedName: string;
  type: string;
  description: string;
  mentionCount: number;
}

export interface RelationshipRow {
  id: string;
  sourceId: string;
  targetId: string;
  description: string;
  strength: number;
}

export interface MentionRow {
  recordId: string;
  externalId: string;
  subject: string;
  from: string;
  sentAt: Date;
}

const ENTITY_COLUMNS = `id, name, normalized_name AS "normalizedName", type, description, mention_count AS "mentionCount"`;

/**
 * The graph's reads as plain SQL, each bounded by a LIMIT and served by an index of the
 * 20261129030000_graph_read_path migration (libs/graphrag/test/graph-read-plans.spec.ts proves it).
 * Every method takes the read pool's query function and is scoped by workspace id first.
 */
@Injectable()
export class GraphReadRepository {
  /** The workspace's graph version (bumped by every page that writes its graph), or null for an unknown workspace. */
  async graphVersion(query: GraphQuery, workspaceId: string): Promise<string | null> {
    const rows = await query<{ version: string }>('SELECT graph_version::text AS version FROM workspaces WHERE id = $1', [workspaceId]);
    return rows[0]?.version ?? null;
  }

  /** At most `limit` entities in (normalized name, id) order after a keyset position, filtered by type and a name fragment. */
  findEntities(query: GraphQuery, workspaceId: string, page: GraphPageQuery): Promise<EntityRow[]> {
    const params: unknown[] = [workspaceId];
    const where = ['workspace_id = $1'];
    if (page.type !== undefined) {
      params.push(page.type);
      where.push(`type = $${params.length}`);
    }
    if (page.nameFragment) {
      params.push(`%${escapeLike(page.nameFragment)}%`);
      where.push(`normalized_name LIKE $${params.length}`);
    }
    if (page.after) {
      params.push(page.after.normalizedName, page.after.id);
      where.push(`(normalized_name, id) > ($${params.length - 1}, $${params.length}::uuid)`);
    }
    params.push(page.limit);
    return query<EntityRow>(
      `SELECT ${ENTITY_COLUMNS} FROM entities WHERE ${where.join(' AND ')} ORDER BY normalized_name, id LIMIT $${params.length}`,
      params,
    );
  }

  /**
   * The strongest `limit` relationships with at least one end among the given entities (strength
   * descending, then id). Each side is its own indexed lookup: an OR of both would not use either index.
   */
  findRelationships(query: GraphQuery, workspaceId: string, entityIds: string[], limit: number): Promise<RelationshipRow[]> {
    if (entityIds.length === 0) return Promise.resolve([]);
    const side = (column: string) => `(SELECT id, source_entity_id, target_entity_id, description, strength FROM relationships
       WHERE workspace_id = $1 AND ${column} = ANY($2::uuid[]) ORDER BY strength DESC, id LIMIT $3)`;
    return query<RelationshipRow>(
      `SELECT id, source_entity_id AS "sourceId", target_entity_id AS "targetId", description, strength
       FROM (${side('source_entity_id')} UNION ${side('target_entity_id')}) r
       ORDER BY strength DESC, id LIMIT $3`,
      [workspaceId, entityIds, limit],
    );
  }

  /**
   * The workspace's entities among `entityIds` (unknown ids and other workspaces' are left out), in
   * (normalized name, id) order: the far ends of a page's relationships, by primary key.
   */
  findEntitiesByIds(query: GraphQuery, workspaceId: string, entityIds: string[]): Promise<EntityRow[]> {
    if (entityIds.length === 0) return Promise.resolve([]);
    return query<EntityRow>(`SELECT ${ENTITY_COLUMNS} FROM entities WHERE id = ANY($2::uuid[]) AND workspace_id = $1 ORDER BY normalized_name, id`, [
      workspaceId,
      entityIds,
    ]);
  }

  /** One entity of the workspace, or null. */
  async findEntity(query: GraphQuery, workspaceId: string, entityId: string): Promise<EntityRow | null> {
    const rows = await query<EntityRow>(`SELECT ${ENTITY_COLUMNS} FROM entities WHERE workspace_id = $1 AND id = $2`, [workspaceId, entityId]);
    return rows[0] ?? null;
  }

  /** An entity's first `limit` mentions, oldest record first (record id settles ties). */
  findMentions(query: GraphQuery, workspaceId: string, entityId: string, limit: number): Promise<MentionRow[]> {
    return query<MentionRow>(
      `SELECT r.id AS "recordId", r.external_id AS "externalId", r.subject, r.from_addr AS "from", r.sent_at AS "sentAt"
       FROM entity_mentions m JOIN source_records r ON r.id = m.record_id
       WHERE m.entity_id = $2 AND m.workspace_id = $1
       ORDER BY m.sent_at, m.record_id LIMIT $3`,
      [workspaceId, entityId, limit],
    );
  }
}

/** A fragment matched literally by LIKE: its own %, _ and \ are not wildcards. */
function escapeLike(fragment: string): string {
  return fragment.replace(/[\\%_]/g, (c) => `\\${c}`);
}
