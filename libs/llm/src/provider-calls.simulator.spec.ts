import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ProviderSimulator, simulatorBaseUrls } from '#libs/testing';
import { LlmClientFactory } from './llm-client.factory.js';
import { AuthenticationError, RateLimitedError } from './llm.errors.js';
import type { ProviderCall } from './provider-calls.js';

const KEY = `sk-${randomBytes(20).toString('hex')}`;
const context = { tenantLabel: 'observed', keyLast4: KEY.slice(-4) };

describe('LlmClientFactory with a call observer (against the provider simulator)', () => {
  const simulator = new ProviderSimulator({ validKeys: { openai: [KEY] } });
  const calls: ProviderCall[] = [];
  let factory: LlmClientFactory;

  beforeAll(async () => {
    const urls = await simulator.start();
    factory = new LlmClientFactory({ baseUrls: simulatorBaseUrls(urls), timeoutMs: 5_000, observer: (call) => calls.push(call) });
  });
  afterAll(() => simulator.stop());

  it('reports every call with its operation, outcome and duration, and passes answers and errors through', async () => {
    const llm = factory.create('openai', KEY, context);
    await llm.validateKey();
    const answer = await llm.complete({ system: 'Extract.', user: 'Alice met Bob.' });
    simulator.failNext('openai', { status: 429, retryAfterSeconds: 0 });
    const limited = await llm.complete({ system: 'Extract.', user: 'Alice met Bob.' }).catch((error: unknown) => error);
    const refused = await factory
      .create('openai', `sk-${randomBytes(20).toString('hex')}`, context)
      .validateKey()
      .catch((error: unknown) => error);

    expect(answer.text.length).toBeGreaterThan(0);
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect(refused).toBeInstanceOf(AuthenticationError);
    expect(calls.map(({ provider, operation, outcome }) => [provider, operation, outcome])).toEqual([
      ['openai', 'validate_key', 'ok'],
      ['openai', 'complete', 'ok'],
      ['openai', 'complete', 'rate_limited'],
      ['openai', 'validate_key', 'auth_failed'],
    ]);
    // one report per request the provider received, each timed
    expect(calls).toHaveLength(simulator.requests.length);
    expect(calls.every((call) => call.seconds > 0 && call.seconds < 5)).toBe(true);
    // nothing of the key travels with a report
    expect(JSON.stringify(calls)).not.toContain(KEY.slice(3, 15));
  });

  it('keeps an observer that throws from failing the call', async () => {
    const throwing = new LlmClientFactory({
      baseUrls: simulatorBaseUrls(simulator.urls),
      timeoutMs: 5_000,
      observer: () => {
        throw new Error('observer broke');
      },
    });
    await expect(throwing.create('openai', KEY, context).validateKey()).resolves.toBeUndefined();
  });
});
