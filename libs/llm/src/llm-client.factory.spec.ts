import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { ErrorCode, last4Of, type PublicProvider } from '#libs/common';
import {
  extractEntitiesDeterministically,
  fingerprintForSimulator,
  plainAnswerFor,
  ProviderSimulator,
  simulatorBaseUrls,
  unreachableBaseUrls,
} from '#libs/testing';
import { LlmClientFactory } from './llm-client.factory.js';
import { createNodeHttpFetch } from './node-http-fetch.js';
import { AuthenticationError, LlmError, EmptyApiKeyError, ProviderRequestError, ProviderUnavailableError, RateLimitedError } from './llm.errors.js';
import type { KeyContext } from './llm-provider.js';

const PROVIDERS: PublicProvider[] = ['openai', 'gemini', 'deepseek', 'anthropic'];
const KEYS: Record<PublicProvider, string> = {
  openai: `sk-proj-${randomBytes(24).toString('hex')}`,
  gemini: `AIza${randomBytes(20).toString('hex')}`,
  deepseek: `sk-${randomBytes(16).toString('hex')}`,
  anthropic: `sk-ant-api03-${randomBytes(40).toString('hex')}`,
};
const COMPLETION_PATHS: Record<PublicProvider, string> = {
  openai: '/openai/v1/chat/completions',
  deepseek: '/deepseek/v1/chat/completions',
  gemini: '/gemini/v1beta/models/gemini-2.0-flash:generateContent',
  anthropic: '/anthropic/v1/messages',
};
const PLAIN_FINISH: Record<PublicProvider, string> = { openai: 'stop', deepseek: 'stop', gemini: 'STOP', anthropic: 'end_turn' };
const VALIDATION_PATHS: Record<PublicProvider, string> = {
  openai: '/openai/v1/models',
  deepseek: '/deepseek/v1/models',
  gemini: '/gemini/v1beta/models',
  anthropic: '/anthropic/v1/models/claude-haiku-4-5',
};
const SCHEMA = {
  name: 'graph_extraction',
  schema: {
    type: 'object',
    properties: { entities: { type: 'array', items: { type: 'object' } }, relationships: { type: 'array', items: { type: 'object' } } },
    required: ['entities', 'relationships'],
    additionalProperties: false,
  },
};
const USER_TEXT = 'Alice Smith from Acme Corp wrote to bob@example.com about the IBM deal. Carol met Alice Smith in Berlin.';

const contextFor = (key: string): KeyContext => ({ tenantLabel: 'brennan', keyLast4: last4Of(key) });

async function failureOf(promise: Promise<unknown>): Promise<LlmError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LlmError) return error;
    throw new Error(`expected an LlmError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected the call to fail');
}

/** A port on which nothing listens: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('LlmClientFactory with the real SDKs against the provider simulator', () => {
  const simulator = new ProviderSimulator({
    validKeys: { openai: [KEYS.openai], gemini: [KEYS.gemini], deepseek: [KEYS.deepseek], anthropic: [KEYS.anthropic] },
  });
  let factory: LlmClientFactory;

  beforeAll(async () => {
    const urls = await simulator.start();
    factory = new LlmClientFactory({ baseUrls: simulatorBaseUrls(urls), timeoutMs: 2_000 });
  });
  afterEach(() => {
    // held requests, scripted failures and changed keys never leak into the next test
    simulator.reset();
    for (const provider of PROVIDERS) simulator.setValidKeys(provider, [KEYS[provider]]);
  });
  afterAll(() => simulator.stop());

  describe.each(PROVIDERS)('%s', (provider) => {
    const key = KEYS[provider];
    const client = () => factory.create(provider, key, contextFor(key));

    it('completes a plain prompt with the tenant key, and only that key reaches the provider', async () => {
      const result = await client().complete({ system: 'You are terse.', user: 'Say hello' });

      // the tokens are the ones the provider reported for this answer (prompt and answer apart)
      const [reported] = simulator.usageReported(fingerprintForSimulator(key));
      expect(result).toEqual({
        text: plainAnswerFor(provider, 'Say hello'),
        finishReason: PLAIN_FINISH[provider],
        totalTokens: reported.inputTokens + reported.outputTokens,
        usage: { inputTokens: reported.inputTokens, outputTokens: reported.outputTokens },
      });
      expect(simulator.requestsFor(provider)).toEqual([
        expect.objectContaining({
          method: 'POST',
          path: COMPLETION_PATHS[provider],
          keyFingerprint: fingerprintForSimulator(key),
          keyLocation: 'header',
        }),
      ]);
      expect(simulator.keysSeen(provider)).toEqual([fingerprintForSimulator(key)]);
      expect(simulator.requests).toHaveLength(1);
    });

    it('answers a JSON-schema completion with parsed JSON', async () => {
      const result = await client().complete({ system: 'Extract the entities and relationships.', user: USER_TEXT, jsonSchema: SCHEMA });

      expect(result.json).toEqual(extractEntitiesDeterministically(USER_TEXT));
      expect(JSON.parse(result.text)).toEqual(result.json);
      expect(simulator.requestsFor(provider)[0].model).toBe(factory.create(provider, key, contextFor(key)).model);
    });

    it('validates a good key with one cheap call, the key in a header', async () => {
      await expect(client().validateKey()).resolves.toBeUndefined();

      expect(simulator.requestsFor(provider)).toEqual([
        expect.objectContaining({
          method: 'GET',
          path: VALIDATION_PATHS[provider],
          keyFingerprint: fingerprintForSimulator(key),
          keyLocation: 'header',
        }),
      ]);
    });

    it('turns a refused key into AuthenticationError naming the provider and tenant', async () => {
      const wrongKey = `${key.slice(0, -6)}abc123`;
      const wrong = factory.create(provider, wrongKey, contextFor(wrongKey));

      for (const call of [() => wrong.complete({ system: 's', user: 'u' }), () => wrong.validateKey()]) {
        const error = await failureOf(call());
        expect(error).toBeInstanceOf(AuthenticationError);
        expect(error).toMatchObject({ code: ErrorCode.InvalidApiKey, provider, retryable: false });
        expect(error.message).toBe(`Failed to authenticate with ${provider} for tenant brennan (key ...c123)`);
      }
      expect(simulator.keysSeen(provider)).toEqual([fingerprintForSimulator(wrongKey)]);
    });

    it('treats a 403 as an authentication failure', async () => {
      simulator.failNext(provider, { status: 403 });
      expect(await failureOf(client().complete({ system: 's', user: 'u' }))).toBeInstanceOf(AuthenticationError);
    });

    it('turns a 429 into RateLimitedError with the provider-given wait, without retrying', async () => {
      simulator.failNext(provider, { status: 429, retryAfterSeconds: 7, times: 2 });

      const onComplete = await failureOf(client().complete({ system: 's', user: 'u' }));
      const onValidate = await failureOf(client().validateKey());

      for (const error of [onComplete, onValidate]) {
        expect(error).toBeInstanceOf(RateLimitedError);
        expect(error).toMatchObject({ code: ErrorCode.RateLimited, retryable: true, retryAfterMs: 7_000, provider });
      }
      // maxRetries 0: one request per call, our job layer owns retries
      expect(simulator.requestsFor(provider)).toHaveLength(2);
    });

    it('leaves retryAfterMs undefined when the provider gives no hint', async () => {
      simulator.failNext(provider, { status: 429, retryAfterSeconds: null });
      expect(await failureOf(client().complete({ system: 's', user: 'u' }))).toMatchObject({ retryAfterMs: undefined });
    });

    it.each([500, 503] as const)('turns a %i into a retryable ProviderUnavailableError, sent once', async (status) => {
      simulator.failNext(provider, { status });
      const error = await failureOf(client().complete({ system: 's', user: 'u' }));

      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect(error).toMatchObject({ code: ErrorCode.ProviderUnavailable, retryable: true });
      // Anthropic says it is overloaded with 529 where the others send 503
      expect(error.message).toContain(provider === 'anthropic' && status === 503 ? 'HTTP 529 overloaded' : `HTTP ${status}`);
      expect(simulator.requestsFor(provider)).toHaveLength(1);
    });

    it('turns a 400 into a non-retryable ProviderRequestError', async () => {
      simulator.failNext(provider, { status: 400 });
      const error = await failureOf(client().complete({ system: 's', user: 'u' }));

      expect(error).toBeInstanceOf(ProviderRequestError);
      expect(error).toMatchObject({ code: ErrorCode.ProviderUnavailable, retryable: false });
    });

    it('turns a timeout into a retryable ProviderUnavailableError that says "timed out"', async () => {
      // every request is held by the simulator and never answered before the deadline
      simulator.gate({ provider });
      const quick = new LlmClientFactory({ baseUrls: simulatorBaseUrls(simulator.urls), timeoutMs: 200 }).create(provider, key, contextFor(key));

      for (const call of [() => quick.complete({ system: 's', user: 'u' }), () => quick.validateKey()]) {
        const error = await failureOf(call());
        expect(error).toBeInstanceOf(ProviderUnavailableError);
        expect(error).toMatchObject({ code: ErrorCode.ProviderUnavailable, retryable: true, provider });
        expect(error.message).toBe(`Provider unavailable: ${provider} for tenant brennan (key ...${key.slice(-4)}): timed out`);
      }
    });

    it('turns a refused connection into ProviderUnavailableError that says "connection failed"', async () => {
      const port = await closedPort();
      const offline = new LlmClientFactory({ baseUrls: unreachableBaseUrls(port), timeoutMs: 2_000 }).create(provider, key, contextFor(key));

      for (const call of [() => offline.complete({ system: 's', user: 'u' }), () => offline.validateKey()]) {
        const error = await failureOf(call());
        expect(error).toBeInstanceOf(ProviderUnavailableError);
        expect(error.message).toBe(`Provider unavailable: ${provider} for tenant brennan (key ...${key.slice(-4)}): connection failed`);
      }
    });
  });

  it('builds a client per call: each key reaches the provider with its own requests', async () => {
    const other = `sk-proj-${randomBytes(24).toString('hex')}`;
    simulator.setValidKeys('openai', [KEYS.openai, other]);

    await factory.create('openai', KEYS.openai, contextFor(KEYS.openai)).complete({ system: 's', user: 'one' });
    await factory.create('openai', other, contextFor(other)).complete({ system: 's', user: 'two' });
    await factory.create('openai', KEYS.openai, contextFor(KEYS.openai)).validateKey();

    expect(simulator.requestsFor('openai').map((r) => r.keyFingerprint)).toEqual([
      fingerprintForSimulator(KEYS.openai),
      fingerprintForSimulator(other),
      fingerprintForSimulator(KEYS.openai),
    ]);
  });

  it('sends DeepSeek through the OpenAI-compatible path under its own base URL', async () => {
    await factory.create('deepseek', KEYS.deepseek, contextFor(KEYS.deepseek)).complete({ system: 's', user: 'u', jsonSchema: SCHEMA });

    expect(simulator.requestsFor('openai')).toEqual([]);
    expect(simulator.requestsFor('deepseek')).toEqual([expect.objectContaining({ path: '/deepseek/v1/chat/completions', model: 'deepseek-chat' })]);
  });

  it('never fails over to another provider', async () => {
    simulator.failNext('openai', { status: 401 });
    await failureOf(factory.create('openai', KEYS.openai, contextFor(KEYS.openai)).complete({ system: 's', user: 'u' }));

    expect(simulator.requests.map((r) => r.provider)).toEqual(['openai']);
  });

  it('ignores provider keys and base URLs in the environment', async () => {
    const saved = { key: process.env.OPENAI_API_KEY, url: process.env.OPENAI_BASE_URL };
    process.env.OPENAI_API_KEY = `sk-env-${randomBytes(16).toString('hex')}`;
    process.env.OPENAI_BASE_URL = `http://127.0.0.1:${await closedPort()}/v1`;
    try {
      await factory.create('openai', KEYS.openai, contextFor(KEYS.openai)).complete({ system: 's', user: 'u' });
      expect(simulator.keysSeen('openai')).toEqual([fingerprintForSimulator(KEYS.openai)]);
    } finally {
      for (const [name, value] of [
        ['OPENAI_API_KEY', saved.key],
        ['OPENAI_BASE_URL', saved.url],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('ignores Anthropic keys, tokens, headers and base URLs in the environment', async () => {
    const names = ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'ANTHROPIC_CUSTOM_HEADERS', 'ANTHROPIC_BASE_URL'] as const;
    const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
    const envKey = `sk-ant-api03-env-${randomBytes(24).toString('hex')}`;
    process.env.ANTHROPIC_API_KEY = envKey;
    process.env.ANTHROPIC_AUTH_TOKEN = envKey;
    process.env.ANTHROPIC_CUSTOM_HEADERS = `x-api-key: ${envKey}\nAuthorization: Bearer ${envKey}`;
    process.env.ANTHROPIC_BASE_URL = `http://127.0.0.1:${await closedPort()}`;
    try {
      const client = factory.create('anthropic', KEYS.anthropic, contextFor(KEYS.anthropic));
      await client.complete({ system: 's', user: 'u' });
      await client.validateKey();
      expect(simulator.keysSeen('anthropic')).toEqual([fingerprintForSimulator(KEYS.anthropic)]);
      expect(simulator.requestsFor('anthropic')).toHaveLength(2);
    } finally {
      for (const name of names) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
  });

  it('forces the extraction tool on Anthropic and reads its tool_use input as the JSON', async () => {
    const seen: string[] = [];
    simulator.onRequest((request) => seen.push(request.bodyText));
    const result = await factory
      .create('anthropic', KEYS.anthropic, contextFor(KEYS.anthropic))
      .complete({ system: 'Extract the entities.', user: USER_TEXT, jsonSchema: SCHEMA });

    expect(result).toMatchObject({ json: extractEntitiesDeterministically(USER_TEXT), finishReason: 'tool_use' });
    const body = JSON.parse(seen[0]) as Record<string, unknown>;
    expect(body).toMatchObject({
      model: 'claude-haiku-4-5',
      system: 'Extract the entities.',
      tools: [{ name: SCHEMA.name, input_schema: SCHEMA.schema }],
      tool_choice: { type: 'tool', name: SCHEMA.name },
    });
    expect(body.max_tokens).toEqual(expect.any(Number));
  });

  it('accepts a base URL with a trailing slash', async () => {
    const options = { baseUrls: { gemini: `${simulator.urls.geminiBaseUrl}/` }, timeoutMs: 2_000 };
    await new LlmClientFactory(options).create('gemini', KEYS.gemini, contextFor(KEYS.gemini)).complete({ system: 's', user: 'u' });

    expect(simulator.requestsFor('gemini')[0].path).toBe(COMPLETION_PATHS.gemini);
  });

  it("rejects an aborted request through the SDK's fetch with an AbortError of the SDK's own realm", async () => {
    // the openai SDK tells a timeout from a refused connection by `instanceof Error` and the name
    // AbortError: node:http's own error comes from Node's realm, not from the one the SDK runs in
    const gate = simulator.gate({ provider: 'openai' });
    const controller = new AbortController();
    const pending = createNodeHttpFetch()(`${simulator.urls.openaiBaseUrl}/models`, {
      headers: { authorization: `Bearer ${KEYS.openai}` },
      signal: controller.signal,
    });
    await gate.waitForHeld(1);
    controller.abort();
    const error = await pending.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'AbortError' });
  });

  it('refuses an empty key before any request', () => {
    expect(() => factory.create('gemini', '', { tenantLabel: 'brennan', keyLast4: null })).toThrow(EmptyApiKeyError);
    expect(simulator.requests).toEqual([]);
  });
});
