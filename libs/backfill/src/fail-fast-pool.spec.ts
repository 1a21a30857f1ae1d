import { describe, expect, it } from '@jest/globals';
import { FailFastPool, NOT_STARTED } from './fail-fast-pool.js';

/** A task that stays pending until the test settles it. */
function gate<T>() {
  let open!: (value: T) => void;
  let fail!: (error: unknown) => void;
  const promise = new Promise<T>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

describe(FailFastPool.name, () => {
  it('runs at most `concurrency` tasks at once, across every caller', async () => {
    const pool = new FailFastPool(2);
    const gates = [gate<number>(), gate<number>(), gate<number>()];
    const started: number[] = [];
    const results = gates.map((g, i) =>
      pool.run(() => {
        started.push(i);
        return g.promise;
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1]);

    gates[0].open(0);
    await results[0];
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1, 2]);
    gates[1].open(1);
    gates[2].open(2);
    await expect(Promise.all(results)).resolves.toEqual([0, 1, 2]);
    expect(pool.failure).toBeUndefined();
  });

  it('starts nothing after the first failure: queued tasks reject with that same error', async () => {
    const pool = new FailFastPool(1);
    const refused = new Error('401 from the provider');
    const first = gate<string>();
    let laterStarted = 0;
    const running = pool.run(() => first.promise);
    const queued = [1, 2, 3].map(() =>
      pool.run(() => {
        laterStarted++;
        return Promise.resolve('late');
      }),
    );

    first.fail(refused);
    await expect(running).rejects.toBe(refused);
    for (const task of queued) await expect(task).rejects.toBe(refused);
    expect(laterStarted).toBe(0);
    expect(pool.failure).toEqual({ error: refused });
  });
});

describe(`${FailFastPool.name} drained`, () => {
  it('lets running tasks finish and resolves the queued ones, a suffix in queue order, to NOT_STARTED', async () => {
    const pool = new FailFastPool(2);
    const gates = [gate<number>(), gate<number>(), gate<number>(), gate<number>()];
    const started: number[] = [];
    const results = gates.map((g, i) =>
      pool.run(() => {
        started.push(i);
        return g.promise;
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));

    pool.drain();
    gates[0].open(0);
    gates[1].open(1);
    await expect(Promise.all(results)).resolves.toEqual([0, 1, NOT_STARTED, NOT_STARTED]);
    expect(started).toEqual([0, 1]);
    expect(pool.draining).toBe(true);
    expect(pool.failure).toBeUndefined();
  });

  it('still fails fast: a failure after the drain rejects what has not started', async () => {
    const pool = new FailFastPool(1);
    const refused = new Error('429 from the provider');
    const first = gate<string>();
    const running = pool.run(() => first.promise);
    const queued = pool.run(() => Promise.resolve('late'));
    await new Promise((resolve) => setImmediate(resolve));
    pool.drain();
    first.fail(refused);
    const settled = await Promise.allSettled([running, queued]);
    expect(settled).toEqual([
      { status: 'rejected', reason: refused },
      { status: 'rejected', reason: refused },
    ]);
  });
});
