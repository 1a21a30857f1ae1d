/** Refines seed positions with ForceAtlas2 for a bounded number of iterations and a time budget. */
import Graph from 'graphology';
import forceAtlas2 from 'graphology-layout-forceatlas2';
import type { LayoutReply, LayoutRequest } from './layout.js';

// typed by hand: the webworker lib clashes with the DOM lib the rest of the dashboard needs
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<LayoutRequest>) => void) | null;
  postMessage(message: LayoutReply, transfer: Transferable[]): void;
};
const CHUNK = 10;

scope.onmessage = (event: MessageEvent<LayoutRequest>) => {
  const { nodeCount, edges, positions, maxIterations, budgetMs } = event.data;
  const graph = new Graph<{ x: number; y: number }>({ type: 'undirected', multi: false, allowSelfLoops: false });
  for (let i = 0; i < nodeCount; i++) graph.addNode(i, { x: positions[i * 2], y: positions[i * 2 + 1] });
  for (let i = 0; i + 1 < edges.length; i += 2) {
    const a = edges[i];
    const b = edges[i + 1];
    if (a !== b && !graph.hasEdge(a, b)) graph.addEdge(a, b);
  }
  const settings = {
    ...forceAtlas2.inferSettings(graph),
    // ForceAtlas2's strong gravity at 1, not the inferred 0.05: hubs repel by the square of their degree, so
    // at 0.05 communities drift far apart and a thousand nodes fit the screen only as specks (half the spread)
    strongGravityMode: true,
    gravity: 1,
    barnesHutOptimize: nodeCount > 400,
    adjustSizes: false,
    linLogMode: false,
  };
  const started = performance.now();
  let iterations = 0;
  while (iterations < maxIterations && performance.now() - started < budgetMs) {
    forceAtlas2.assign(graph, { iterations: CHUNK, settings });
    iterations += CHUNK;
  }
  const out = new Float64Array(nodeCount * 2);
  graph.forEachNode((node, attributes) => {
    const i = Number(node);
    out[i * 2] = attributes.x;
    out[i * 2 + 1] = attributes.y;
  });
  const reply: LayoutReply = { positions: out, iterations };
  scope.postMessage(reply, [out.buffer]);
};
