import { createServer } from 'node:net';

// Below Linux's ephemeral range (32768+), where listen(0) of other processes lands: a port another
// test's private server released while stopped is never handed to this one
const FIRST_PORT = 20_000;
const PORTS = 10_000;

/** A TCP port of 127.0.0.1 that nothing listens on now, picked at random below the ephemeral range. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = FIRST_PORT + Math.floor(Math.random() * PORTS);
    if (await canListen(port)) return port;
  }
  throw new Error('No free port found');
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * Resolves once `probe` answers true (a probe that throws counts as not yet), polling every 50 ms.
 * @throws `what` after `timeoutMs`, or at once with the reason `gaveUp` returns (e.g. the server exited)
 */
export async function waitFor(what: string, probe: () => Promise<boolean>, gaveUp: () => string | undefined, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    const reason = gaveUp();
    if (reason) throw new Error(`${what}: ${reason}`);
    if (Date.now() > deadline) throw new Error(`${what} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Live private services of this process, killed on exit should a test forget (or fail before) its cleanup. */
const live = new Set<{ killNow(): void }>();
let exitHookInstalled = false;

export function trackLive(service: { killNow(): void }): void {
  live.add(service);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const s of live) s.killNow();
  });
}

export function untrackLive(service: { killNow(): void }): void {
  live.delete(service);
}
