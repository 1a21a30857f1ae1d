import { describe, expect, it } from '@jest/globals';
import { AuthenticationError, ProviderRequestError, ProviderUnavailableError, RateLimitedError } from './llm.errors.js';
import { withProviderRetry } from './provider-retry.js';

const policy = { maxAttempts: 4, baseDelayMs: 0 };

/** A call that fails with the given errors in turn, then answers 'ok'; it counts its attempts. */
function flaky(...failures: Error[]) {
  const call = { attempts: 0, run: () => Promise.resolve('') };
  call.run = () => {
    const failure = failures[call.attempts++];
    return failure ? Promise.reject(failure) : Promise.resolve('ok');
  };
  return call;
}

describe(withProviderRetry.name, () => {
  it('tries a 5xx or a 429 again until it answers', async () => {
    const call = flaky(new ProviderUnavailableError('openai', 'HTTP 503'), new RateLimitedError('openai', 'rate limited', undefined));
    await expect(withProviderRetry(policy, call.run)).resolves.toBe('ok');
    expect(call.attempts).toBe(3);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const last = new ProviderUnavailableError('openai', 'HTTP 500 (4)');
    const call = flaky(...[1, 2, 3].map((n) => new ProviderUnavailableError('openai', `HTTP 500 (${n})`)), last, new Error('never reached'));
    await expect(withProviderRetry(policy, call.run)).rejects.toBe(last);
    expect(call.attempts).toBe(4);
  });

  it.each([
    ['an authentication failure', new AuthenticationError('openai', 'refused')],
    ['a request the provider refuses for good', new ProviderRequestError('openai', 'HTTP 400')],
    ['an untyped error', new TypeError('boom')],
  ])('never retries %s', async (_, error) => {
    const call = flaky(error);
    await expect(withProviderRetry(policy, call.run)).rejects.toBe(error);
    expect(call.attempts).toBe(1);
  });

  it('waits out a retry-after, capped by maxDelayMs', async () => {
    // a provider asking for a minute is waited at most maxDelayMs: the test would time out otherwise
    const call = flaky(new RateLimitedError('openai', 'rate limited', 60_000));
    await expect(withProviderRetry({ ...policy, maxDelayMs: 5 }, call.run)).resolves.toBe('ok');
    expect(call.attempts).toBe(2);
  });

  it('does not wait a retry-after when no attempt is left', async () => {
    const error = new RateLimitedError('openai', 'rate limited', 60_000);
    const call = flaky(error);
    await expect(withProviderRetry({ maxAttempts: 1, baseDelayMs: 0 }, call.run)).rejects.toBe(error);
  });
});
