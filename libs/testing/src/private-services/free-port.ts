import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that nothing listened on a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('No free port'))));
    });
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
