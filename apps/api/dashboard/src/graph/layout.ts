/**
 * Node positions for the graph view, cheap enough for thousands of nodes:
 * a deterministic seed (one disc per entity type, hubs in the middle), refined by a bounded number
 * of ForceAtlas2 iterations in a Web Worker so the page stays responsive. Same input, same picture.
 */

export interface LayoutInput {
  /** The type of each node, by node index. */
  types: string[];
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

/** One sunflower disc per type (largest type first, discs in rows), each node's place by its degree. */
export function seedLayout(input: LayoutInput): Float64Array {
  const n = input.types.length;
  const positions = new Float64Array(n * 2);
  const degree = degrees(n, input.edges);
  const groups = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const group = groups.get(input.types[i]);
    if (group) group.push(i);
    else groups.set(input.types[i], [i]);
  }
  const ordered = [...groups.entries()].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
  const rowWidth = SPACING * Math.sqrt(n) * 1.6;
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  for (const [, members] of ordered) {
    members.sort((a, b) => degree[b] - degree[a] || a - b);
    const radius = SPACING * 0.6 * Math.sqrt(members.length) + SPACING;
    if (x > 0 && x + 2 * radius > rowWidth) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const cx = x + radius;
    const cy = y + radius;
    members.forEach((node, k) => {
      const r = SPACING * 0.6 * Math.sqrt(k + 0.5);
      positions[node * 2] = cx + r * Math.cos(k * GOLDEN_ANGLE);
      positions[node * 2 + 1] = cy + r * Math.sin(k * GOLDEN_ANGLE);
    });
    x += 2 * radius + SPACING;
    rowHeight = Math.max(rowHeight, 2 * radius + SPACING);
  }
  return positions;
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

/** Isolated nodes (no relationship) in a tidy grid under the rest, grouped by type: they would only drift away in a force layout. */
function placeIsolated(positions: Float64Array, placed: number[], isolated: number[], types: string[], spacing: number): void {
  if (isolated.length === 0) return;
  let minX = 0;
  let maxX = 0;
  let maxY = -spacing;
  if (placed.length > 0) {
    minX = Infinity;
    maxX = -Infinity;
    maxY = -Infinity;
    for (const i of placed) {
      minX = Math.min(minX, positions[i * 2]);
      maxX = Math.max(maxX, positions[i * 2]);
      maxY = Math.max(maxY, positions[i * 2 + 1]);
    }
  }
  const ordered = [...isolated].sort((a, b) => (types[a] < types[b] ? -1 : types[a] > types[b] ? 1 : a - b));
  // wider than high: labels are wider than nodes
  const dx = spacing * 1.6;
  const columns = Math.max(Math.ceil(Math.sqrt(ordered.length * 2)), Math.floor((maxX - minX) / dx) + 1);
  const left = placed.length > 0 ? (minX + maxX) / 2 - ((Math.min(columns, ordered.length) - 1) * dx) / 2 : 0;
  ordered.forEach((node, k) => {
    positions[node * 2] = left + (k % columns) * dx;
    positions[node * 2 + 1] = maxY + spacing * 2 + Math.floor(k / columns) * spacing;
  });
}

/**
 * Positions for the graph: the seed of the connected nodes refined in the layout worker (or the seed
 * alone when the worker cannot run: still deterministic, just less untangled), isolated nodes in a grid.
 */
export async function computeLayout(
  input: LayoutInput,
  signal: AbortSignal,
  budgetMs = 3000,
): Promise<{ positions: Float64Array; refined: boolean }> {
  const n = input.types.length;
  const degree = degrees(n, input.edges);
  const connected: number[] = [];
  const isolated: number[] = [];
  for (let i = 0; i < n; i++) (degree[i] > 0 ? connected : isolated).push(i);
  // the connected part, renumbered 0..m-1
  const local = new Int32Array(n).fill(-1);
  connected.forEach((node, k) => (local[node] = k));
  const edges = new Uint32Array(input.edges.length);
  for (let i = 0; i < input.edges.length; i++) edges[i] = local[input.edges[i]];
  const seed = seedLayout({ types: connected.map((i) => input.types[i]), edges });

  let refined = false;
  let connectedPositions = seed;
  if (connected.length > 1) {
    try {
      connectedPositions = await runWorker(
        { nodeCount: connected.length, edges, positions: seed.slice(), maxIterations: iterationsFor(connected.length), budgetMs },
        signal,
      );
      refined = true;
    } catch (error) {
      if (signal.aborted) throw error;
    }
  }
  const normalized = normalize(connectedPositions, spacingFor(n));
  const positions = new Float64Array(n * 2);
  connected.forEach((node, k) => {
    positions[node * 2] = normalized[k * 2];
    positions[node * 2 + 1] = normalized[k * 2 + 1];
  });
  placeIsolated(positions, connected, isolated, input.types, spacingFor(n));
  return { positions, refined };
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
