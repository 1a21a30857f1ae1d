/**
 * Caps how many tasks run at once, across every caller that shares it (a backfill's pages share one,
 * so the next page's calls start while the current page's last ones finish). After the first
 * failure no new task starts: queued ones reject with that same error.
 */
export class ConcurrencyLimiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private firstFailure: { error: unknown } | undefined;

  constructor(private readonly limit: number) {}

  get failure(): unknown {
    return this.firstFailure?.error;
  }

  get failed(): boolean {
    return this.firstFailure !== undefined;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    while (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.firstFailure) {
      this.waiting.shift()?.();
      throw this.firstFailure.error;
    }
    this.active++;
    try {
      return await task();
    } catch (error) {
      this.firstFailure ??= { error };
      throw error;
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
