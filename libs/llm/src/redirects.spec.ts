import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { last4Of, type ProviderId } from '#libs/common';
import { ProviderSimulator, type RedirectStatus, simulatorBaseUrls } from '#libs/testing';
import { LlmClientFactory } from './llm-client.factory.js';
import { ProviderUnavailableError } from './llm.errors.js';

/**
 * A provider's base URL that answers with a redirect to another origin: no client follows it (the
 * key's header would go along), and the 3xx is a ProviderUnavailableError naming the status. The
 * other origin answers as the provider would, so a client that followed would succeed: the test
 * fails on a followed redirect, not on a refused connection.
 */
const PROVIDERS: ProviderId[] = ['openai', 'deepseek', 'gemini', 'anthropic'];
const KEY = `sk-redirect-${randomBytes(12).toString('hex')}`;

describe('provider redirects are never followed', () => {
  const simulator = new ProviderSimulator({ validKeys: { openai: [KEY], deepseek: [KEY], gemini: [KEY], anthropic: [KEY] } });
  let factory: LlmClientFactory;
  const client = (provider: ProviderId) => factory.create(provider, KEY, { tenantLabel: 'redirected', keyLast4: last4Of(KEY) });

  beforeAll(async () => {
    factory = new LlmClientFactory({ baseUrls: simulatorBaseUrls(await simulator.start()), timeoutMs: 5_000 });
  });
  afterEach(() => simulator.reset());
  afterAll(() => simulator.stop());

  it.each(PROVIDERS)('%s: the redirect target works, so following would have succeeded', async (provider) => {
    // the control: the same call without a redirect answers
    await expect(client(provider).complete({ system: 'Extract.', user: 'Ada Lovelace met Charles Babbage.' })).resolves.toMatchObject({
      text: expect.any(String),
    });
  });

  const cases: [ProviderId, RedirectStatus][] = PROVIDERS.flatMap((p) =>
    ([301, 302, 307, 308] as RedirectStatus[]).map((s): [ProviderId, RedirectStatus] => [p, s]),
  );
  it.each(cases)('%s: a %i on a completion is ProviderUnavailableError naming it; nothing reaches the other origin', async (provider, status) => {
    simulator.redirectNext(provider, { status, times: 1 });
    const failure = client(provider).complete({ system: 'Extract.', user: 'Ada Lovelace met Charles Babbage.' });
    await expect(failure).rejects.toBeInstanceOf(ProviderUnavailableError);
    await expect(failure).rejects.toThrow(`HTTP ${status} redirect, not followed`);
    expect(simulator.requestsFor(provider)).toHaveLength(1);
    expect(simulator.followedRedirects()).toEqual([]);
  });

  it.each(PROVIDERS)('%s: a redirect during key validation is not followed either', async (provider) => {
    simulator.redirectNext(provider, { status: 307, times: 1 });
    await expect(client(provider).validateKey()).rejects.toThrow('HTTP 307 redirect, not followed');
    expect(simulator.followedRedirects()).toEqual([]);
  });
});
