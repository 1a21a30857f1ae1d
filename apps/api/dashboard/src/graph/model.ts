/** The graph view's data: every page of a workspace's graph, ranked by how connected each entity is, with its communities. */
import type { AppContext } from '../context.js';
import type { GraphEntity, GraphPage, GraphRelationship } from '../types.js';
import { colourCommunities, type Communities, detectCommunities } from './communities.js';

const PAGE_LIMIT = 500;

export interface LoadedGraph {
  /** Entities in the API's order (normalized name); an entity's index is its node number below. */
  entities: GraphEntity[];
  /** Relationships with both ends among `entities`, each once. */
  relationships: GraphRelationship[];
  byId: Map<string, GraphEntity>;
  indexOf: Map<string, number>;
  /** Relationships by entity id. */
  links: Map<string, GraphRelationship[]>;
  /** Edges as pairs of entity indexes (two per relationship). */
  edges: Uint32Array;
  /** Relationships of each entity, by index. */
  degree: Uint32Array;
  /** Entity indexes, best connected first: degree, then mentions, then the API's order. */
  ranked: number[];
  communities: Communities;
  /** The colour of each community (colourCommunities). */
  communityColours: string[];
}

/**
 * Reads every page of a workspace's graph (limit 500, following nextCursor). A relationship's far end on
 * another page comes with it (linkedEntities), so none is dropped even if the graph grew meanwhile.
 */
export async function loadGraph(
  context: AppContext,
  workspaceId: string,
  signal: AbortSignal,
  progress: (entities: number) => void,
): Promise<LoadedGraph> {
  const entities: GraphEntity[] = [];
  const linked = new Map<string, GraphEntity>();
  const relationships = new Map<string, GraphRelationship>();
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: String(PAGE_LIMIT) });
    if (cursor) query.set('cursor', cursor);
    const page: GraphPage = await context.api.get<GraphPage>(`/v1/workspaces/${workspaceId}/graph?${query}`, { signal });
    entities.push(...page.entities);
    for (const e of page.linkedEntities ?? []) linked.set(e.id, e);
    for (const r of page.relationships) relationships.set(r.id, r);
    cursor = page.nextCursor;
    progress(entities.length);
  } while (cursor);
  const byId = new Map(entities.map((e) => [e.id, e]));
  for (const [id, entity] of linked) {
    if (!byId.has(id)) {
      byId.set(id, entity);
      entities.push(entity);
    }
  }
  return modelOf(entities, [...relationships.values()], byId);
}

function modelOf(entities: GraphEntity[], all: GraphRelationship[], byId: Map<string, GraphEntity>): LoadedGraph {
  const indexOf = new Map(entities.map((e, i) => [e.id, i]));
  const relationships = all.filter((r) => indexOf.has(r.sourceId) && indexOf.has(r.targetId));
  const links = new Map<string, GraphRelationship[]>();
  const edges = new Uint32Array(relationships.length * 2);
  const degree = new Uint32Array(entities.length);
  relationships.forEach((r, i) => {
    edges[i * 2] = indexOf.get(r.sourceId)!;
    edges[i * 2 + 1] = indexOf.get(r.targetId)!;
    for (const end of [r.sourceId, r.targetId]) {
      const list = links.get(end);
      if (list) list.push(r);
      else links.set(end, [r]);
      degree[indexOf.get(end)!]++;
    }
  });
  const ranked = entities.map((_, i) => i).sort((a, b) => degree[b] - degree[a] || entities[b].mentionCount - entities[a].mentionCount || a - b);
  const communities = detectCommunities(entities.length, edges);
  return {
    entities,
    relationships,
    byId,
    indexOf,
    links,
    edges,
    degree,
    ranked,
    communities,
    communityColours: colourCommunities(communities, edges),
  };
}
