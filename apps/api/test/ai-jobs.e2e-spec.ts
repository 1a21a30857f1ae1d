import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { AiKeyMode, PlanType } from '#libs/database';
import type { ExtractionAnswer } from '#libs/graphrag';
import { fingerprintForSimulator, ProviderSimulator, simulatorEnv } from '#libs/testing';
import type { AiJobView } from '../src/ai-jobs/ai-jobs.dto.js';
import { type ApiErrorBody, ApiHarness, type JobStarted } from './api-harness.js';
import { keyEchoes } from './key-echo.js';

const TEXT = 'Alice Johnson from Acme Corp met Bob Smith about the renewal.';

/** The seed plan's verification steps and the key policy for AI jobs, over HTTP with a real worker. */
describe('AI jobs with request-scoped BYOK headers (e2e)', () => {
  const openaiRequestKey = `sk-req-${randomBytes(12).toString('hex')}-oai1`;
  const geminiRequestKey = `AIza-req-${randomBytes(16).toString('hex')}-gem1`;
  const anthropicRequestKey = `sk-ant-api03-req-${randomBytes(16).toString('hex')}-ant1`;
  const tenantKey = `sk-tenant-${randomBytes(12).toString('hex')}-ten1`;
  const platformKey = `sk-platform-${randomBytes(12).toString('hex')}-plat`;
  const simulator = new ProviderSimulator({
    validKeys: {
      openai: [openaiRequestKey, tenantKey, platformKey],
      gemini: [geminiRequestKey],
      deepseek: [platformKey],
      anthropic: [anthropicRequestKey],
    },
  });
  let api: ApiHarness;

  beforeAll(async () => {
    api = await ApiHarness.start(
      { ...simulatorEnv(await simulator.start()), PLATFORM_OPENAI_API_KEY: platformKey, CORS_ORIGINS: 'https://app.example' },
      { worker: true },
    );
  });
  beforeEach(() => simulator.clear());
  afterAll(async () => {
    await api.close();
    await simulator.stop();
  });

  async function tenantToken(aiKeyMode: AiKeyMode = AiKeyMode.byok, openaiKey?: string) {
    const tenant = await api.newTenant({ aiKeyMode });
    if (openaiKey) await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: openaiKey } });
    return { tenant, token: await api.newTenantToken(tenant.id) };
  }

  /** Starts an extraction; `T` is the answer expected, `ApiErrorBody` for a refusal. */
  async function extract<T = JobStarted>(token: string, headers: Record<string, string> = {}, body: Record<string, unknown> = { text: TEXT }) {
    return api.request<T>('POST', '/v1/ai/jobs/extract', { token, headers, body });
  }

  async function finished(token: string, jobId: string) {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const { body } = await api.request<AiJobView>('GET', `/v1/ai/jobs/${jobId}`, { token });
      if (body.status === 'succeeded' || body.status === 'failed') return body;
      if (Date.now() > deadline) throw new Error(`AI job still ${body.status}`);
      await new Promise((r) => setTimeout(r, 30));
    }
  }

  it('step 1: an OpenAI request key runs the job with that key', async () => {
    const { token } = await tenantToken(AiKeyMode.byok, tenantKey);
    const res = await extract(token, { 'X-User-Provider': 'openai', 'X-User-Api-Key': openaiRequestKey });
    expect(res.status).toBe(202);

    const job = await finished(token, res.body.jobId);

    expect(job).toMatchObject({ status: 'succeeded', provider: 'openai', keySource: 'request', error: null });
    expect((job.result as ExtractionAnswer).entities).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'Acme Corp', type: 'organization' })]),
    );
    expect(simulator.keysSeen('openai')).toEqual([fingerprintForSimulator(openaiRequestKey)]);
  });

  it('step 2: a Gemini request key runs the job on Gemini with that key', async () => {
    const { token } = await tenantToken(AiKeyMode.byok, tenantKey);
    const res = await extract(token, { 'X-User-Provider': 'gemini', 'X-User-Api-Key': geminiRequestKey });
    const job = await finished(token, res.body.jobId);
    expect(job).toMatchObject({ status: 'succeeded', provider: 'gemini', keySource: 'request' });
    expect(simulator.keysSeen('gemini')).toEqual([fingerprintForSimulator(geminiRequestKey)]);
    expect(simulator.requestsFor('openai')).toEqual([]);
  });

  it('step 2, for Anthropic: an Anthropic request key runs the job on Anthropic with that key', async () => {
    const { token } = await tenantToken(AiKeyMode.byok, tenantKey);
    const res = await extract(token, { 'X-User-Provider': 'Anthropic', 'X-User-Api-Key': anthropicRequestKey });
    const job = await finished(token, res.body.jobId);
    expect(job).toMatchObject({ status: 'succeeded', provider: 'anthropic', keySource: 'request', error: null });
    expect((job.result as ExtractionAnswer).entities).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Acme Corp' })]));
    expect(simulator.keysSeen('anthropic')).toEqual([fingerprintForSimulator(anthropicRequestKey)]);
    expect(simulator.requests.filter((r) => r.provider !== 'anthropic')).toEqual([]);
  });

  it("step 3: without headers a byok tenant's own key is used, and a managed tenant's platform key", async () => {
    const byok = await tenantToken(AiKeyMode.byok, tenantKey);
    const byokJob = await finished(byok.token, (await extract(byok.token)).body.jobId);
    expect(byokJob).toMatchObject({ status: 'succeeded', keySource: 'tenant' });

    const managed = await tenantToken(AiKeyMode.managed);
    const managedJob = await finished(managed.token, (await extract(managed.token)).body.jobId);
    expect(managedJob).toMatchObject({ status: 'succeeded', keySource: 'platform' });

    expect(simulator.keysSeen('openai')).toEqual([fingerprintForSimulator(tenantKey), fingerprintForSimulator(platformKey)]);
  });

  it('step 4: one header alone answers 400 BYOK_HEADERS_INCOMPLETE and creates no job', async () => {
    const { tenant, token } = await tenantToken();
    for (const headers of [{ 'X-User-Provider': 'openai' }, { 'X-User-Api-Key': openaiRequestKey }] as Record<string, string>[]) {
      const res = await extract<ApiErrorBody>(token, headers);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('BYOK_HEADERS_INCOMPLETE');
      expect(keyEchoes('response', [res.text], [openaiRequestKey])).toEqual([]);
    }
    const { PrismaService } = await import('#libs/database');
    await expect(api.app.get(PrismaService).aiJob.count({ where: { tenantId: tenant.id } })).resolves.toBe(0);
  });

  it('answers 400 for an unknown provider or a malformed key, on AI jobs and backfills alike', async () => {
    const { tenant, token } = await tenantToken();
    const workspace = await api.newWorkspace(tenant.id);
    const cases = [
      [{ 'X-User-Provider': 'mistral', 'X-User-Api-Key': openaiRequestKey }, 'BYOK_PROVIDER_UNKNOWN'],
      [{ 'X-User-Provider': 'openai', 'X-User-Api-Key': 'sk-with space-inside' }, 'BYOK_KEY_INVALID'],
      [{ 'X-User-Provider': 'openai', 'X-User-Api-Key': 'k'.repeat(513) }, 'BYOK_KEY_INVALID'],
    ] as const;
    for (const [headers, code] of cases) {
      expect((await extract<ApiErrorBody>(token, headers)).body.error.code).toBe(code);
      const backfill = await api.request<ApiErrorBody>('POST', `/v1/workspaces/${workspace.id}/backfills`, { token, headers, body: {} });
      expect(backfill.status).toBe(400);
      expect(backfill.body.error.code).toBe(code);
    }
  });

  it('fails a byok tenant without a key with NO_API_KEY, and never uses the platform key', async () => {
    const { tenant, token } = await tenantToken(AiKeyMode.byok);
    const job = await finished(token, (await extract(token)).body.jobId);
    expect(job).toMatchObject({
      status: 'failed',
      error: {
        code: 'NO_API_KEY',
        message: `Skipping AI job: tenant ${tenant.subdomain} has no valid OPENAI_API_KEY. Add the key on the Provider keys page.`,
      },
    });
    expect(simulator.requests).toEqual([]);
  });

  it('fails gemini with no key anywhere, and never falls back to another provider', async () => {
    const { token } = await tenantToken(AiKeyMode.byok, tenantKey);
    const job = await finished(token, (await extract(token, {}, { text: TEXT, provider: 'gemini' })).body.jobId);
    expect(job).toMatchObject({ status: 'failed', error: { code: 'NO_API_KEY' }, result: null });
    expect(simulator.requests).toEqual([]);
  });

  it.each(['gemini', 'anthropic'])('fails a managed tenant with PLATFORM_KEY_MISSING when %s has no platform key', async (provider) => {
    const { token } = await tenantToken(AiKeyMode.managed);
    const job = await finished(token, (await extract(token, {}, { text: TEXT, provider })).body.jobId);
    expect(job).toMatchObject({ status: 'failed', error: { code: 'PLATFORM_KEY_MISSING' } });
    expect(simulator.requests).toEqual([]);
  });

  it('fails anthropic with no key anywhere, and never falls back to another provider', async () => {
    const { tenant, token } = await tenantToken(AiKeyMode.byok, tenantKey);
    const job = await finished(token, (await extract(token, {}, { text: TEXT, provider: 'anthropic' })).body.jobId);
    expect(job).toMatchObject({
      status: 'failed',
      error: {
        code: 'NO_API_KEY',
        message: `Skipping AI job: tenant ${tenant.subdomain} has no valid ANTHROPIC_API_KEY. Add the key on the Provider keys page.`,
      },
      result: null,
    });
    expect(simulator.requests).toEqual([]);
  });

  it('fails with INVALID_API_KEY when the provider refuses a request key', async () => {
    const { token } = await tenantToken(AiKeyMode.byok, tenantKey);
    const refused = `sk-refused-${randomBytes(12).toString('hex')}`;
    const job = await finished(token, (await extract(token, { 'X-User-Provider': 'openai', 'X-User-Api-Key': refused })).body.jobId);
    expect(job).toMatchObject({ status: 'failed', error: { code: 'INVALID_API_KEY' } });
    expect(simulator.keysSeen('openai')).toEqual([fingerprintForSimulator(refused)]);
  });

  describe("the pre-flight every job runs (the backfills' one)", () => {
    it('refuses a free-plan tenant PLAN_NOT_ELIGIBLE before any provider call: a managed one never spends the platform key', async () => {
      const tenant = await api.newTenant({ aiKeyMode: AiKeyMode.managed, planType: PlanType.free });
      const token = await api.newTenantToken(tenant.id);
      const job = await finished(token, (await extract(token)).body.jobId);
      expect(job).toMatchObject({
        status: 'failed',
        error: {
          code: 'PLAN_NOT_ELIGIBLE',
          message: `Skipping AI job: tenant ${tenant.subdomain} is on the free plan, which has no knowledge-graph extraction. Upgrade to team or enterprise.`,
        },
      });
      expect(simulator.requests).toEqual([]);
    });

    it.each(['test', 'changeme', 'your-api-key', `sk-${'x'.repeat(48)}`, `mock-${randomBytes(12).toString('hex')}`])(
      'never sends the placeholder key %s to a provider, as request key or as the stored key',
      async (placeholder) => {
        const { tenant, token } = await tenantToken(AiKeyMode.byok);
        const viaHeaders = await extract<JobStarted | ApiErrorBody>(token, { 'X-User-Provider': 'openai', 'X-User-Api-Key': placeholder });
        // refused at the door (400) or by the pre-flight in the worker: either way before any call
        if (viaHeaders.status === 202) {
          const job = await finished(token, (viaHeaders.body as JobStarted).jobId);
          expect(job).toMatchObject({ status: 'failed', error: { code: 'INVALID_API_KEY' } });
        } else {
          expect(viaHeaders.status).toBe(400);
        }
        const stored = await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: placeholder } });
        if (stored.status === 200) {
          const job = await finished(token, (await extract(token)).body.jobId);
          expect(job).toMatchObject({ status: 'failed', error: { code: 'INVALID_API_KEY', message: expect.stringContaining('Skipping AI job') } });
        } else {
          expect(stored.status).toBe(400);
        }
        expect(simulator.requests).toEqual([]);
      },
    );

    it.each(['sk-ant-xxx', 'your-key-here', `sk-ant-api03-${'x'.repeat(60)}`])(
      'never sends the Anthropic placeholder %s to Anthropic',
      async (placeholder) => {
        const { token } = await tenantToken(AiKeyMode.byok);
        const res = await extract<JobStarted | ApiErrorBody>(token, { 'X-User-Provider': 'anthropic', 'X-User-Api-Key': placeholder });
        if (res.status === 202) {
          const job = await finished(token, (res.body as JobStarted).jobId);
          expect(job).toMatchObject({ status: 'failed', error: { code: 'INVALID_API_KEY' } });
        } else {
          expect(res.status).toBe(400);
        }
        expect(simulator.requests).toEqual([]);
      },
    );

    it('fails at once with an Anthropic key Anthropic refuses: one GET /v1/models, no message sent', async () => {
      const { tenant, token } = await tenantToken(AiKeyMode.byok);
      await api.request('PUT', `/v1/tenants/${tenant.id}/settings/ANTHROPIC_API_KEY`, {
        body: { value: `sk-ant-api03-refused-${randomBytes(16).toString('hex')}-bad2` },
      });
      const job = await finished(token, (await extract(token, {}, { text: TEXT, provider: 'anthropic' })).body.jobId);
      expect(job).toMatchObject({ status: 'failed', error: { code: 'INVALID_API_KEY', message: expect.stringContaining('rejected by anthropic') } });
      expect(simulator.requests.map((r) => [r.provider, r.path])).toEqual([['anthropic', '/anthropic/v1/models/claude-haiku-4-5']]);
    });

    it('fails at once with a stored key the provider refuses: one key check, no completion with the text', async () => {
      const { token } = await tenantToken(AiKeyMode.byok, `sk-refused-${randomBytes(12).toString('hex')}-bad1`);
      const job = await finished(token, (await extract(token)).body.jobId);
      expect(job).toMatchObject({ status: 'failed', error: { code: 'INVALID_API_KEY', message: expect.stringContaining('Skipping AI job') } });
      expect(simulator.requestsFor('openai').map((r) => r.path)).toEqual(['/openai/v1/models']);
    });
  });

  it("answers 404 for another tenant's job", async () => {
    const mine = await tenantToken(AiKeyMode.byok, tenantKey);
    const theirs = await tenantToken(AiKeyMode.byok, tenantKey);
    const jobId = (await extract(theirs.token)).body.jobId;
    expect((await api.request('GET', `/v1/ai/jobs/${jobId}`, { token: mine.token })).status).toBe(404);
  });

  it('allows the BYOK headers from configured origins only (CORS)', async () => {
    const preflight = await fetch(`${api.baseUrl}/v1/ai/jobs/extract`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,x-user-provider,x-user-api-key',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const allowed = (preflight.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(',');
    expect(allowed).toEqual(expect.arrayContaining(['authorization', 'x-api-key', 'x-user-provider', 'x-user-api-key']));

    const stranger = await fetch(`${api.baseUrl}/v1/ai/jobs/extract`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
  });
});
