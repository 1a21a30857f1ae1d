import { describe, expect, it } from '@jest/globals';
import { RateLimitedError } from './llm.errors.js';
import { RateLimitPause, withProviderRetry } from './provider-retry.js';

const limited = (retryAfterMs?: number) => new RateLimitedError('openai', 'rate limited', retryAfterMs);

describe(RateLimitPause.name, () => {
  it('holds every call that shares it until the retry-after of any one of them', async () => {
    const policy = { maxAttempts: 4, baseDelayMs: 0 };
    const pause = new RateLimitPause(policy);
    const order: string[] = [];
    // the first call is refused once; the second starts while the pause is in force and must wait for it
    let refused = false;
    const first = withProviderRetry(
      policy,
      () => {
        if (!refused) {
          refused = true;
          return Promise.reject(limited(50));
        }
        order.push('first');
        return Promise.resolve();
      },
      pause,
    );
    await new Promise((resolve) => setImmediate(resolve));
    const second = withProviderRetry(
      policy,
      () => {
        order.push('second');
        return Promise.resolve();
      },
      pause,
    );
    // the pause (50 ms) is in force: the second call has not gone through, although nothing refused it
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([]);
    await Promise.all([first, second]);
    expect(order.sort()).toEqual(['first', 'second']);
  });

  it('does not spend the tries on 429s: many refusals in a row still end in success', async () => {
    let calls = 0;
    const result = await withProviderRetry({ maxAttempts: 2, baseDelayMs: 0, rateLimitPatienceMs: 60_000 }, () =>
      ++calls <= 10 ? Promise.reject(limited(0)) : Promise.resolve('ok'),
    );
    expect(result).toBe('ok');
    expect(calls).toBe(11);
  });

  it('ends with RATE_LIMITED once the provider refuses for longer than the patience', async () => {
    let calls = 0;
    const attempt = withProviderRetry({ maxAttempts: 2, baseDelayMs: 0, rateLimitPatienceMs: 30 }, () => {
      calls++;
      return Promise.reject(limited(10));
    });
    await expect(attempt).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    // 10 ms pauses inside a 30 ms patience: a handful of tries, never an endless loop
    expect(calls).toBeGreaterThan(1);
    expect(calls).toBeLessThan(20);
  });
});
