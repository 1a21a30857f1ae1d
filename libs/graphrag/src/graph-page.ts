/** The shapes of graph reads (GraphQueryService). */

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
  /**
   * The other ends of `relationships` that `entities` does not hold (an entity of another page, or
   * one the type or name filter leaves out), so both ends of every relationship are in the page.
   * Never one of `entities`; in (normalized name, id) order.
   */
  linkedEntities: EntitySummary[];
  /** Relationships with at least one end among this page's entities: all of them, or the strongest GRAPH_PAGE_MAX_RELATIONSHIPS. */
  relationships: RelationshipSummary[];
  /** Whether more relationships touch this page than `relationships` holds. */
  relationshipsTruncated: boolean;
  nextCursor: string | null;
}

/** The content codings a graph page is answered in (RFC 9110 section 8.4.1). */
export type GraphPageEncoding = 'identity' | 'gzip';

/** A graph page with its entity tag; `body` is absent when the caller's `ifNoneMatch` tag is still current. */
export interface TaggedGraphPage {
  /**
   * A strong HTTP entity tag: the workspace's graph version, the query and the content coding (a
   * gzipped answer is another representation, so another tag: RFC 9110 section 8.8.3).
   */
  etag: string;
  /**
   * The GraphPage as JSON bytes in `encoding`, serialized and compressed once per cached page rather
   * than on every answer; absent when the caller's If-None-Match already names this page (HTTP 304).
   */
  body?: Buffer;
  encoding: GraphPageEncoding;
}

export interface GraphReadOptions {
  /** `gzip` when the client accepts it (Accept-Encoding); `identity` by default. */
  encoding?: GraphPageEncoding;
  /** Aborting it (the client went away) cancels the read in Postgres. */
  signal?: AbortSignal;
  /** The If-None-Match header: when it holds the current tag the page is not read again. */
  ifNoneMatch?: string;
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
