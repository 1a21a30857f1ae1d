import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { last4Of, type ProviderId } from '#libs/common';
import { ProviderSimulator, simulatorBaseUrls, unreachableBaseUrls } from '#libs/testing';
import { KeyValidator } from './key-validator.js';
import { LlmClientFactory } from './llm-client.factory.js';
import { LlmError } from './llm.errors.js';
import type { LlmProvider } from './llm-provider.js';

/**
 * Every failure path, with a canary key: no trace of the key, the SDK's wording (which quotes
 * it) or the request URL (which can carry it) may survive in anything the error exposes.
 */
const PROVIDERS: ProviderId[] = ['openai', 'gemini', 'deepseek', 'anthropic'];
const secret = randomBytes(16).toString('hex');
const CANARY = `sk-canary-${secret}`;
const FORBIDDEN = [
  CANARY,
  secret.slice(0, -4),
  'canary',
  'Incorrect API key',
  'API key not valid',
  '127.0.0.1',
  'x-goog-api-key',
  'Bearer',
  'x-api-key',
  'authentication_error',
];

function everythingAbout(error: unknown): Record<string, string> {
  const e = error as Error & { cause?: unknown };
  return {
    message: e.message,
    stack: e.stack ?? '',
    string: String(e),
    json: JSON.stringify(e),
    cause: inspect(e.cause),
    inspect: inspect(e, { depth: 10, showHidden: true }),
  };
}

async function failureOf(call: () => Promise<unknown>): Promise<LlmError> {
  try {
    await call();
  } catch (error) {
    expect(error).toBeInstanceOf(LlmError);
    return error as LlmError;
  }
  throw new Error('expected the call to fail');
}

function expectNoKeyMaterial(error: unknown): void {
  for (const [where, text] of Object.entries(everythingAbout(error))) {
    for (const needle of FORBIDDEN) {
      if (text.includes(needle)) throw new Error(`${where} of ${(error as Error).name} contains ${JSON.stringify(needle.slice(0, 12))}`);
    }
  }
  expect((error as Error).cause).toBeUndefined();
}

describe('no key material in errors', () => {
  const simulator = new ProviderSimulator();
  let factory: LlmClientFactory;
  const client = (provider: ProviderId, f = factory): LlmProvider =>
    f.create(provider, CANARY, { tenantLabel: 'brennan', keyLast4: last4Of(CANARY) });

  beforeAll(async () => {
    factory = new LlmClientFactory({ baseUrls: simulatorBaseUrls(await simulator.start()), timeoutMs: 2_000 });
  });
  beforeEach(() => {
    for (const p of PROVIDERS) simulator.setValidKeys(p, []);
  });
  // held requests and scripted failures never leak into the next test
  afterEach(() => simulator.reset());
  afterAll(() => simulator.stop());

  describe.each(PROVIDERS)('%s', (provider) => {
    it('when the provider refuses the key (its error body quotes it back)', async () => {
      for (const call of [() => client(provider).complete({ system: 's', user: 'u' }), () => client(provider).validateKey()]) {
        const error = await failureOf(call);
        expect(error.name).toBe('AuthenticationError');
        expect(error.message).toContain(`...${CANARY.slice(-4)}`);
        expectNoKeyMaterial(error);
      }
    });

    it.each([403, 429, 500, 503, 400] as const)('on HTTP %i', async (status) => {
      simulator.setValidKeys(provider, [CANARY]);
      simulator.failNext(provider, { status, times: 2 });
      expectNoKeyMaterial(await failureOf(() => client(provider).complete({ system: 's', user: 'u' })));
      expectNoKeyMaterial(await failureOf(() => client(provider).validateKey()));
    });

    it('on a timeout and a refused connection', async () => {
      simulator.setValidKeys(provider, [CANARY]);
      // held until after the deadline: the call times out
      simulator.gate({ provider });
      const quick = new LlmClientFactory({ baseUrls: simulatorBaseUrls(simulator.urls), timeoutMs: 200 });
      for (const call of [() => client(provider, quick).complete({ system: 's', user: 'u' }), () => client(provider, quick).validateKey()]) {
        const error = await failureOf(call);
        expect(error.message).toMatch(/: timed out$/);
        expectNoKeyMaterial(error);
      }

      const offline = new LlmClientFactory({ baseUrls: unreachableBaseUrls(9), timeoutMs: 2_000 });
      for (const call of [() => client(provider, offline).complete({ system: 's', user: 'u' }), () => client(provider, offline).validateKey()]) {
        const error = await failureOf(call);
        expect(error.message).toMatch(/: connection failed$/);
        expectNoKeyMaterial(error);
      }
    });

    it('in the provider object itself', () => {
      const text = `${JSON.stringify(client(provider))} ${inspect(client(provider), { depth: 10, showHidden: true })}`;
      expect(text).not.toContain(secret.slice(0, -4));
    });
  });

  it('in a validation verdict', async () => {
    const verdict = await new KeyValidator(factory).validate('openai', CANARY, 'fp', { tenantLabel: 'brennan', keyLast4: last4Of(CANARY) });
    expect(verdict.status).toBe('invalid');
    expect(JSON.stringify(verdict)).not.toContain(secret.slice(0, -4));
  });
});
