import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { AiKeyMode, PrismaService } from '#libs/database';
import { emailRecords, fingerprintForSimulator, ProviderSimulator, simulatorEnv } from '#libs/testing';
import type { AiJobView } from '../src/ai-jobs/ai-jobs.dto.js';
import { type ApiErrorBody, ApiHarness, type JobStarted } from './api-harness.js';

const TEXT = 'Alice Johnson from Acme Corp met Bob Smith of Globex about the renewal in Lisbon.';
const TENANT_MODEL = 'gpt-4.1-mini';
const DEFAULT_MODEL = 'gpt-4o-mini';

/**
 * A model per tenant and provider (`OPENAI_MODEL` and the like): a tenant's backfills and AI jobs send
 * its model to the provider and key_usage names it, while another tenant on the same worker keeps the
 * default; the estimate names the model and says when the price table has no price for it; bad values 400.
 */
describe('A model per tenant (e2e, in-process worker, provider simulator)', () => {
  const simulator = new ProviderSimulator({ validKeys: { openai: ['*'] }, models: { openai: [DEFAULT_MODEL, TENANT_MODEL] } });
  let api: ApiHarness;

  beforeAll(async () => {
    api = await ApiHarness.start(
      {
        ...simulatorEnv(await simulator.start()),
        SYNC_PAGE_SIZE: '4',
        PLATFORM_OPENAI_API_KEY: `sk-platform-${randomBytes(12).toString('hex')}-plat`,
      },
      { worker: true },
    );
  });
  beforeEach(() => simulator.clear());
  afterAll(async () => {
    await api?.close();
    await simulator.stop();
  });

  async function tenantWith(settings: Record<string, string>, options: Parameters<ApiHarness['newTenant']>[0] = undefined) {
    const key = `sk-model-${randomBytes(16).toString('hex')}-mdl`;
    const tenant = await api.newTenant(options);
    for (const [setting, value] of Object.entries({ OPENAI_API_KEY: key, ...settings })) {
      expect((await api.request('PUT', `/v1/tenants/${tenant.id}/settings/${setting}`, { body: { value } })).status).toBe(200);
    }
    return { tenant, key };
  }

  /** The models the simulator was asked for with a key, completions only. */
  const modelsAtSimulator = (key: string) => [...new Set(simulator.usageReported(fingerprintForSimulator(key)).map((a) => a.model))];

  async function modelsInKeyUsage(jobId: string) {
    const rows = await api.app.get(PrismaService).keyUsage.findMany({ where: { jobId } });
    return [...new Set(rows.map((r) => r.model))];
  }

  async function backfillOf(tenantId: string) {
    const workspace = await api.newWorkspace(tenantId);
    expect((await api.request('POST', `/v1/workspaces/${workspace.id}/records`, { body: emailRecords(6) })).status).toBe(200);
    const started = await api.request<JobStarted>('POST', `/v1/workspaces/${workspace.id}/backfills`, { body: {} });
    return api.waitForBackfill(started.body.jobId);
  }

  async function aiJobOf(tenantId: string) {
    const token = await api.newTenantToken(tenantId);
    const started = await api.request<JobStarted>('POST', '/v1/ai/jobs/extract', { token, body: { text: TEXT } });
    expect(started.status).toBe(202);
    for (;;) {
      const job = (await api.request<AiJobView>('GET', `/v1/ai/jobs/${started.body.jobId}`, { token })).body;
      if (job.status === 'succeeded' || job.status === 'failed') return job;
      await new Promise((r) => setTimeout(r, 30));
    }
  }

  it("a tenant's backfill sends its OPENAI_MODEL and key_usage names it; another tenant on the same worker keeps the default", async () => {
    const custom = await tenantWith({ OPENAI_MODEL: TENANT_MODEL });
    const plain = await tenantWith({});
    const [customJob, plainJob] = await Promise.all([backfillOf(custom.tenant.id), backfillOf(plain.tenant.id)]);

    expect([customJob.status, plainJob.status]).toEqual(['succeeded', 'succeeded']);
    expect(modelsAtSimulator(custom.key)).toEqual([TENANT_MODEL]);
    expect(modelsAtSimulator(plain.key)).toEqual([DEFAULT_MODEL]);
    await expect(modelsInKeyUsage(customJob.id)).resolves.toEqual([TENANT_MODEL]);
    await expect(modelsInKeyUsage(plainJob.id)).resolves.toEqual([DEFAULT_MODEL]);
  });

  it("a tenant's AI job sends its model, and its usage names it", async () => {
    const { tenant, key } = await tenantWith({ OPENAI_MODEL: TENANT_MODEL });
    const job = await aiJobOf(tenant.id);
    expect(job.status).toBe('succeeded');
    expect(modelsAtSimulator(key)).toEqual([TENANT_MODEL]);
    expect(job.usage).toMatchObject({ model: TENANT_MODEL });
    await expect(modelsInKeyUsage(job.id)).resolves.toEqual([TENANT_MODEL]);
  });

  it("a managed tenant's calls on the platform key use the tenant's model", async () => {
    const tenant = await api.newTenant({ aiKeyMode: AiKeyMode.managed });
    expect((await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_MODEL`, { body: { value: TENANT_MODEL } })).status).toBe(200);
    const job = await aiJobOf(tenant.id);
    expect(job.status).toBe('succeeded');
    expect(simulator.usageReported().map((a) => a.model)).toEqual([TENANT_MODEL]);
    await expect(modelsInKeyUsage(job.id)).resolves.toEqual([TENANT_MODEL]);
  });

  it('the estimate names the tenant model, and says when the price table has no price for it (cost 0)', async () => {
    const custom = await tenantWith({ OPENAI_MODEL: TENANT_MODEL });
    const plain = await tenantWith({});
    const estimateOf = async (tenantId: string) => {
      const workspace = await api.newWorkspace(tenantId);
      expect((await api.request('POST', `/v1/workspaces/${workspace.id}/records`, { body: emailRecords(3) })).status).toBe(200);
      const res = await api.request<{ model: string; priced: boolean; estimatedCostMicroUsd: number }>(
        'POST',
        `/v1/workspaces/${workspace.id}/backfills/estimate`,
        { body: {} },
      );
      expect(res.status).toBe(200);
      return res.body;
    };
    await expect(estimateOf(custom.tenant.id)).resolves.toMatchObject({ model: TENANT_MODEL, priced: false, estimatedCostMicroUsd: 0 });
    const priced = await estimateOf(plain.tenant.id);
    expect(priced).toMatchObject({ model: DEFAULT_MODEL, priced: true });
    expect(priced.estimatedCostMicroUsd).toBeGreaterThan(0);
  });

  it.each([
    ['OPENAI_MODEL', 'gpt 4o'],
    ['GEMINI_MODEL', '../../v1/files'],
    ['DEEPSEEK_MODEL', 'd'.repeat(129)],
    ['ANTHROPIC_MODEL', 'claude"; drop'],
  ])('%s = %j answers 400 INVALID_SETTING_VALUE and stores nothing', async (setting, value) => {
    const tenant = await api.newTenant();
    const res = await api.request<ApiErrorBody>('PUT', `/v1/tenants/${tenant.id}/settings/${setting}`, { body: { value } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_SETTING_VALUE');
    await expect(api.app.get(PrismaService).tenantSetting.count({ where: { tenantId: tenant.id } })).resolves.toBe(0);
  });

  it('validating a key with a model the provider does not list answers 422 MODEL_NOT_AVAILABLE naming the model, never the key', async () => {
    const { tenant, key } = await tenantWith({ OPENAI_MODEL: 'gpt-unlisted-1' });
    const res = await api.request<ApiErrorBody>('POST', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY/validate`);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('MODEL_NOT_AVAILABLE');
    expect(res.body.error.message).toContain('gpt-unlisted-1');
    expect(JSON.stringify(res.body)).not.toContain(key.slice(-12));

    // a model the provider lists: the same key is valid
    expect((await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_MODEL`, { body: { value: TENANT_MODEL } })).status).toBe(200);
    const listed = await api.request<{ status: string }>('POST', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY/validate`);
    expect(listed.status).toBe(200);
    expect(listed.body.status).toBe('valid');
  });

  it('a backfill and an AI job with a model the provider does not list fail at the pre-flight, before any completion', async () => {
    const { tenant, key } = await tenantWith({ OPENAI_MODEL: 'gpt-unlisted-2' });
    const backfill = await backfillOf(tenant.id);
    expect(backfill.status).toBe('failed');
    expect(JSON.stringify(backfill)).toContain('MODEL_NOT_AVAILABLE');
    const job = await aiJobOf(tenant.id);
    expect(job.status).toBe('failed');
    expect(JSON.stringify(job)).toContain('MODEL_NOT_AVAILABLE');
    expect(JSON.stringify(job)).toContain('gpt-unlisted-2');
    expect(simulator.usageReported(fingerprintForSimulator(key))).toEqual([]);
    expect(simulator.requestsFor('openai').filter((r) => r.method === 'POST')).toEqual([]);
  });
});
