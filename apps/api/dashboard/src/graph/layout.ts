/**
 * Node positions for the graph view, cheap enough for thousands of nodes:
 * a deterministic seed (one disc per community, hubs in the middle; nodes without edges on a disc
 * over the whole), refined by a bounded number of ForceAtlas2 iterations in a Web Worker so the page
 * stays responsive. Every node goes through the layout, so a node without edges ends up near the
 * graph (gravity holds it), never in a block of its own. Same input, same picture.
 */

export interface LayoutInput {
  /** The group of each node, by node index (its community): a group's nodes start out together. */
  groups: ArrayLike<number>;
  /** Edges as pairs of node indexes. */
  edges: Uint32Array;
}

export interface LayoutRequest {
  nodeCount: number;
  edges: Uint32Array;
  /** x0, y0, x1, y1, ...: the seed positions. */
  positions: Float64Array;
  maxIterations: number;
  budgetMs: number;
}

export interface LayoutReply {
  positions: Float64Array;
  iterations: number;
}

/** Average distance wanted between neighbouring nodes, in model units (node sizes are 10 to 36). */
export const SPACING = 42;
const GOLDEN_ANGLE = Math.PI * (3 - Math.sqrt(5));

export function degrees(nodeCount: number, edges: Uint32Array): Uint32Array {
  const degree = new Uint32Array(nodeCount);
  for (let i = 0; i < edges.length; i++) degree[edges[i]]++;
  return degree;
}

/**
 * One sunflower disc per group (largest group first, discs in rows), each node's place in it by its
 * degree; nodes without edges on one sunflower disc centred on the rest, spread among them.
 */
export function seedLayout(input: LayoutInput): Float64Array {
  const n = input.groups.length;
  const positions = new Float64Array(n * 2);
  const degree = degrees(n, input.edges);
  const groups = new Map<number, number[]>();
  const isolated: number[] = [];
  for (let i = 0; i < n; i++) {
    if (degree[i] === 0) {
      isolated.push(i);
      continue;
    }
    const group = groups.get(input.groups[i]);
    if (group) group.push(i);
    else groups.set(input.groups[i], [i]);
  }
  const ordered = [...groups.entries()].sort((a, b) => b[1].length - a[1].length || a[0] - b[0]);
  const rowWidth = SPACING * Math.sqrt(n) * 1.6;
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  let right = 0;
  for (const [, members] of ordered) {
    members.sort((a, b) => degree[b] - degree[a] || a - b);
    const radius = SPACING * 0.6 * Math.sqrt(members.length) + SPACING;
    if (x > 0 && x + 2 * radius > rowWidth) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    sunflower(positions, members, x + radius, y + radius, SPACING * 0.6);
    x += 2 * radius + SPACING;
    right = Math.max(right, x);
    rowHeight = Math.max(rowHeight, 2 * radius + SPACING);
  }
  const bottom = y + rowHeight;
  // over the groups, not beside them: ForceAtlas2 then pushes them out to the rim, where gravity holds them
  const step = isolated.length > 0 ? Math.max(SPACING * 0.6, Math.max(right, bottom) / 2 / Math.sqrt(isolated.length)) : 0;
  sunflower(positions, isolated, right / 2, bottom / 2, step);
  // centred on the origin, where ForceAtlas2's gravity pulls: off it, the whole drifts one way and the
  // nodes without edges gather on the far side
  for (let i = 0; i < n; i++) {
    positions[i * 2] -= right / 2;
    positions[i * 2 + 1] -= bottom / 2;
  }
  return positions;
}

/** Nodes on a sunflower (Vogel's spiral) around (cx, cy): the k-th at radius step * sqrt(k + 0.5). */
function sunflower(positions: Float64Array, nodes: number[], cx: number, cy: number, step: number): void {
  nodes.forEach((node, k) => {
    const r = step * Math.sqrt(k + 0.5);
    positions[node * 2] = cx + r * Math.cos(k * GOLDEN_ANGLE);
    positions[node * 2 + 1] = cy + r * Math.sin(k * GOLDEN_ANGLE);
  });
}

/** Node spacing for a graph of n nodes: small graphs get room for their labels. */
export function spacingFor(n: number): number {
  return n <= 150 ? SPACING * 1.8 : SPACING;
}

/**
 * Centres the positions on 0 and scales them so that a typical node's nearest neighbour is
 * `spacing` away (the median over a deterministic sample), whatever outliers the layout left.
 */
export function normalize(positions: Float64Array, spacing = SPACING): Float64Array {
  const n = positions.length / 2;
  const out = new Float64Array(positions.length);
  if (n === 0) return out;
  let sumX = 0;
  let sumY = 0;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(positions[i * 2]) || !Number.isFinite(positions[i * 2 + 1])) {
      positions[i * 2] = 0;
      positions[i * 2 + 1] = 0;
    }
    sumX += positions[i * 2];
    sumY += positions[i * 2 + 1];
  }
  const cx = sumX / n;
  const cy = sumY / n;
  let scale = 1;
  if (n > 1) {
    const step = Math.max(1, Math.floor(n / 300));
    const nearest: number[] = [];
    for (let i = 0; i < n; i += step) {
      let best = Infinity;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const d = Math.hypot(positions[i * 2] - positions[j * 2], positions[i * 2 + 1] - positions[j * 2 + 1]);
        if (d > 1e-9 && d < best) best = d;
      }
      if (Number.isFinite(best)) nearest.push(best);
    }
    nearest.sort((a, b) => a - b);
    const median = nearest[Math.floor(nearest.length / 2)];
    if (median) scale = spacing / median;
  }
  for (let i = 0; i < n; i++) {
    out[i * 2] = (positions[i * 2] - cx) * scale;
    out[i * 2 + 1] = (positions[i * 2 + 1] - cy) * scale;
  }
  return out;
}

/** Fewer iterations for bigger graphs: the time stays bounded (Barnes-Hut is O(n log n) per iteration). */
export function iterationsFor(nodeCount: number): number {
  if (nodeCount <= 300) return 400;
  if (nodeCount <= 1500) return 200;
  return 120;
}

/**
 * Positions for the graph: the seed of every node refined in the layout worker (or the seed alone when
 * the worker cannot run: still deterministic, just less untangled), centred and scaled (normalize).
 */
export async function computeLayout(
  input: LayoutInput,
  signal: AbortSignal,
  budgetMs = 3000,
): Promise<{ positions: Float64Array; refined: boolean }> {
  const n = input.groups.length;
  const seed = seedLayout(input);
  let refined = false;
  let positions = seed;
  if (n > 1) {
    try {
      positions = await runWorker({ nodeCount: n, edges: input.edges, positions: seed.slice(), maxIterations: iterationsFor(n), budgetMs }, signal);
      refined = true;
    } catch (error) {
      if (signal.aborted) throw error;
    }
  }
  return { positions: normalize(positions, spacingFor(n)), refined };
}

async function runWorker(request: LayoutRequest, signal: AbortSignal): Promise<Float64Array> {
  const worker = new Worker(new URL(__LAYOUT_WORKER_FILE__, import.meta.url), { type: 'module', name: 'graph-layout' });
  try {
    const reply = await new Promise<LayoutReply>((resolve, reject) => {
      const abort = () => reject(new DOMException('Layout aborted', 'AbortError'));
      if (signal.aborted) return abort();
      signal.addEventListener('abort', abort, { once: true });
      worker.onmessage = (event: MessageEvent<LayoutReply>) => resolve(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(event.message || 'layout worker failed'));
      };
      worker.postMessage(request);
    });
    return reply.positions;
  } finally {
    worker.terminate();
  }
}
