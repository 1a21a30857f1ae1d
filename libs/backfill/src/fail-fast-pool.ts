import pLimit from 'p-limit';

/**
 * A p-limit pool shared by every page of a backfill (so the next page's calls start while the
 * current page's last ones finish) that stops at the first failure: tasks that have not started by
 * then reject with that same error instead of spending more provider calls.
 */
export class FailFastPool {
  private readonly limit: ReturnType<typeof pLimit>;
  private firstFailure: { error: unknown } | undefined;

  /** `concurrency`: tasks in flight at most. */
  constructor(concurrency: number) {
    this.limit = pLimit(concurrency);
  }

  get failure(): { error: unknown } | undefined {
    return this.firstFailure;
  }

  /** Tasks that have not started reject with `error` from now on; those running finish. */
  stop(error: unknown): void {
    this.firstFailure ??= { error };
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    return this.limit(async () => {
      if (this.firstFailure) throw this.firstFailure.error;
      try {
        return await task();
      } catch (error) {
        this.firstFailure ??= { error };
        throw error;
      }
    });
  }
}
