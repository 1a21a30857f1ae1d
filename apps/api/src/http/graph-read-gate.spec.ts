import { once } from 'node:events';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { graphReadGate } from './graph-read-gate.js';

/** An express app behind the gate whose graph handler answers only when the test says so. */
function gatedApp(maxConcurrent: number) {
  const started: string[] = [];
  const release = new Map<string, () => void>();
  const app = express();
  app.use(graphReadGate(maxConcurrent));
  app.get('/v1/workspaces/:id/graph', (req, res) => {
    const name = req.query.name as string;
    started.push(name);
    release.set(name, () => res.json({ name }));
  });
  app.get('/v1/backfills/:id', (_req, res) => {
    res.json({ status: 'running' });
  });
  return { app, started, release };
}

async function listen(app: express.Express): Promise<{ server: Server; base: string }> {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('graphReadGate', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('works on at most N graph requests at once, in arrival order, while other routes pass', async () => {
    const gated = gatedApp(1);
    let base: string;
    ({ server, base } = await listen(gated.app));
    const first = fetch(`${base}/v1/workspaces/w/graph?name=first`);
    await until(() => gated.started.length === 1);
    const second = fetch(`${base}/v1/workspaces/w/graph?name=second`);
    const third = fetch(`${base}/v1/workspaces/w/graph/entities/e?name=third`).catch(() => undefined);

    // a job-status read is not in the graph line
    const status = await fetch(`${base}/v1/backfills/b`);
    expect(await status.json()).toEqual({ status: 'running' });
    expect(gated.started).toEqual(['first']);

    gated.release.get('first')!();
    expect(await (await first).json()).toEqual({ name: 'first' });
    await until(() => gated.started.length === 2);
    expect(gated.started).toEqual(['first', 'second']);
    gated.release.get('second')!();
    expect((await second).status).toBe(200);
    // the entity route is a graph read too: it waited its turn and got a 404 from this small app
    expect((await third)?.status).toBe(404);
  });

  it('drops a waiting request whose client went away, and its turn passes to the next', async () => {
    const gated = gatedApp(1);
    let base: string;
    ({ server, base } = await listen(gated.app));
    const first = fetch(`${base}/v1/workspaces/w/graph?name=first`);
    await until(() => gated.started.length === 1);

    const leaving = httpRequest(`${base}/v1/workspaces/w/graph?name=leaving`);
    leaving.on('error', () => undefined);
    leaving.end();
    await once(leaving, 'socket');
    await new Promise((resolve) => setTimeout(resolve, 50));
    leaving.destroy();
    const last = fetch(`${base}/v1/workspaces/w/graph?name=last`);
    await new Promise((resolve) => setTimeout(resolve, 50));

    gated.release.get('first')!();
    await first;
    await until(() => gated.started.length === 2);
    expect(gated.started).toEqual(['first', 'last']);
    gated.release.get('last')!();
    expect((await last).status).toBe(200);
  });
});
