import pLimit from 'p-limit';

/** What a task that was still queued when the pool drained resolves to: it never ran. */
export const NOT_STARTED: unique symbol = Symbol('not-started');

/**
 * A p-limit pool shared by every page of a backfill (so the next page's calls start while the
 * current page's last ones finish) that stops at the first failure: tasks that have not started by
 * then reject with that same error instead of spending more provider calls. It can also be drained
 * (shutdown, or a slot given to a waiting tenant): queued tasks resolve to NOT_STARTED and only
 * those running finish. Tasks start in the order they were queued (p-limit's queue is FIFO), so the
 * tasks that ran are always a prefix of those queued: a page's records that ran end at a checkpoint.
 */
export class FailFastPool {
  private readonly limit: ReturnType<typeof pLimit>;
  private firstFailure: { error: unknown } | undefined;
  private drained = false;

  /** `concurrency`: tasks in flight at most. */
  constructor(concurrency: number) {
    this.limit = pLimit(concurrency);
  }

  get failure(): { error: unknown } | undefined {
    return this.firstFailure;
  }

  get draining(): boolean {
    return this.drained;
  }

  /** Tasks that have not started reject with `error` from now on; those running finish. */
  stop(error: unknown): void {
    this.firstFailure ??= { error };
  }

  /** Tasks that have not started resolve to NOT_STARTED from now on; those running finish. */
  drain(): void {
    this.drained = true;
  }

  run<T>(task: () => Promise<T>): Promise<T | typeof NOT_STARTED> {
    return this.limit(async () => {
      if (this.firstFailure) throw this.firstFailure.error;
      if (this.drained) return NOT_STARTED;
      try {
        return await task();
      } catch (error) {
        this.firstFailure ??= { error };
        throw error;
      }
    });
  }
}
