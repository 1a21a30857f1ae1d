import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { RequestKeySealer } from '#libs/byok';
import { AiJobStatus, PrismaService } from '#libs/database';
import { JobName, JobQueue } from '#libs/queue';
import { FAULT_MARKERS, ProviderSimulator, simulatorEnv } from '#libs/testing';
import type { AiJobView } from '../src/ai-jobs/ai-jobs.dto.js';
import { ApiHarness, type JobStarted } from './api-harness.js';

const TEXT = 'Alice Johnson from Acme Corp met Bob Smith about the renewal.';
const MAX_ATTEMPTS = 2;

/** AI jobs on the backfills' extraction path: every odd answer ends the job with its own code, and no job stays running. */
describe('AI jobs through odd model answers (e2e)', () => {
  const key = `sk-ai-faults-${randomBytes(12).toString('hex')}-3333`;
  const geminiKey = `AIza-ai-faults-${randomBytes(12).toString('hex')}-4444`;
  const simulator = new ProviderSimulator({ validKeys: { openai: [key], gemini: [geminiKey] } });
  let api: ApiHarness;
  let token: string;

  beforeAll(async () => {
    api = await ApiHarness.start(
      { ...simulatorEnv(await simulator.start()), PROVIDER_MAX_ATTEMPTS: String(MAX_ATTEMPTS), PROVIDER_RETRY_BASE_MS: '0', LOG_LEVEL: 'warn' },
      { worker: true },
    );
    const tenant = await api.newTenant();
    await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: key } });
    await api.request('PUT', `/v1/tenants/${tenant.id}/settings/GEMINI_API_KEY`, { body: { value: geminiKey } });
    token = await api.newTenantToken(tenant.id);
  });
  afterEach(() => simulator.reset());
  afterAll(async () => {
    await api.close();
    await simulator.stop();
  });

  async function finished(jobId: string) {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { body } = await api.request<AiJobView>('GET', `/v1/ai/jobs/${jobId}`, { token });
      if (body.status === 'succeeded' || body.status === 'failed') return body;
      if (Date.now() > deadline) throw new Error(`AI job still ${body.status}`);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
  }

  const extract = async (text: string, provider = 'openai') =>
    finished((await api.request<JobStarted>('POST', '/v1/ai/jobs/extract', { token, body: { text, provider } })).body.jobId);

  it.each([
    ['openai', FAULT_MARKERS.refusal, 'EXTRACTION_REFUSED'],
    ['openai', FAULT_MARKERS.safety, 'CONTENT_BLOCKED'],
    ['openai', FAULT_MARKERS.truncated, 'EXTRACTION_TRUNCATED'],
    ['openai', FAULT_MARKERS.notJson, 'EXTRACTION_UNPARSABLE'],
    ['openai', FAULT_MARKERS.wrongShape, 'EXTRACTION_INVALID'],
    ['gemini', FAULT_MARKERS.blocked, 'CONTENT_BLOCKED'],
    ['gemini', FAULT_MARKERS.truncated, 'EXTRACTION_TRUNCATED'],
  ])('%s %s ends the job failed with %s, after one completion call', async (provider, marker, code) => {
    const job = await extract(`${TEXT} ${marker}`, provider);
    expect(job).toMatchObject({ status: 'failed', error: { code }, result: null });
    expect(job.error!.message).toContain(provider);
    // besides the pre-flight's key check (a GET of the model list, its verdict cached for later jobs)
    expect(simulator.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('repairs what can be repaired: prose, trailing commas, null descriptions', async () => {
    for (const marker of [FAULT_MARKERS.prose, FAULT_MARKERS.trailingCommas, FAULT_MARKERS.nullDescription]) {
      const job = await extract(`${TEXT} ${marker}`);
      expect(job.status).toBe('succeeded');
      expect(JSON.stringify(job.result)).toContain('Alice Johnson');
    }
  });

  it('ends PROVIDER_UNAVAILABLE after the tries when a 200 carries an error object instead of an answer', async () => {
    const job = await extract(`${TEXT} ${FAULT_MARKERS.errorBody}`);
    expect(job).toMatchObject({ status: 'failed', error: { code: 'PROVIDER_UNAVAILABLE' } });
    expect(simulator.requests).toHaveLength(MAX_ATTEMPTS);
  });

  it('never stays running once its queue job has ended: a sealed key that does not open fails it at once', async () => {
    // an AI job whose payload carries a key sealed to another job: it can never open
    const tenantId = (await tenantOfToken()).id;
    const { id: otherId } = await api.app.get(PrismaService).aiJob.create({ data: { tenantId, type: 'extract', input: { text: TEXT } } });
    const { id } = await api.app
      .get(PrismaService)
      .aiJob.create({ data: { tenantId: (await tenantOfToken()).id, type: 'extract', input: { text: TEXT } } });
    const sealer = api.app.get(RequestKeySealer);
    await api.app
      .get(JobQueue)
      .enqueue(JobName.AiExtract, { aiJobId: id, sealedKey: sealer.seal({ provider: 'openai', key }, { jobId: otherId, tenantId }) });

    // its own code at once (an untyped throw would have been retried, then ended INTERNAL_ERROR)
    const job = await finished(id);
    expect(job).toMatchObject({ status: AiJobStatus.failed, error: { code: 'KEY_DECRYPTION_FAILED' } });
    expect(simulator.requests).toEqual([]);
  });

  async function tenantOfToken() {
    return (await api.request<{ tenant: { id: string } }>('GET', '/v1/me', { token })).body.tenant;
  }
});
