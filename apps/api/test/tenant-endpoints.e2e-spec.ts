import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { MaskedSetting } from '#libs/byok';
import type { TenantEndpointProvider } from '#libs/common';
import { AiKeyMode, PrismaService } from '#libs/database';
import { emailRecords, fingerprintForSimulator, ProviderSimulator, type SimulatorUrls, simulatorEgressEnv, simulatorEnv } from '#libs/testing';
import type { AiJobView } from '../src/ai-jobs/ai-jobs.dto.js';
import { type ApiErrorBody, ApiHarness, type JobStarted, type Json, type ListOf } from './api-harness.js';
import { keyEchoes } from './key-echo.js';

const NO_COUNTERS = { recordsFetched: 0, recordsProcessed: 0, entities: 0, relationships: 0 };
// an Azure resource key is 32 hex characters; a tenant's gateway key takes any form
const azureKey = () => randomBytes(16).toString('hex');
const customKey = () => `gw-${randomBytes(12).toString('hex')}`;

/**
 * Azure OpenAI and a tenant's own OpenAI-compatible endpoint end to end (API and an in-process worker,
 * real Postgres and Redis, the simulator as the tenant's endpoint): the endpoint settings pass the
 * egress policy when saved, backfills run on the tenant's endpoint with the tenant's key only, the
 * pre-flight refuses what cannot run before any record, and a name that resolves to a refused address
 * is accepted at save but refused at every connection.
 */
describe('Tenant endpoints: azure-openai and custom-openai (e2e, in-process worker, provider simulator)', () => {
  const simulator = new ProviderSimulator({ validKeys: { 'azure-openai': ['*'], 'custom-openai': ['*'] } });
  let urls: SimulatorUrls;
  let api: ApiHarness;

  beforeAll(async () => {
    urls = await simulator.start();
    api = await ApiHarness.start({ ...simulatorEnv(urls), ...simulatorEgressEnv(), SYNC_PAGE_SIZE: '4' }, { worker: true });
  });
  afterEach(() => simulator.reset());
  afterAll(async () => {
    await api?.close();
    await simulator.stop();
  });

  const put = (harness: ApiHarness, tenantId: string, setting: string, value: string) =>
    harness.request<MaskedSetting | ApiErrorBody>('PUT', `/v1/tenants/${tenantId}/settings/${setting}`, { body: { value } });

  /** A tenant with these settings, each saved through the API (200 asserted). */
  async function tenantWith(settings: Record<string, string>, options: { harness?: ApiHarness; aiKeyMode?: AiKeyMode } = {}) {
    const harness = options.harness ?? api;
    const tenant = await harness.newTenant({ aiKeyMode: options.aiKeyMode ?? AiKeyMode.byok });
    for (const [setting, value] of Object.entries(settings)) expect((await put(harness, tenant.id, setting, value)).status).toBe(200);
    return tenant;
  }

  /** What a tenant of `provider` stores to run on the simulator, its key included. */
  function configured(provider: TenantEndpointProvider, key: string): Record<string, string> {
    return provider === 'azure-openai'
      ? {
          GRAPHRAG_PROVIDER: provider,
          AZURE_OPENAI_API_KEY: key,
          AZURE_OPENAI_ENDPOINT: urls.azureOpenAiEndpoint,
          AZURE_OPENAI_DEPLOYMENT: 'gpt-4o-mini',
        }
      : {
          GRAPHRAG_PROVIDER: provider,
          CUSTOM_OPENAI_API_KEY: key,
          CUSTOM_OPENAI_BASE_URL: urls.customOpenAiBaseUrl,
          CUSTOM_OPENAI_MODEL: 'llama-3.1-8b-instruct',
        };
  }

  async function backfillOf(tenantId: string, harness: ApiHarness = api) {
    const workspace = await harness.newWorkspace(tenantId);
    expect((await harness.request('POST', `/v1/workspaces/${workspace.id}/records`, { body: emailRecords(6) })).status).toBe(200);
    const started = await harness.request<JobStarted>('POST', `/v1/workspaces/${workspace.id}/backfills`, { body: {} });
    // a pre-flight failure is the job's outcome, not the start's answer: the start is accepted
    expect(started.status).toBe(202);
    return { workspace, job: await harness.waitForBackfill(started.body.jobId) };
  }

  const settingOf = async (tenantId: string, key: string, harness: ApiHarness = api) =>
    (await harness.request<ListOf<MaskedSetting>>('GET', `/v1/tenants/${tenantId}/settings`)).body.items.find((item) => item.key === key);

  describe('saving the endpoint settings', () => {
    it.each([
      ['AZURE_OPENAI_ENDPOINT', () => urls.azureOpenAiEndpoint],
      ['CUSTOM_OPENAI_BASE_URL', () => urls.customOpenAiBaseUrl],
    ])('%s: the simulator URL is accepted and listed as stored (a trailing slash dropped)', async (setting, url) => {
      const tenant = await tenantWith({});
      const saved = await put(api, tenant.id, setting, `${url()}/`);

      expect(saved.status).toBe(200);
      expect(saved.body).toMatchObject({ key: setting, isSecret: false, value: url() });
      await expect(settingOf(tenant.id, setting)).resolves.toMatchObject({ key: setting, isSecret: false, value: url() });
    });

    it.each([
      ['https://169.254.169.254/', 'EGRESS_REFUSED'], // cloud metadata
      ['https://10.0.0.1/', 'EGRESS_REFUSED'],
      ['http://[::1]:1/', 'EGRESS_REFUSED'], // loopback, but not the allowed 127.0.0.1
      ['ftp://llm.example.com/v1', 'EGRESS_REFUSED'],
      ['https://user:pass@llm.example.com/v1', 'EGRESS_REFUSED'],
      ['https://llm.example.com/v1?api-version=1', 'INVALID_SETTING_VALUE'],
      ['https://llm.example.com/v1#models', 'INVALID_SETTING_VALUE'],
      ['llm.example.com/v1', 'EGRESS_REFUSED'], // no scheme: not an absolute URL
    ])('%s answers 400 %s for both settings and stores nothing', async (url, code) => {
      const tenant = await tenantWith({});
      for (const setting of ['AZURE_OPENAI_ENDPOINT', 'CUSTOM_OPENAI_BASE_URL']) {
        const res = await api.request<ApiErrorBody>('PUT', `/v1/tenants/${tenant.id}/settings/${setting}`, { body: { value: url } });
        expect([res.status, res.body.error.code]).toEqual([400, code]);
        // the refusal names at most the host: never a password or a query
        expect(res.text).not.toContain('pass@');
        expect(res.text).not.toContain('api-version=1');
      }
      await expect(api.app.get(PrismaService).tenantSetting.count({ where: { tenantId: tenant.id } })).resolves.toBe(0);
    });

    it.each(['2024-13', 'latest', '2024-10-21-beta', '24-10-21'])(
      'AZURE_OPENAI_API_VERSION = %j answers 400 INVALID_SETTING_VALUE',
      async (value) => {
        const tenant = await tenantWith({});
        const res = await api.request<ApiErrorBody>('PUT', `/v1/tenants/${tenant.id}/settings/AZURE_OPENAI_API_VERSION`, { body: { value } });
        expect([res.status, res.body.error.code]).toEqual([400, 'INVALID_SETTING_VALUE']);
      },
    );

    it('AZURE_OPENAI_API_VERSION takes a GA or preview version, and the calls carry it', async () => {
      const key = azureKey();
      const tenant = await tenantWith({ ...configured('azure-openai', key), AZURE_OPENAI_API_VERSION: '2025-04-01-preview' });
      const res = await api.request<{ status: string }>('POST', `/v1/tenants/${tenant.id}/settings/AZURE_OPENAI_API_KEY/validate`);
      expect([res.status, res.body.status]).toEqual([200, 'valid']);
      expect(simulator.requestsFor('azure-openai').map((r) => r.apiVersion)).toEqual(['2025-04-01-preview']);
    });
  });

  describe('backfills', () => {
    it.each([
      ['azure-openai', azureKey(), '/azure-openai/openai/deployments/gpt-4o-mini/chat/completions', 'gpt-4o-mini'],
      ['custom-openai', customKey(), '/custom-openai/v1/chat/completions', 'llama-3.1-8b-instruct'],
    ] as const)('%s: succeeds on the tenant endpoint with the tenant key only, and key_usage names the model', async (provider, key, path, model) => {
      const tenant = await tenantWith(configured(provider, key));
      const { workspace, job } = await backfillOf(tenant.id);

      expect(job).toMatchObject({ status: 'succeeded', provider, keySource: 'tenant', keyLast4: key.slice(-4), counters: { recordsProcessed: 6 } });
      const prisma = api.app.get(PrismaService);
      await expect(prisma.entity.count({ where: { workspaceId: workspace.id } })).resolves.toBeGreaterThan(0);
      // only the tenant's key, only at the tenant's endpoint, every completion on its deployment/model
      expect(simulator.keysSeen(provider)).toEqual([fingerprintForSimulator(key)]);
      expect(simulator.requests.filter((r) => r.provider !== provider)).toEqual([]);
      const completions = simulator.requestsFor(provider).filter((r) => r.path === path);
      expect(completions.length).toBeGreaterThanOrEqual(6);
      expect(new Set(completions.map((r) => r.model))).toEqual(new Set([model]));
      if (provider === 'azure-openai') {
        expect(simulator.requestsFor(provider).every((r) => r.headerNames.includes('api-key') && !r.headerNames.includes('authorization'))).toBe(
          true,
        );
        expect(new Set(simulator.requestsFor(provider).map((r) => r.apiVersion))).toEqual(new Set(['2024-10-21']));
      }
      const usage = await prisma.keyUsage.findMany({ where: { jobId: job.id } });
      expect(usage.length).toBeGreaterThan(0);
      expect(new Set(usage.map((u) => `${u.provider} ${u.model} ${u.keySource}`))).toEqual(new Set([`${provider} ${model} tenant`]));
      expect(usage.reduce((sum, u) => sum + u.calls, 0)).toBe(completions.length - (provider === 'azure-openai' ? 1 : 0));
      expect(keyEchoes('logs', api.logs.lines, [key])).toEqual([]);
    });
  });

  describe('AI jobs', () => {
    it.each([
      ['azure-openai', azureKey(), 'gpt-4o-mini'],
      ['custom-openai', customKey(), 'llama-3.1-8b-instruct'],
    ] as const)(
      '%s: an extraction job runs on the tenant endpoint with the tenant key, and its usage names the model',
      async (provider, key, model) => {
        const tenant = await tenantWith(configured(provider, key));
        const token = await api.newTenantToken(tenant.id);
        const started = await api.request<JobStarted>('POST', '/v1/ai/jobs/extract', {
          token,
          body: { text: 'Alice Johnson from Acme Corp met Bob Smith of Globex in Lisbon.' },
        });
        expect(started.status).toBe(202);
        let job: Json<AiJobView>;
        do {
          await new Promise((resolve) => setTimeout(resolve, 30));
          job = (await api.request<AiJobView>('GET', `/v1/ai/jobs/${started.body.jobId}`, { token })).body;
        } while (job.status === 'queued' || job.status === 'running');

        expect(job).toMatchObject({ status: 'succeeded', provider, keySource: 'tenant', usage: { model } });
        expect(simulator.keysSeen(provider)).toEqual([fingerprintForSimulator(key)]);
        expect(simulator.requests.filter((r) => r.provider !== provider)).toEqual([]);
      },
    );
  });

  describe('the pre-flight', () => {
    /** The job failed with `code` before fetching a record, and the simulator saw `requests` requests. */
    async function expectRefused(tenantId: string, code: string, requests = 0) {
      const { workspace, job } = await backfillOf(tenantId);
      expect(job).toMatchObject({ status: 'failed', failure: { code }, counters: NO_COUNTERS });
      expect(simulator.requests).toHaveLength(requests);
      await expect(api.app.get(PrismaService).entity.count({ where: { workspaceId: workspace.id } })).resolves.toBe(0);
      return job;
    }

    it.each([
      ['azure-openai', 'AZURE_OPENAI_ENDPOINT', azureKey()],
      ['azure-openai', 'AZURE_OPENAI_DEPLOYMENT', azureKey()],
      ['custom-openai', 'CUSTOM_OPENAI_BASE_URL', customKey()],
      ['custom-openai', 'CUSTOM_OPENAI_MODEL', customKey()],
    ] as const)('%s without %s fails PROVIDER_NOT_CONFIGURED naming it, with no request at all', async (provider, missing, key) => {
      const settings = configured(provider, key);
      delete settings[missing];
      const job = await expectRefused((await tenantWith(settings)).id, 'PROVIDER_NOT_CONFIGURED');
      expect(job.failure?.message).toContain(missing);
    });

    it('validating a key without the endpoint answers 422 PROVIDER_NOT_CONFIGURED and calls nothing', async () => {
      const settings = configured('azure-openai', azureKey());
      delete settings.AZURE_OPENAI_ENDPOINT;
      const tenant = await tenantWith(settings);
      const res = await api.request<ApiErrorBody>('POST', `/v1/tenants/${tenant.id}/settings/AZURE_OPENAI_API_KEY/validate`);
      expect([res.status, res.body.error.code]).toEqual([422, 'PROVIDER_NOT_CONFIGURED']);
      expect(res.body.error.message).toContain('AZURE_OPENAI_ENDPOINT');
      expect(simulator.requests).toEqual([]);
    });

    it.each(['azure-openai', 'custom-openai'] as const)('%s without a key fails NO_API_KEY', async (provider) => {
      const settings = configured(provider, 'unused');
      delete settings[provider === 'azure-openai' ? 'AZURE_OPENAI_API_KEY' : 'CUSTOM_OPENAI_API_KEY'];
      await expectRefused((await tenantWith(settings)).id, 'NO_API_KEY');
    });

    it.each(['azure-openai', 'custom-openai'] as const)(
      '%s for a managed tenant fails PLATFORM_KEY_MISSING (no platform key exists for it)',
      async (provider) => {
        const job = await expectRefused(
          (await tenantWith(configured(provider, azureKey()), { aiKeyMode: AiKeyMode.managed })).id,
          'PLATFORM_KEY_MISSING',
        );
        expect(job.failure?.message).toContain(provider);
      },
    );

    it.each([
      ['azure-openai', 'AZURE_OPENAI_DEPLOYMENT', azureKey()],
      ['custom-openai', 'CUSTOM_OPENAI_MODEL', customKey()],
    ] as const)('%s with a %s the endpoint does not serve fails MODEL_NOT_AVAILABLE after the one check', async (provider, setting, key) => {
      const job = await expectRefused(
        (await tenantWith({ ...configured(provider, key), [setting]: 'not-deployed-here' })).id,
        'MODEL_NOT_AVAILABLE',
        1,
      );
      expect(job.failure?.message).toContain('not-deployed-here');
      expect(job.failure?.message).toContain(setting);
    });

    it.each([
      ['azure-openai', 'AZURE_OPENAI_API_KEY', azureKey()],
      ['custom-openai', 'CUSTOM_OPENAI_API_KEY', customKey()],
    ] as const)('%s with a refused key fails INVALID_API_KEY and the setting is marked invalid', async (provider, setting, key) => {
      simulator.setValidKeys(provider, [`${key}-not-this-one`]);
      try {
        const tenant = await tenantWith(configured(provider, key));
        const job = await expectRefused(tenant.id, 'INVALID_API_KEY', 1);
        expect(job.failure?.message).toContain(setting);
        await expect(settingOf(tenant.id, setting)).resolves.toMatchObject({ validationStatus: 'invalid', validatedAt: expect.any(String) });
        expect(keyEchoes('job and logs', [JSON.stringify(job), ...api.logs.lines], [key])).toEqual([]);
      } finally {
        simulator.setValidKeys(provider, ['*']);
      }
    });
  });

  describe('POST /v1/tenants/:id/settings/AZURE_OPENAI_API_KEY/validate', () => {
    it('a working key is valid, with one one-token completion on the deployment carrying the key in api-key', async () => {
      const key = azureKey();
      const tenant = await tenantWith(configured('azure-openai', key));
      const res = await api.request<{ status: string; provider: string }>('POST', `/v1/tenants/${tenant.id}/settings/AZURE_OPENAI_API_KEY/validate`);

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'valid', provider: 'azure-openai', checkedAt: expect.any(String) });
      expect(simulator.requests.map((r) => [r.method, r.path, r.keyFingerprint, r.headerNames.includes('authorization')])).toEqual([
        ['POST', '/azure-openai/openai/deployments/gpt-4o-mini/chat/completions', fingerprintForSimulator(key), false],
      ]);
      await expect(settingOf(tenant.id, 'AZURE_OPENAI_API_KEY')).resolves.toMatchObject({ validationStatus: 'valid' });
    });

    it('a refused key is invalid, marked so, and never echoed', async () => {
      const key = azureKey();
      simulator.setValidKeys('azure-openai', [azureKey()]);
      try {
        const tenant = await tenantWith(configured('azure-openai', key));
        const res = await api.request<{ status: string; provider: string }>(
          'POST',
          `/v1/tenants/${tenant.id}/settings/AZURE_OPENAI_API_KEY/validate`,
        );

        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ status: 'invalid', provider: 'azure-openai' });
        await expect(settingOf(tenant.id, 'AZURE_OPENAI_API_KEY')).resolves.toMatchObject({ validationStatus: 'invalid' });
        expect(keyEchoes('response and logs', [res.text, ...api.logs.lines], [key])).toEqual([]);
      } finally {
        simulator.setValidKeys('azure-openai', ['*']);
      }
    });
  });

  describe('a name that resolves to a refused address (EGRESS_ALLOWED_CIDRS without 127.0.0.1)', () => {
    let strict: ApiHarness;

    beforeAll(async () => {
      strict = await ApiHarness.start({ ...simulatorEnv(urls), EGRESS_ALLOW_HTTP: 'true', EGRESS_ALLOWED_CIDRS: '' }, { worker: true });
    });
    afterAll(() => strict?.close());

    it('is accepted at save (names are judged at connect time), then the key check and a backfill end EGRESS_REFUSED with no request', async () => {
      const key = customKey();
      const byName = new URL(urls.customOpenAiBaseUrl);
      byName.hostname = 'localhost';
      const tenant = await tenantWith({ ...configured('custom-openai', key), CUSTOM_OPENAI_BASE_URL: byName.href }, { harness: strict });
      // the IP literal itself is refused at save on this API
      const literal = await put(strict, tenant.id, 'CUSTOM_OPENAI_BASE_URL', urls.customOpenAiBaseUrl);
      expect([literal.status, (literal.body as ApiErrorBody).error.code]).toEqual([400, 'EGRESS_REFUSED']);
      await expect(settingOf(tenant.id, 'CUSTOM_OPENAI_BASE_URL', strict)).resolves.toMatchObject({ value: byName.href });

      const validated = await strict.request<ApiErrorBody>('POST', `/v1/tenants/${tenant.id}/settings/CUSTOM_OPENAI_API_KEY/validate`);
      expect([validated.status, validated.body.error.code]).toEqual([400, 'EGRESS_REFUSED']);
      expect(validated.body.error.message).toContain('localhost');

      const { job } = await backfillOf(tenant.id, strict);
      expect(job).toMatchObject({ status: 'failed', failure: { code: 'EGRESS_REFUSED' }, counters: NO_COUNTERS });
      expect(simulator.requests).toEqual([]);
      // no verdict: the key was never shown to anyone
      await expect(settingOf(tenant.id, 'CUSTOM_OPENAI_API_KEY', strict)).resolves.toMatchObject({ validationStatus: 'unknown' });
      expect(keyEchoes('responses and logs', [validated.text, JSON.stringify(job), ...strict.logs.lines], [key])).toEqual([]);
    });
  });
});
