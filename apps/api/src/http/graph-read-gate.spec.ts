import { once } from 'node:events';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { AppError } from '#libs/common';
import { graphReadGate } from './graph-read-gate.js';

/** An express app behind the gate whose graph handler answers only when the test says so. */
function gatedApp(maxConcurrent: number) {
  const started: string[] = [];
  const release = new Map<string, () => void>();
  const app = express();
  const gate = graphReadGate(maxConcurrent);
  app.use(gate);
  app.get('/v1/workspaces/:id/graph', (req, res) => {
    const name = req.query.name as string;
    started.push(name);
    release.set(name, () => res.json({ name }));
  });
  app.get('/v1/backfills/:id', (_req, res) => {
    res.json({ status: 'running' });
  });
  return { app, gate, started, release };
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

  it('holds every spelling express serves: another letter case and a trailing slash wait in the same line', async () => {
    const gated = gatedApp(1);
    let base: string;
    ({ server, base } = await listen(gated.app));
    const first = fetch(`${base}/v1/workspaces/w/graph?name=first`);
    await until(() => gated.started.length === 1);
    const upper = fetch(`${base}/V1/WORKSPACES/w/GRAPH/?name=upper`);
    await until(() => gated.gate.waiting() === 1);
    expect(gated.started).toEqual(['first']);
    gated.release.get('first')!();
    await first;
    await until(() => gated.started.length === 2);
    gated.release.get('upper')!();
    expect((await upper).status).toBe(200);
  });

  it('turns graph requests away with 503 SERVICE_BUSY once its line is full, and serves again when it drains', async () => {
    const gated = gatedApp(1);
    gated.app.use((error: AppError, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(503).json({ error: { code: error.code, message: error.message } });
    });
    let base: string;
    ({ server, base } = await listen(gated.app));
    const first = fetch(`${base}/v1/workspaces/w/graph?name=first`);
    await until(() => gated.started.length === 1);
    // 64 may wait behind one slot
    const waiting = Array.from({ length: 64 }, (_, i) => fetch(`${base}/v1/workspaces/w/graph?name=w${i}`));
    await until(() => gated.gate.waiting() === 64);
    const refused = await fetch(`${base}/v1/workspaces/w/graph?name=late`);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('SERVICE_BUSY');

    gated.release.get('first')!();
    await first;
    for (let i = 0; i < 64; i++) {
      await until(() => gated.release.has(`w${i}`));
      gated.release.get(`w${i}`)!();
    }
    expect((await Promise.all(waiting)).map((r) => r.status)).toEqual(Array.from({ length: 64 }, () => 200));
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
