/**
 * Communities of the graph view: Louvain modularity clustering (graphology-communities-louvain) with a
 * seeded random source, so the same graph always gets the same communities and the same colours.
 */
import Graph from 'graphology';
import louvain from 'graphology-communities-louvain';

export interface Communities {
  /** The community of each node, by node index: 0 is the largest community, 1 the next, and so on. */
  of: Int32Array;
  /** The number of nodes in each community, largest first. */
  sizes: number[];
}

/** Colours of the largest communities, in order (Tableau 10 and two more: distinct for most colour vision). */
const COMMUNITY_COLOURS = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#59a14f',
  '#b07aa1',
  '#76b7b2',
  '#edc948',
  '#ff9da7',
  '#9c755f',
  '#17becf',
  '#8c6d31',
  '#393b79',
];
/** Nodes alone (a community of one) share one neutral colour. */
export const OTHER_COMMUNITY_COLOUR = '#9ca3af';
/** How many communities get a colour no other has; smaller ones reuse the colours in turn (they lie apart on the canvas). */
export const COLOURED_COMMUNITIES = COMMUNITY_COLOURS.length;

/** Mulberry32: a small deterministic PRNG, so Louvain's node order is the same on every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Louvain communities of a graph of `nodeCount` nodes and `edges` (pairs of node indexes; self-loops
 * and repeats ignored). A node without edges is a community of its own. Renumbered largest first (ties:
 * the community holding the lower node index first), so the numbering does not depend on Louvain's.
 */
export function detectCommunities(nodeCount: number, edges: Uint32Array, seed = 19): Communities {
  const graph = new Graph({ type: 'undirected', multi: false, allowSelfLoops: false });
  for (let i = 0; i < nodeCount; i++) graph.addNode(i);
  for (let i = 0; i + 1 < edges.length; i += 2) {
    const a = edges[i];
    const b = edges[i + 1];
    if (a !== b && !graph.hasEdge(a, b)) graph.addEdge(a, b);
  }
  const raw = new Int32Array(nodeCount);
  if (graph.size > 0) {
    const mapping = louvain(graph, { rng: seededRandom(seed), randomWalk: false });
    for (let i = 0; i < nodeCount; i++) raw[i] = mapping[i];
  } else {
    for (let i = 0; i < nodeCount; i++) raw[i] = i;
  }
  const members = new Map<number, { first: number; size: number }>();
  for (let i = 0; i < nodeCount; i++) {
    const entry = members.get(raw[i]);
    if (entry) entry.size++;
    else members.set(raw[i], { first: i, size: 1 });
  }
  const order = [...members.entries()].sort((a, b) => b[1].size - a[1].size || a[1].first - b[1].first);
  const renumber = new Map(order.map(([id], k) => [id, k]));
  const of = new Int32Array(nodeCount);
  for (let i = 0; i < nodeCount; i++) of[i] = renumber.get(raw[i])!;
  return { of, sizes: order.map(([, entry]) => entry.size) };
}

/**
 * A colour for each community, largest first: the palette's least used colour that no linked community
 * (one with a relationship between the two) already has, so communities side by side differ and the
 * largest twelve differ from each other; grey for a node alone.
 */
export function colourCommunities(communities: Communities, edges: Uint32Array): string[] {
  const { of, sizes } = communities;
  const linked = sizes.map(() => new Set<number>());
  for (let i = 0; i + 1 < edges.length; i += 2) {
    const a = of[edges[i]];
    const b = of[edges[i + 1]];
    if (a !== b) {
      linked[a].add(b);
      linked[b].add(a);
    }
  }
  const colours: string[] = [];
  const uses = new Array<number>(COMMUNITY_COLOURS.length).fill(0);
  sizes.forEach((size, c) => {
    if (size === 1) {
      colours.push(OTHER_COMMUNITY_COLOUR);
      return;
    }
    const taken = new Set([...linked[c]].filter((other) => other < c).map((other) => colours[other]));
    // the least used colour no linked community has (else the least used): all of them in turn, neighbours apart
    const free = COMMUNITY_COLOURS.map((_, k) => k).filter((k) => !taken.has(COMMUNITY_COLOURS[k]));
    const candidates = free.length > 0 ? free : COMMUNITY_COLOURS.map((_, k) => k);
    const pick = candidates.reduce((best, k) => (uses[k] < uses[best] ? k : best));
    uses[pick]++;
    colours.push(COMMUNITY_COLOURS[pick]);
  });
  return colours;
}
