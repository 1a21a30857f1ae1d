import { Injectable } from '@nestjs/common';
import { isUuid, NotFoundError, ValidationFailedError } from '#libs/common';
import { normalizeName } from './graph-merge.js';
import { type EntityWithMentionCount, GraphRepository } from './graph.repository.js';

export const GRAPH_PAGE_DEFAULT_LIMIT = 100;
export const GRAPH_PAGE_MAX_LIMIT = 500;
export const ENTITY_MAX_MENTIONS = 100;

export interface GraphPageRequest {
  type?: string;
  /** A case-insensitive fragment of the entity's name. */
  q?: string;
  /** An opaque cursor from a previous page's nextCursor. */
  cursor?: string;
  limit?: number;
}

export interface EntitySummary {
  id: string;
  name: string;
  type: string;
  description: string;
  mentionCount: number;
}

export interface RelationshipSummary {
  id: string;
  sourceId: string;
  targetId: string;
  description: string;
  strength: number;
}

export interface GraphPage {
  entities: EntitySummary[];
  /** Every relationship with at least one end among this page's entities. */
  relationships: RelationshipSummary[];
  nextCursor: string | null;
}

export interface EntityMentionSummary {
  recordId: string;
  externalId: string;
  subject: string;
  from: string;
  sentAt: Date;
}

export interface EntityDetail extends EntitySummary {
  /** The first ENTITY_MAX_MENTIONS mentions, oldest record first; mentionCount has the total. */
  mentions: EntityMentionSummary[];
}

export class EntityNotFoundError extends NotFoundError {
  constructor(entityId: string) {
    super(`Entity ${entityId} not found`);
  }
}

/** Reads a workspace's graph: keyset pages of entities with their relationships, and one entity with its mentions. */
@Injectable()
export class GraphQueryService {
  constructor(private readonly graph: GraphRepository) {}

  async page(workspaceId: string, request: GraphPageRequest = {}): Promise<GraphPage> {
    const limit = request.limit ?? GRAPH_PAGE_DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > GRAPH_PAGE_MAX_LIMIT) {
      throw new ValidationFailedError(`limit must be an integer from 1 to ${GRAPH_PAGE_MAX_LIMIT}`);
    }
    // Postgres text cannot hold NUL, so such a parameter would fail the query instead of matching nothing
    if (request.type?.includes('\u0000')) throw new ValidationFailedError('type must not contain NUL characters');
    // one row more than asked tells whether another page exists, so the last page has no cursor
    const rows = await this.graph.findEntities(workspaceId, {
      type: request.type,
      nameFragment: request.q === undefined ? undefined : normalizeName(request.q),
      after: request.cursor === undefined ? undefined : decodeCursor(request.cursor),
      limit: limit + 1,
    });
    const entities = rows.slice(0, limit);
    const relationships = await this.graph.findRelationships(
      workspaceId,
      entities.map((e) => e.id),
    );
    return {
      entities: entities.map(entitySummary),
      relationships: relationships.map((r) => ({
        id: r.id,
        sourceId: r.sourceEntityId,
        targetId: r.targetEntityId,
        description: r.description,
        strength: r.strength,
      })),
      nextCursor: rows.length > limit ? encodeCursor(entities[entities.length - 1]) : null,
    };
  }

  async entity(workspaceId: string, entityId: string): Promise<EntityDetail> {
    const entity = await this.graph.findEntity(workspaceId, entityId, ENTITY_MAX_MENTIONS);
    if (!entity) throw new EntityNotFoundError(entityId);
    return {
      ...entitySummary(entity),
      mentions: entity.mentions.map(({ record }) => ({
        recordId: record.id,
        externalId: record.externalId,
        subject: record.subject,
        from: record.fromAddr,
        sentAt: record.sentAt,
      })),
    };
  }
}

function entitySummary(entity: EntityWithMentionCount): EntitySummary {
  return { id: entity.id, name: entity.name, type: entity.type, description: entity.description, mentionCount: entity._count.mentions };
}

function encodeCursor(last: { normalizedName: string; id: string }): string {
  return Buffer.from(JSON.stringify([last.normalizedName, last.id])).toString('base64url');
}

function decodeCursor(cursor: string): { normalizedName: string; id: string } {
  const invalid = new ValidationFailedError('cursor is not one this API returned; start again without it');
  if (!/^[A-Za-z0-9_-]{1,2048}$/.test(cursor)) throw invalid;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (!Array.isArray(value) || value.length !== 2) throw invalid;
  const [normalizedName, id] = value as unknown[];
  if (typeof normalizedName !== 'string' || normalizedName.includes('\u0000') || !isUuid(id)) throw invalid;
  return { normalizedName, id };
}
