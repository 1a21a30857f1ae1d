/**
 * Polls `probe` until it returns something truthy and resolves to that (every `intervalMs`, default
 * 50 ms); past `timeoutMs` (default 20,000 ms) it throws "Gave up waiting for <what>". For tests
 * that wait on another process (a worker, a webhook receiver) without a timed assertion.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T> | T,
  { timeoutMs = 20_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
