import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { isUuid, NotFoundError, ValidationFailedError } from '#libs/common';
import { normalizeName } from './graph-merge.js';
import type { EntityDetail, EntitySummary, GraphPage, GraphPageRequest, GraphReadOptions, TaggedGraphPage } from './graph-page.js';
import { GraphPageCache } from './graph-page-cache.js';
import { GraphReadPool } from './graph-read-pool.js';
import { type EntityRow, type GraphPageQuery, GraphReadRepository } from './graph-read.repository.js';

export const GRAPH_PAGE_DEFAULT_LIMIT = 100;
export const GRAPH_PAGE_MAX_LIMIT = 500;
export const ENTITY_MAX_MENTIONS = 100;
/** Relationships one page carries at most (the strongest); `relationshipsTruncated` says when there were more. */
export const GRAPH_PAGE_MAX_RELATIONSHIPS = 2_000;

export class EntityNotFoundError extends NotFoundError {
  constructor(entityId: string) {
    super(`Entity ${entityId} not found`);
  }
}

/**
 * Reads a workspace's graph: keyset pages of entities with their relationships, and one entity with
 * its mentions. Pages are cached by graph version, so a read costs one indexed version lookup until
 * the graph changes. Reads run on the GraphReadPool.
 */
@Injectable()
export class GraphQueryService {
  // a version read in flight answers every request for that workspace that arrives meanwhile
  private readonly versionReads = new Map<string, Promise<string>>();

  constructor(
    private readonly pool: GraphReadPool,
    private readonly graph: GraphReadRepository,
    private readonly cache: GraphPageCache,
  ) {}

  /**
   * One page of entities (`limit`, default 100, at most 500) with their relationships, and the
   * entities at the far end of those relationships that the page does not list (`linkedEntities`):
   * every relationship's two ends are in the answer.
   * @throws ValidationFailedError for a bad limit, type or cursor
   * @throws GraphReadTimeoutError when Postgres took longer than GRAPH_STATEMENT_TIMEOUT_MS
   * @throws GraphReadAbortedError when `options.signal` aborted
   */
  async page(workspaceId: string, request: GraphPageRequest = {}, options: GraphReadOptions = {}): Promise<TaggedGraphPage> {
    const query = pageQuery(request);
    const version = await this.graphVersion(workspaceId);
    const key = `${workspaceId}/${version}/${JSON.stringify([query.type, query.nameFragment, query.after, query.limit])}`;
    const tag = `g${version}-${createHash('sha256').update(key).digest('base64url').slice(0, 22)}`;
    const encoding = options.encoding ?? 'identity';
    const etag = encoding === 'gzip' ? `"${tag}-gzip"` : `"${tag}"`;
    // either representation's tag names the same page: a client that changed Accept-Encoding still gets 304
    if (options.ifNoneMatch !== undefined && matchesTag(options.ifNoneMatch, [`"${tag}"`, `"${tag}-gzip"`])) return { etag, encoding };
    const cached = this.cache.get(key);
    if (cached !== undefined) return { etag, encoding, body: cached[encoding === 'gzip' ? 'gzip' : 'json'] };

    return this.pool.read(options.signal, async (sql) => {
      // one row more than asked tells whether another page exists, so the last page has no cursor
      const rows = await this.graph.findEntities(sql, workspaceId, { ...query, limit: query.limit + 1 });
      const entities = rows.slice(0, query.limit);
      const relationships = await this.graph.findRelationships(
        sql,
        workspaceId,
        entities.map((e) => e.id),
        GRAPH_PAGE_MAX_RELATIONSHIPS + 1,
      );
      const kept = relationships.slice(0, GRAPH_PAGE_MAX_RELATIONSHIPS);
      // the far end of a relationship that this page does not list (another page's entity, or one the
      // filters leave out) comes with the page, so every relationship's two ends are in the answer
      const listed = new Set(entities.map((e) => e.id));
      const farEnds = new Set<string>();
      for (const r of kept) for (const end of [r.sourceId, r.targetId]) if (!listed.has(end)) farEnds.add(end);
      const linked = await this.graph.findEntitiesByIds(sql, workspaceId, [...farEnds]);
      const page: GraphPage = {
        entities: entities.map(entitySummary),
        linkedEntities: linked.map(entitySummary),
        relationships: kept,
        relationshipsTruncated: relationships.length > GRAPH_PAGE_MAX_RELATIONSHIPS,
        nextCursor: rows.length > query.limit ? encodeCursor(entities[entities.length - 1]) : null,
      };
      const encoded = this.cache.set(key, page);
      return { etag, encoding, body: encoding === 'gzip' ? encoded.gzip : encoded.json };
    });
  }

  /**
   * The workspace's graph version ('0' for an unknown workspace). Concurrent requests share one read:
   * under load that is one indexed lookup per round trip, not one per request.
   */
  private graphVersion(workspaceId: string): Promise<string> {
    let read = this.versionReads.get(workspaceId);
    if (!read) {
      // not tied to any one caller's signal: the others wait for it too
      read = this.pool
        .read(undefined, async (sql) => (await this.graph.graphVersion(sql, workspaceId)) ?? '0')
        .finally(() => this.versionReads.delete(workspaceId));
      this.versionReads.set(workspaceId, read);
    }
    return read;
  }

  /**
   * One entity with its first ENTITY_MAX_MENTIONS mentions.
   * @throws EntityNotFoundError for an unknown entity or another workspace's
   * @throws GraphReadTimeoutError, GraphReadAbortedError as `page`
   */
  async entity(workspaceId: string, entityId: string, signal?: AbortSignal): Promise<EntityDetail> {
    return this.pool.read(signal, async (sql) => {
      const entity = await this.graph.findEntity(sql, workspaceId, entityId);
      if (!entity) throw new EntityNotFoundError(entityId);
      const mentions = await this.graph.findMentions(sql, workspaceId, entityId, ENTITY_MAX_MENTIONS);
      return { ...entitySummary(entity), mentions };
    });
  }
}

function pageQuery(request: GraphPageRequest): GraphPageQuery {
  const limit = request.limit ?? GRAPH_PAGE_DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > GRAPH_PAGE_MAX_LIMIT) {
    throw new ValidationFailedError(`limit must be an integer from 1 to ${GRAPH_PAGE_MAX_LIMIT}`);
  }
  // Postgres text cannot hold NUL, so such a parameter would fail the query instead of matching nothing
  if (request.type?.includes('\u0000')) throw new ValidationFailedError('type must not contain NUL characters');
  if (request.q?.includes('\u0000')) throw new ValidationFailedError('q must not contain NUL characters');
  return {
    type: request.type,
    nameFragment: request.q === undefined ? undefined : normalizeName(request.q),
    after: request.cursor === undefined ? undefined : decodeCursor(request.cursor),
    limit,
  };
}

/** If-None-Match holds a list of tags (weak ones compare by their opaque part), or `*`. */
function matchesTag(header: string, etags: readonly string[]): boolean {
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => etags.includes(tag) || tag === '*');
}

function entitySummary(entity: EntityRow): EntitySummary {
  return { id: entity.id, name: entity.name, type: entity.type, description: entity.description, mentionCount: entity.mentionCount };
}

function encodeCursor(last: { normalizedName: string; id: string }): string {
  return Buffer.from(JSON.stringify([last.normalizedName, last.id])).toString('base64url');
}

function decodeCursor(cursor: string): { normalizedName: string; id: string } {
  // an error is built only when thrown: its stack trace costs more than the decoding
  const invalid = () => new ValidationFailedError('cursor is not one this API returned; start again without it');
  if (!/^[A-Za-z0-9_-]{1,2048}$/.test(cursor)) throw invalid();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(value) || value.length !== 2) throw invalid();
  const [normalizedName, id] = value as unknown[];
  if (typeof normalizedName !== 'string' || normalizedName.includes('\u0000') || !isUuid(id)) throw invalid();
  return { normalizedName, id };
}
