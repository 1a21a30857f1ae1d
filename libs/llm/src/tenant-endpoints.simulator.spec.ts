import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { ErrorCode, last4Of, type TenantEndpointProvider } from '#libs/common';
import { EgressPolicy } from '#libs/egress';
import { fingerprintForSimulator, ProviderSimulator, type SimulatorUrls, simulatorBaseUrls, simulatorTarget } from '#libs/testing';
import { LlmClientFactory } from './llm-client.factory.js';
import {
  AuthenticationError,
  EndpointRefusedError,
  LlmError,
  ModelNotAvailableError,
  ProviderUnavailableError,
  RateLimitedError,
} from './llm.errors.js';
import type { KeyContext } from './llm-provider.js';
import type { TenantEndpoint } from './provider-registry.js';

const PROVIDERS: TenantEndpointProvider[] = ['azure-openai', 'custom-openai'];
const KEYS: Record<TenantEndpointProvider, string> = {
  'azure-openai': randomBytes(16).toString('hex'),
  'custom-openai': `gw-${randomBytes(12).toString('hex')}`,
};
const SCHEMA = {
  name: 'knowledge_graph',
  schema: {
    type: 'object',
    properties: { entities: { type: 'array', items: { type: 'object' } }, relationships: { type: 'array', items: { type: 'object' } } },
    required: ['entities', 'relationships'],
    additionalProperties: false,
  },
};
const TEXT = 'Alice Johnson from Acme Corp met Bob Smith in Berlin.';
const context = (key: string): KeyContext => ({ tenantLabel: 'brennan', keyLast4: last4Of(key) });

/** What the call failed with: always one of the typed errors (anything else fails the test). */
async function failureOf(promise: Promise<unknown>): Promise<LlmError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LlmError) return error;
    throw new Error(`expected an LlmError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected the call to fail');
}

/** `url` with its host replaced by `host` (same port and path). */
function onOrigin(url: string, host: string): string {
  const parsed = new URL(url);
  parsed.hostname = host;
  return parsed.href.replace(/\/+$/, '');
}

/**
 * Azure OpenAI and a tenant's own OpenAI-compatible endpoint through the real openai SDK against the
 * simulator: where the key travels, the typed errors, validation, and the egress policy's check at
 * connect time (a tenant's URL may name anything, so every connection is judged, names included).
 */
describe('Tenant endpoints (azure-openai, custom-openai) with the real SDK against the provider simulator', () => {
  const simulator = new ProviderSimulator({ validKeys: { 'azure-openai': [KEYS['azure-openai']], 'custom-openai': [KEYS['custom-openai']] } });
  let urls: SimulatorUrls;
  let factory: LlmClientFactory;

  /** A factory whose egress policy is `policy`, as LlmModule builds it from the operator's settings. */
  const factoryWith = (policy?: EgressPolicy) => new LlmClientFactory({ baseUrls: simulatorBaseUrls(urls), timeoutMs: 5_000, egress: policy });

  const target = (provider: TenantEndpointProvider, baseUrl?: string): { model?: string; endpoint?: TenantEndpoint } => {
    const { model, endpoint } = simulatorTarget(provider, urls);
    return { model, endpoint: endpoint && baseUrl ? { ...endpoint, baseUrl } : endpoint };
  };

  const llm = (provider: TenantEndpointProvider, options: { key?: string; factory?: LlmClientFactory; baseUrl?: string; model?: string } = {}) => {
    const key = options.key ?? KEYS[provider];
    const { model, endpoint } = target(provider, options.baseUrl);
    return (options.factory ?? factory).create(provider, key, context(key), options.model ?? model, endpoint);
  };

  beforeAll(async () => {
    urls = await simulator.start();
    // what simulatorEgressEnv() sets for the API: plain http to 127.0.0.1 only
    factory = factoryWith(new EgressPolicy({ allowHttp: true, allowedCidrs: ['127.0.0.1/32'] }));
  });
  afterEach(() => simulator.reset());
  afterAll(() => simulator.stop());

  describe('Azure OpenAI on the wire', () => {
    it("sends the key in api-key only, the deployment in the path and the tenant's api-version, and answers a JSON-schema completion", async () => {
      const result = await llm('azure-openai').complete({ system: 'Extract entities.', user: TEXT, jsonSchema: SCHEMA });

      expect(result.json).toMatchObject({ entities: expect.arrayContaining([expect.objectContaining({ name: 'Alice Johnson' })]) as unknown });
      const [request] = simulator.requests;
      expect(simulator.requests).toHaveLength(1);
      expect(request).toMatchObject({
        provider: 'azure-openai',
        method: 'POST',
        path: '/azure-openai/openai/deployments/gpt-4o-mini/chat/completions',
        apiVersion: '2024-10-21',
        keyFingerprint: fingerprintForSimulator(KEYS['azure-openai']),
        keyLocation: 'header',
        model: 'gpt-4o-mini',
      });
      // Azure reads Authorization as an Entra ID token: the key must not travel there as well
      expect(request.headerNames).toContain('api-key');
      expect(request.headerNames).not.toContain('authorization');
    });

    it('sends the api-version the tenant set', async () => {
      const key = KEYS['azure-openai'];
      const endpoint = { baseUrl: urls.azureOpenAiEndpoint, apiVersion: '2025-04-01-preview' };
      await factory.create('azure-openai', key, context(key), 'gpt-4o-mini', endpoint).complete({ system: 'Extract.', user: TEXT });

      expect(simulator.requests.map((r) => r.apiVersion)).toEqual(['2025-04-01-preview']);
    });

    it('custom-openai sends its key as a bearer token to {base}/chat/completions', async () => {
      const result = await llm('custom-openai').complete({ system: 'Extract entities.', user: TEXT, jsonSchema: SCHEMA });

      expect(result.json).toMatchObject({ entities: expect.arrayContaining([expect.objectContaining({ name: 'Alice Johnson' })]) as unknown });
      expect(simulator.requests).toEqual([
        expect.objectContaining({
          provider: 'custom-openai',
          path: '/custom-openai/v1/chat/completions',
          model: 'llama-3.1-8b-instruct',
          keyFingerprint: fingerprintForSimulator(KEYS['custom-openai']),
          headerNames: expect.arrayContaining(['authorization']) as unknown,
        }),
      ]);
    });
  });

  describe.each(PROVIDERS)('%s: typed errors', (provider) => {
    const key = KEYS[provider];
    /** Nothing of the key but its last four characters (the masked form every message uses) may appear. */
    const expectNoKeyIn = (error: LlmError) => {
      expect(error.message).not.toContain(key);
      expect(error.message).not.toContain(key.slice(0, -4));
      expect(JSON.stringify(error)).not.toContain(key.slice(0, -4));
    };

    it.each([401, 403] as const)('%s is an AuthenticationError (INVALID_API_KEY), never retryable', async (status) => {
      simulator.failNext(provider, { status });
      const error = await failureOf(llm(provider).complete({ system: 'Extract.', user: TEXT }));

      expect(error).toBeInstanceOf(AuthenticationError);
      expect(error).toMatchObject({ code: ErrorCode.InvalidApiKey, provider, retryable: false });
      expectNoKeyIn(error);
    });

    it('a key the endpoint refuses is an AuthenticationError', async () => {
      const wrong = provider === 'azure-openai' ? randomBytes(16).toString('hex') : `gw-${randomBytes(12).toString('hex')}`;
      const error = await failureOf(llm(provider, { key: wrong }).complete({ system: 'Extract.', user: TEXT }));

      expect(error).toBeInstanceOf(AuthenticationError);
      expect(error.message).not.toContain(wrong.slice(0, -4));
      expect(simulator.keysSeen(provider)).toEqual([fingerprintForSimulator(wrong)]);
    });

    it('429 with retry-after is a RateLimitedError carrying the wait', async () => {
      simulator.failNext(provider, { status: 429, retryAfterSeconds: 3 });
      const error = await failureOf(llm(provider).complete({ system: 'Extract.', user: TEXT }));

      expect(error).toBeInstanceOf(RateLimitedError);
      expect(error).toMatchObject({ code: ErrorCode.RateLimited, retryable: true, retryAfterMs: 3_000 });
      expectNoKeyIn(error);
    });

    it.each([500, 503] as const)('%s is a retryable ProviderUnavailableError', async (status) => {
      simulator.failNext(provider, { status });
      const error = await failureOf(llm(provider).complete({ system: 'Extract.', user: TEXT }));

      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect(error).toMatchObject({ code: ErrorCode.ProviderUnavailable, retryable: true });
      expect(error.message).toContain(`HTTP ${status}`);
      expectNoKeyIn(error);
    });
  });

  describe('validateKey', () => {
    it('azure-openai: a one-token completion on the deployment', async () => {
      await expect(llm('azure-openai').validateKey()).resolves.toBeUndefined();
      expect(simulator.requests).toEqual([
        expect.objectContaining({ method: 'POST', path: '/azure-openai/openai/deployments/gpt-4o-mini/chat/completions', apiVersion: '2024-10-21' }),
      ]);
    });

    it('custom-openai: GET {base}/models, which lists the model', async () => {
      await expect(llm('custom-openai').validateKey()).resolves.toBeUndefined();
      expect(simulator.requests).toEqual([expect.objectContaining({ method: 'GET', path: '/custom-openai/v1/models' })]);
    });

    it.each(PROVIDERS)('%s: a wrong key is an AuthenticationError', async (provider) => {
      const wrong = `${KEYS[provider]}0`;
      const error = await failureOf(llm(provider, { key: wrong }).validateKey());

      expect(error).toBeInstanceOf(AuthenticationError);
      expect(error.message).not.toContain(wrong.slice(0, -4));
    });

    it.each([
      ['azure-openai', 'AZURE_OPENAI_DEPLOYMENT'],
      ['custom-openai', 'CUSTOM_OPENAI_MODEL'],
    ] as const)('%s: a model the endpoint does not serve is MODEL_NOT_AVAILABLE naming %s', async (provider, setting) => {
      const error = await failureOf(llm(provider, { model: 'not-deployed-here' }).validateKey());

      expect(error).toBeInstanceOf(ModelNotAvailableError);
      expect(error).toMatchObject({ code: ErrorCode.ModelNotAvailable, provider, model: 'not-deployed-here', retryable: false });
      expect(error.message).toContain(setting);
      expect(error.message).toContain('not-deployed-here');
      expect(error.message).not.toContain(KEYS[provider].slice(0, -4));
    });

    it('a deployment listed only after setModels is then valid', async () => {
      simulator.setModels('azure-openai', ['gpt-4o-mini', 'graph-extractor']);
      try {
        await expect(llm('azure-openai', { model: 'graph-extractor' }).validateKey()).resolves.toBeUndefined();
      } finally {
        simulator.setModels('azure-openai', ['gpt-4o-mini']);
      }
    });
  });

  describe('the egress policy, at connect time', () => {
    // http allowed, no private range allowed: what an operator without EGRESS_ALLOWED_CIDRS runs
    const strict = new EgressPolicy({ allowHttp: true, allowedCidrs: [] });

    /** Both calls a tenant endpoint makes, each refused with EGRESS_REFUSED before a byte is sent. */
    async function expectRefused(provider: TenantEndpointProvider, baseUrl: string, policy: EgressPolicy) {
      const guarded = factoryWith(policy);
      for (const call of [
        () => llm(provider, { factory: guarded, baseUrl }).validateKey(),
        () => llm(provider, { factory: guarded, baseUrl }).complete({ system: 'Extract.', user: TEXT }),
      ]) {
        const error = await failureOf(call());
        expect(error).toBeInstanceOf(EndpointRefusedError);
        expect(error).toMatchObject({ code: ErrorCode.EgressRefused, provider, retryable: false });
        // the host at most: never the path or the key
        expect(error.message).not.toContain('/openai');
        expect(error.message).not.toContain(KEYS[provider].slice(0, -4));
      }
      expect(simulator.requests).toEqual([]);
    }

    it.each(PROVIDERS)('%s: an IP literal in loopback space is refused before any request', async (provider) => {
      const baseUrl = provider === 'azure-openai' ? urls.azureOpenAiEndpoint : urls.customOpenAiBaseUrl;
      expect(new URL(baseUrl).hostname).toBe('127.0.0.1');
      await expectRefused(provider, baseUrl, strict);
    });

    it.each(PROVIDERS)('%s: a NAME that resolves to loopback (DNS rebinding) is refused when the connection is made', async (provider) => {
      const baseUrl = onOrigin(provider === 'azure-openai' ? urls.azureOpenAiEndpoint : urls.customOpenAiBaseUrl, 'localhost');
      // the URL itself passes the policy (a name is judged when resolved): only the lookup at connect time stops it
      expect(() => strict.checkUrl(baseUrl)).not.toThrow();
      await expectRefused(provider, baseUrl, strict);
    });

    it.each(PROVIDERS)('%s: without EGRESS_ALLOW_HTTP, an http URL is refused', async (provider) => {
      const baseUrl = provider === 'azure-openai' ? urls.azureOpenAiEndpoint : urls.customOpenAiBaseUrl;
      await expectRefused(provider, baseUrl, new EgressPolicy({ allowHttp: false, allowedCidrs: ['127.0.0.1/32'] }));
    });

    it.each(PROVIDERS)('%s: a redirect is an answer, never followed (its Location could name any address, with the key)', async (provider) => {
      simulator.redirectNext(provider, { status: 307 });
      const error = await failureOf(llm(provider).complete({ system: 'Extract.', user: TEXT }));

      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect(error.message).toContain('redirect, not followed');
      expect(simulator.requests).toHaveLength(1);
      expect(simulator.followedRedirects()).toEqual([]);
    });

    it.each(PROVIDERS)('%s: EGRESS_ALLOWED_CIDRS lets the same name and literal through', async (provider) => {
      const guarded = factoryWith(new EgressPolicy({ allowHttp: true, allowedCidrs: ['127.0.0.1/32', '::1/128'] }));
      const literal = provider === 'azure-openai' ? urls.azureOpenAiEndpoint : urls.customOpenAiBaseUrl;
      await llm(provider, { factory: guarded, baseUrl: literal }).validateKey();
      await llm(provider, { factory: guarded, baseUrl: onOrigin(literal, 'localhost') }).complete({ system: 'Extract.', user: TEXT });

      expect(simulator.requests.map((r) => r.host)).toEqual([new URL(literal).host, new URL(onOrigin(literal, 'localhost')).host]);
      expect(simulator.keysSeen(provider)).toEqual([fingerprintForSimulator(KEYS[provider])]);
    });
  });

  describe("the SDK's environment variables never matter", () => {
    const OVERRIDES = ['OPENAI_BASE_URL', 'OPENAI_API_KEY', 'AZURE_OPENAI_ENDPOINT', 'AZURE_OPENAI_API_KEY', 'OPENAI_API_VERSION'] as const;
    const saved: Partial<Record<(typeof OVERRIDES)[number], string | undefined>> = {};
    const envKey = randomBytes(16).toString('hex');

    beforeAll(() => {
      for (const name of OVERRIDES) saved[name] = process.env[name];
      // all pointing at the simulator's OpenAI route, so a call they steered would still be seen (and fail the test)
      process.env.OPENAI_BASE_URL = urls.openaiBaseUrl;
      process.env.OPENAI_API_KEY = envKey;
      process.env.AZURE_OPENAI_ENDPOINT = urls.openaiBaseUrl;
      process.env.AZURE_OPENAI_API_KEY = envKey;
      process.env.OPENAI_API_VERSION = '1999-01-01';
    });
    afterAll(() => {
      for (const name of OVERRIDES) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    });

    it.each(PROVIDERS)("%s goes to the tenant's endpoint with the tenant's key (and Azure with the tenant's api-version)", async (provider) => {
      await llm(provider).validateKey();
      await llm(provider).complete({ system: 'Extract.', user: TEXT });

      expect(simulator.requests).toHaveLength(2);
      expect(simulator.requests.every((r) => r.provider === provider)).toBe(true);
      expect(simulator.keysSeen(provider)).toEqual([fingerprintForSimulator(KEYS[provider])]);
      if (provider === 'azure-openai') expect(simulator.requests.map((r) => r.apiVersion)).toEqual(['2024-10-21', '2024-10-21']);
    });
  });

  describe('the factory refuses to build a tenant endpoint without what it needs', () => {
    const egress = new EgressPolicy({ allowHttp: true, allowedCidrs: ['127.0.0.1/32'] });

    it.each(PROVIDERS)('%s: without an egress policy (the unguarded pool is never used)', (provider) => {
      const { model, endpoint } = target(provider);
      expect(() => factoryWith(undefined).create(provider, KEYS[provider], context(KEYS[provider]), model, endpoint)).toThrow(
        `${provider} needs the tenant's endpoint, model and the egress policy`,
      );
    });

    it.each(PROVIDERS)('%s: without an endpoint, a model, or (Azure) an api-version', (provider) => {
      const { model, endpoint } = target(provider);
      const create = (m: string | undefined, e: TenantEndpoint | undefined) => () =>
        factoryWith(egress).create(provider, KEYS[provider], context(KEYS[provider]), m, e);
      expect(create(model, undefined)).toThrow(/needs the tenant's endpoint/);
      expect(create(model, { baseUrl: '' })).toThrow(/needs the tenant's endpoint/);
      expect(create(undefined, endpoint)).toThrow(/needs the tenant's endpoint/);
      expect(create('', endpoint)).toThrow(/needs the tenant's endpoint/);
      if (provider === 'azure-openai') expect(create(model, { baseUrl: urls.azureOpenAiEndpoint })).toThrow(/needs the tenant's endpoint/);
      // and the operator's base URLs are no fallback: nothing was sent anywhere
      expect(simulator.requests).toEqual([]);
    });
  });
});
