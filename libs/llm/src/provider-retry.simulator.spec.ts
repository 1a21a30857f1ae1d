import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import * as realTimers from 'node:timers/promises';
import type { ProviderId } from '#libs/common';
import type { LlmProvider } from './llm-provider.js';

/**
 * The retry-after wait of withProviderRetry goes through `setTimeout` of node:timers/promises, which
 * Jest's fake timers cannot reach from an ES module. It is replaced by a clock the test drives: every
 * wait is recorded with the delay asked for, and lasts until the test ends it. Nothing here measures
 * time; the modules under test are imported after the replacement, so they see it.
 */
interface Wait {
  ms: number;
  end: () => void;
}
const waits: Wait[] = [];
const waitWatchers: (() => void)[] = [];
/** Calls a test started and did not await to their end: the next test starts once they are over. */
const inFlight: Promise<unknown>[] = [];
function track<T>(call: Promise<T>): Promise<T> {
  inFlight.push(call);
  return call;
}
function controlledSleep(ms?: number): Promise<void> {
  return new Promise<void>((resolve) => {
    waits.push({ ms: ms ?? 0, end: resolve });
    for (const watcher of waitWatchers.splice(0)) watcher();
  });
}
/** Resolves once `count` waits have begun; fails at once if `call` ends before that (it did not wait). */
async function waitsBegun(count: number, call: Promise<unknown>): Promise<Wait[]> {
  let ended = false;
  const callEnded = call.then(
    () => void (ended = true),
    () => void (ended = true),
  );
  while (waits.length < count) {
    await Promise.race([new Promise<void>((resolve) => waitWatchers.push(resolve)), callEnded]);
    if (ended && waits.length < count) throw new Error(`the call ended after ${waits.length} retry-after wait(s), not ${count}`);
  }
  return waits;
}
jest.unstable_mockModule('node:timers/promises', () => ({ ...realTimers, default: realTimers, setTimeout: controlledSleep }));

const { ErrorCode, last4Of } = await import('#libs/common');
const { fingerprintForSimulator, ProviderSimulator, simulatorBaseUrls } = await import('#libs/testing');
const { LlmClientFactory } = await import('./llm-client.factory.js');
const { AuthenticationError, ProviderUnavailableError, RateLimitedError } = await import('./llm.errors.js');
const { withProviderRetry } = await import('./provider-retry.js');

type Provider = 'openai' | 'gemini' | 'anthropic';
const KEYS: Record<Provider, string> = {
  openai: `sk-proj-retry-${randomBytes(16).toString('hex')}`,
  gemini: `AIza-retry-${randomBytes(16).toString('hex')}`,
  anthropic: `sk-ant-api03-retry-${randomBytes(24).toString('hex')}`,
};
const COMPLETION_PATHS: Record<Provider, string> = {
  openai: '/openai/v1/chat/completions',
  gemini: '/gemini/v1beta/models/gemini-2.0-flash:generateContent',
  anthropic: '/anthropic/v1/messages',
};
/** PROVIDER_MAX_ATTEMPTS' default; the base delay is 0 so p-retry's own backoff adds no wait. */
const POLICY = { maxAttempts: 4, baseDelayMs: 0 };
const TEXT = 'Alice Smith from Acme Corp met Bob Jones.';

/**
 * withProviderRetry around real SDK calls (LlmClientFactory) against the provider simulator: every
 * attempt is a real HTTP request, so the simulator's request log counts the attempts.
 */
describe('withProviderRetry through the real SDKs against the provider simulator', () => {
  const simulator = new ProviderSimulator({ validKeys: { openai: [KEYS.openai], gemini: [KEYS.gemini], anthropic: [KEYS.anthropic] } });
  let factory: InstanceType<typeof LlmClientFactory>;

  beforeAll(async () => {
    factory = new LlmClientFactory({ baseUrls: simulatorBaseUrls(await simulator.start()), timeoutMs: 5_000 });
  });
  afterEach(async () => {
    // a test that failed half way leaves its call waiting: end every wait until the calls are over,
    // so none of them sends a request while the next test runs
    waitWatchers.length = 0;
    let over = false;
    void Promise.allSettled(inFlight.splice(0)).then(() => (over = true));
    while (!over) {
      for (const wait of waits.splice(0)) wait.end();
      await new Promise((resolve) => setImmediate(resolve));
    }
    waits.length = 0;
    simulator.reset();
  });
  afterAll(() => simulator.stop());

  const clientFor = (provider: ProviderId, key: string): LlmProvider =>
    factory.create(provider, key, { tenantLabel: 'brennan', keyLast4: last4Of(key) });
  const complete = (llm: LlmProvider) => llm.complete({ system: 'Answer briefly.', user: TEXT });

  describe.each(['openai', 'gemini', 'anthropic'] as const)('%s', (provider) => {
    const key = KEYS[provider];
    const completions = () => simulator.requestsFor(provider).filter((r) => r.path === COMPLETION_PATHS[provider]);

    // (for Anthropic the simulator's 503 is its 529 overloaded_error)
    it('tries again after two 503s and answers on the third request', async () => {
      simulator.failNext(provider, { status: 503, times: 2 });

      const answer = await withProviderRetry(POLICY, () => complete(clientFor(provider, key)));

      expect(answer.text).toContain(TEXT);
      expect(completions().map((r) => r.keyFingerprint)).toEqual([1, 2, 3].map(() => fingerprintForSimulator(key)));
      expect(simulator.requests).toHaveLength(3);
      // p-retry's own backoff is not a retry-after wait: none was asked for
      expect(waits).toEqual([]);
    });

    it.each([4, 2])('gives up after %i attempts (PROVIDER_MAX_ATTEMPTS) with PROVIDER_UNAVAILABLE', async (maxAttempts) => {
      simulator.failNext(provider, { status: 500, times: 10 });

      const error = await withProviderRetry({ ...POLICY, maxAttempts }, () => complete(clientFor(provider, key))).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect(error).toMatchObject({ code: ErrorCode.ProviderUnavailable, provider, retryable: true });
      expect(completions()).toHaveLength(maxAttempts);
      expect(simulator.requests).toHaveLength(maxAttempts);
    });

    it('never retries a refused key: one request, an AuthenticationError', async () => {
      const wrong = `${key}-revoked`;

      const error = await withProviderRetry(POLICY, () => complete(clientFor(provider, wrong))).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(AuthenticationError);
      expect(error).toMatchObject({ code: ErrorCode.InvalidApiKey, provider, retryable: false });
      expect(simulator.requests.map((r) => r.keyFingerprint)).toEqual([fingerprintForSimulator(wrong)]);
    });

    it('never retries a 401 from the provider, though the very next request would succeed', async () => {
      simulator.failNext(provider, { status: 401 });

      await expect(withProviderRetry(POLICY, () => complete(clientFor(provider, key)))).rejects.toBeInstanceOf(AuthenticationError);

      expect(simulator.requests).toHaveLength(1);
      // the provider would have answered the next request: only the policy stopped it
      await expect(complete(clientFor(provider, key))).resolves.toMatchObject({ text: expect.stringContaining(TEXT) });
    });

    it("waits out a 429's retry-after before the next request, and sends none while it waits", async () => {
      simulator.failNext(provider, { status: 429, retryAfterSeconds: 30 });

      const call = track(withProviderRetry(POLICY, () => complete(clientFor(provider, key))));
      const [wait] = await waitsBegun(1, call);

      // the provider asked for 30 s; that is what the call waits before trying again
      expect(wait.ms).toBe(30_000);
      expect(simulator.requests).toHaveLength(1);
      // the wait has not ended: however long the event loop turns, no second request goes out
      for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
      expect(simulator.requests).toHaveLength(1);

      wait.end();
      await expect(call).resolves.toMatchObject({ text: expect.stringContaining(TEXT) });
      expect(simulator.requests).toHaveLength(2);
    });

    it('caps a retry-after longer than maxDelayMs at maxDelayMs', async () => {
      simulator.failNext(provider, { status: 429, retryAfterSeconds: 3600 });

      const call = track(withProviderRetry({ ...POLICY, maxDelayMs: 60_000 }, () => complete(clientFor(provider, key))));
      const [wait] = await waitsBegun(1, call);

      expect(wait.ms).toBe(60_000);
      expect(simulator.requests).toHaveLength(1);
      wait.end();
      await expect(call).resolves.toMatchObject({ text: expect.stringContaining(TEXT) });
      expect(simulator.requests).toHaveLength(2);
    });

    it('waits out each retry-after in turn, and ends with RATE_LIMITED once the patience is used up', async () => {
      // 429s do not spend the attempts: the patience (time waited on them) ends the call
      simulator.failNext(provider, { status: 429, times: 3, retryAfterSeconds: 2 });

      const call = track(
        withProviderRetry({ ...POLICY, maxAttempts: 10, rateLimitPatienceMs: 4_000 }, () => complete(clientFor(provider, key))).catch(
          (e: unknown) => e,
        ),
      );
      for (let n = 1; n <= 2; n++) {
        const begun = await waitsBegun(n, call);
        expect(simulator.requests).toHaveLength(n);
        begun[n - 1].end();
      }
      const error = await call;

      expect(error).toBeInstanceOf(RateLimitedError);
      expect(error).toMatchObject({ code: ErrorCode.RateLimited, retryAfterMs: 2_000 });
      expect(simulator.requests).toHaveLength(3);
      // two waits of 2 s fill the 4 s of patience; the third 429 would pass it: no wait after it
      expect(waits.map((w) => w.ms)).toEqual([2_000, 2_000]);
    });

    it('retries a 429 without retry-after at once, without any retry-after wait', async () => {
      simulator.failNext(provider, { status: 429, retryAfterSeconds: null });

      await expect(withProviderRetry(POLICY, () => complete(clientFor(provider, key)))).resolves.toMatchObject({
        text: expect.stringContaining(TEXT),
      });

      expect(simulator.requests).toHaveLength(2);
      expect(waits).toEqual([]);
    });
  });
});
