import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { last4Of, type PublicProvider } from '#libs/common';
import { fingerprintForSimulator, ProviderSimulator, simulatorBaseUrls } from '#libs/testing';
import { KeyValidator } from './key-validator.js';
import { LlmClientFactory } from './llm-client.factory.js';
import { ModelNotAvailableError, ProviderUnavailableError, RateLimitedError } from './llm.errors.js';

const GOOD: Record<PublicProvider, string> = {
  openai: `sk-proj-${randomBytes(20).toString('hex')}`,
  gemini: `AIza${randomBytes(20).toString('hex')}`,
  deepseek: `sk-${randomBytes(16).toString('hex')}`,
  anthropic: `sk-ant-api03-${randomBytes(40).toString('hex')}`,
};
const context = (key: string) => ({ tenantLabel: 'brennan', keyLast4: last4Of(key) });
/** Any stable identifier works; the product passes its HMAC fingerprint. */
const fp = (key: string) => `fp-${fingerprintForSimulator(key).slice(0, 16)}`;

describe('KeyValidator', () => {
  const simulator = new ProviderSimulator({
    validKeys: { openai: [GOOD.openai], gemini: [GOOD.gemini], deepseek: [GOOD.deepseek], anthropic: [GOOD.anthropic] },
    models: {
      openai: ['gpt-4o-mini', 'gpt-4.1-mini'],
      gemini: ['gemini-2.0-flash', 'gemini-2.5-pro'],
      deepseek: ['deepseek-chat', 'deepseek-reasoner'],
      anthropic: ['claude-haiku-4-5', 'claude-sonnet-4-5'],
    },
  });
  let factory: LlmClientFactory;
  let validator: KeyValidator;

  beforeAll(async () => {
    factory = new LlmClientFactory({ baseUrls: simulatorBaseUrls(await simulator.start()), timeoutMs: 60_000 });
  });
  beforeEach(() => {
    simulator.clear();
    validator = new KeyValidator(factory);
  });
  afterAll(() => simulator.stop());

  it.each(['openai', 'gemini', 'deepseek', 'anthropic'] as const)('says %s accepts a good key, with one live call', async (provider) => {
    const verdict = await validator.validate(provider, GOOD[provider], fp(GOOD[provider]), context(GOOD[provider]));

    expect(verdict).toEqual({ status: 'valid', checkedAt: expect.any(Date) });
    expect(simulator.keysSeen(provider)).toEqual([fingerprintForSimulator(GOOD[provider])]);
  });

  it.each(['openai', 'gemini', 'deepseek', 'anthropic'] as const)('says %s refuses a revoked key', async (provider) => {
    const revoked = `${GOOD[provider]}0`;
    const verdict = await validator.validate(provider, revoked, fp(revoked), context(revoked));

    expect(verdict).toEqual({ status: 'invalid', reason: `rejected by ${provider}`, checkedAt: expect.any(Date) });
    expect(simulator.requestsFor(provider)).toHaveLength(1);
  });

  it.each([
    ['openai', ''],
    ['openai', 'mock-key-1234567890abcdefghij'],
    ['gemini', 'your_api_key'],
    ['deepseek', 'sk-xxxxxxxxxxxxxxxxxxxxxxxx'],
    ['gemini', 'AIza-too-short'],
    ['openai', 'changeme'],
  ] as const)('refuses the %s placeholder %j without any request', async (provider, key) => {
    const verdict = await validator.validate(provider, key, fp(key), context(key));

    expect(verdict.status).toBe('invalid');
    expect(verdict.reason).toBeTruthy();
    expect(simulator.requests).toEqual([]);
  });

  it('caches a verdict by provider and fingerprint: the second check makes no request', async () => {
    const first = await validator.validate('openai', GOOD.openai, fp(GOOD.openai), context(GOOD.openai));
    const second = await validator.validate('openai', GOOD.openai, fp(GOOD.openai), context(GOOD.openai));

    expect(second).toEqual(first);
    expect(simulator.requests).toHaveLength(1);

    const revoked = `${GOOD.openai}1`;
    await validator.validate('openai', revoked, fp(revoked), context(revoked));
    await validator.validate('openai', revoked, fp(revoked), context(revoked));
    expect(simulator.requests).toHaveLength(2);
  });

  it('keeps verdicts of different providers apart', async () => {
    await validator.validate('openai', GOOD.openai, fp(GOOD.openai), context(GOOD.openai));
    await validator.validate('deepseek', GOOD.openai, fp(GOOD.openai), context(GOOD.openai));

    expect(simulator.requests.map((r) => r.provider)).toEqual(['openai', 'deepseek']);
  });

  it('shares one live call between concurrent checks of one key', async () => {
    const verdicts = await Promise.all(
      Array.from({ length: 5 }, () => validator.validate('gemini', GOOD.gemini, fp(GOOD.gemini), context(GOOD.gemini))),
    );

    expect(verdicts.every((v) => v.status === 'valid')).toBe(true);
    expect(simulator.requests).toHaveLength(1);
  });

  it('checks again after forget()', async () => {
    await validator.validate('openai', GOOD.openai, fp(GOOD.openai), context(GOOD.openai));
    validator.forget('openai', fp(GOOD.openai));
    await validator.validate('openai', GOOD.openai, fp(GOOD.openai), context(GOOD.openai));

    expect(simulator.requests).toHaveLength(2);
  });

  it('lets rate limits and outages propagate, and caches no verdict for them', async () => {
    simulator.failNext('gemini', { status: 429, retryAfterSeconds: 3 });
    simulator.failNext('gemini', { status: 500 });

    await expect(validator.validate('gemini', GOOD.gemini, fp(GOOD.gemini), context(GOOD.gemini))).rejects.toBeInstanceOf(RateLimitedError);
    await expect(validator.validate('gemini', GOOD.gemini, fp(GOOD.gemini), context(GOOD.gemini))).rejects.toBeInstanceOf(ProviderUnavailableError);
    await expect(validator.validate('gemini', GOOD.gemini, fp(GOOD.gemini), context(GOOD.gemini))).resolves.toMatchObject({ status: 'valid' });
    expect(simulator.requests).toHaveLength(3);
  });

  const OTHER_LISTED: Record<PublicProvider, string> = {
    openai: 'gpt-4.1-mini',
    gemini: 'gemini-2.5-pro',
    deepseek: 'deepseek-reasoner',
    anthropic: 'claude-sonnet-4-5',
  };

  it.each(['openai', 'gemini', 'deepseek', 'anthropic'] as const)('%s: a model the provider lists is valid, with one live call', async (provider) => {
    const key = GOOD[provider];
    await expect(validator.validate(provider, key, fp(key), context(key), OTHER_LISTED[provider])).resolves.toMatchObject({ status: 'valid' });
    expect(simulator.requestsFor(provider)).toHaveLength(1);
  });

  it.each(['openai', 'gemini', 'deepseek', 'anthropic'] as const)(
    '%s: a model the provider does not list is MODEL_NOT_AVAILABLE naming the model, never the key, and no verdict is cached',
    async (provider) => {
      const key = GOOD[provider];
      const failure = await validator.validate(provider, key, fp(key), context(key), 'no-such-model-9').catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ModelNotAvailableError);
      expect(failure).toMatchObject({ code: 'MODEL_NOT_AVAILABLE', provider, model: 'no-such-model-9', retryable: false });
      expect((failure as Error).message).toContain('no-such-model-9');
      expect((failure as Error).message).not.toContain(key.slice(-8));
      // the same key with a listed model is still valid: the refusal was the model's, not the key's
      await expect(validator.validate(provider, key, fp(key), context(key))).resolves.toMatchObject({ status: 'valid' });
      // and the unlisted model is asked about again, not answered from a cache
      await expect(validator.validate(provider, key, fp(key), context(key), 'no-such-model-9')).rejects.toBeInstanceOf(ModelNotAvailableError);
      expect(simulator.requestsFor(provider)).toHaveLength(3);
    },
  );

  it('a model the simulator lists only after setModels is then valid', async () => {
    const key = GOOD.openai;
    await expect(validator.validate('openai', key, fp(key), context(key), 'gpt-5-nano')).rejects.toBeInstanceOf(ModelNotAvailableError);
    simulator.setModels('openai', ['gpt-4o-mini', 'gpt-4.1-mini', 'gpt-5-nano']);
    try {
      await expect(validator.validate('openai', key, fp(key), context(key), 'gpt-5-nano')).resolves.toMatchObject({ status: 'valid' });
    } finally {
      simulator.setModels('openai', ['gpt-4o-mini', 'gpt-4.1-mini']);
    }
  });
});
