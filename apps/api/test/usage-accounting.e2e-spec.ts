import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { costMicroUsd, DEFAULT_PRICE_TABLE, type PriceTable } from '#libs/config';
import { AiKeyMode, PrismaService } from '#libs/database';
import { emailRecords, fingerprintForSimulator, ProviderSimulator, simulatorEnv } from '#libs/testing';
import type { AiJobView } from '../src/ai-jobs/ai-jobs.dto.js';
import { ApiHarness, type JobStarted } from './api-harness.js';

const TEXT = 'Alice Johnson from Acme Corp met Bob Smith of Globex about the renewal in Lisbon.';
const MODELS = { openai: 'gpt-4o-mini', gemini: 'gemini-2.0-flash', anthropic: 'claude-haiku-4-5' } as const;
type Provider = keyof typeof MODELS;
const KEY_PREFIXES: Record<Provider, string> = { openai: 'sk-usage-', gemini: 'AIza-usage-', anthropic: 'sk-ant-api03-usage-' };

/**
 * Token accounting against what the provider simulator reported, answer by answer: the job's usage in
 * its API answer, key_usage and the daily rollup all add up to exactly the simulator's figures, for
 * OpenAI, Gemini and Anthropic, backfills (several pages) and AI jobs, and the cost is the price table's.
 */
describe('Token accounting (e2e, in-process worker, provider simulator)', () => {
  const simulator = new ProviderSimulator({ validKeys: { openai: ['*'], gemini: ['*'], anthropic: ['*'] } });
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

  const keyFor = (provider: Provider) => `${KEY_PREFIXES[provider]}${randomBytes(16).toString('hex')}-acct`;

  async function tenantWithKey(provider: Provider) {
    const key = keyFor(provider);
    const tenant = await api.newTenant();
    await api.request('PUT', `/v1/tenants/${tenant.id}/settings/${provider.toUpperCase()}_API_KEY`, { body: { value: key } });
    if (provider !== 'openai') await api.request('PUT', `/v1/tenants/${tenant.id}/settings/GRAPHRAG_PROVIDER`, { body: { value: provider } });
    return { tenant, key };
  }

  /** The simulator's completions for a key, summed, with their count. */
  function reported(key: string) {
    const answers = simulator.usageReported(fingerprintForSimulator(key));
    return {
      calls: answers.length,
      inputTokens: answers.reduce((sum, a) => sum + a.inputTokens, 0),
      outputTokens: answers.reduce((sum, a) => sum + a.outputTokens, 0),
      models: [...new Set(answers.map((a) => a.model))],
    };
  }

  async function stored(jobId: string) {
    const prisma = api.app.get(PrismaService);
    const rows = await prisma.keyUsage.findMany({ where: { jobId } });
    return {
      calls: rows.reduce((sum, r) => sum + r.calls, 0),
      inputTokens: rows.reduce((sum, r) => sum + Number(r.inputTokens), 0),
      outputTokens: rows.reduce((sum, r) => sum + Number(r.outputTokens), 0),
      costMicroUsd: rows.reduce((sum, r) => sum + Number(r.costMicroUsd), 0),
      models: [...new Set(rows.map((r) => r.model))],
      rows: rows.length,
    };
  }

  async function daily(tenantId: string) {
    const rows = await api.app.get(PrismaService).usageDaily.findMany({ where: { tenantId } });
    return {
      calls: rows.reduce((sum, r) => sum + Number(r.calls), 0),
      inputTokens: rows.reduce((sum, r) => sum + Number(r.inputTokens), 0),
      outputTokens: rows.reduce((sum, r) => sum + Number(r.outputTokens), 0),
      costMicroUsd: rows.reduce((sum, r) => sum + Number(r.costMicroUsd), 0),
    };
  }

  const prices: PriceTable = DEFAULT_PRICE_TABLE;

  for (const provider of ['openai', 'gemini', 'anthropic'] as const) {
    it(`${provider}: a backfill of three pages records exactly the tokens the provider reported`, async () => {
      const { tenant, key } = await tenantWithKey(provider);
      const workspace = await api.newWorkspace(tenant.id);
      const records = emailRecords(10);
      expect((await api.request('POST', `/v1/workspaces/${workspace.id}/records`, { body: records })).status).toBe(200);

      const started = await api.request<JobStarted>('POST', `/v1/workspaces/${workspace.id}/backfills`, { body: {} });
      const job = await api.waitForBackfill(started.body.jobId);

      expect(job.status).toBe('succeeded');
      const sim = reported(key);
      expect(sim.calls).toBe(10);
      expect(sim.models).toEqual([MODELS[provider]]);
      const rows = await stored(job.id);
      // one key_usage row per page (4 + 4 + 2 records), the tokens summed exactly
      expect(rows).toEqual({
        calls: sim.calls,
        inputTokens: sim.inputTokens,
        outputTokens: sim.outputTokens,
        costMicroUsd: expect.any(Number),
        models: [MODELS[provider]],
        rows: 3,
      });
      expect(sim.inputTokens).toBeGreaterThan(0);
      expect(sim.outputTokens).toBeGreaterThan(0);
      expect(job.usage).toEqual({
        inputTokens: sim.inputTokens,
        outputTokens: sim.outputTokens,
        costMicroUsd: rows.costMicroUsd,
        model: MODELS[provider],
      });
      // priced per page: each page's cost rounds on its own, so the job's is within a micro-USD per page of the whole
      expect(Math.abs(rows.costMicroUsd - costMicroUsd(prices, provider, MODELS[provider], sim.inputTokens, sim.outputTokens))).toBeLessThanOrEqual(
        3,
      );
      expect(await daily(tenant.id)).toEqual({
        calls: sim.calls,
        inputTokens: sim.inputTokens,
        outputTokens: sim.outputTokens,
        costMicroUsd: rows.costMicroUsd,
      });
    });

    it(`${provider}: an AI job records exactly the tokens the provider reported, and shows them`, async () => {
      const { tenant, key } = await tenantWithKey(provider);
      const token = await api.newTenantToken(tenant.id);
      const started = await api.request<JobStarted>('POST', '/v1/ai/jobs/extract', { token, body: { text: TEXT } });
      expect(started.status).toBe(202);
      let job: { status: string; usage: AiJobView['usage'] };
      for (;;) {
        job = (await api.request<AiJobView>('GET', `/v1/ai/jobs/${started.body.jobId}`, { token })).body;
        if (job.status === 'succeeded' || job.status === 'failed') break;
        await new Promise((r) => setTimeout(r, 30));
      }
      expect(job.status).toBe('succeeded');
      const sim = reported(key);
      expect(sim.calls).toBe(1);
      const cost = costMicroUsd(prices, provider, MODELS[provider], sim.inputTokens, sim.outputTokens);
      expect(job.usage).toEqual({ inputTokens: sim.inputTokens, outputTokens: sim.outputTokens, costMicroUsd: cost, model: MODELS[provider] });
      expect(await stored(started.body.jobId)).toMatchObject({
        calls: 1,
        inputTokens: sim.inputTokens,
        outputTokens: sim.outputTokens,
        costMicroUsd: cost,
      });
    });
  }

  for (const provider of ['openai', 'gemini', 'anthropic'] as const) {
    it(`${provider}: unusable answers (refused, blocked, truncated and split, not JSON) are billed, so counted too`, async () => {
      const { tenant, key } = await tenantWithKey(provider);
      const workspace = await api.newWorkspace(tenant.id);
      const markers = ['[[sim:refusal]]', '[[sim:safety]]', '[[sim:blocked]]', '[[sim:not-json]]', '[[sim:prose]]', '[[sim:truncate-above:300]]'];
      const records = emailRecords(8).map((r, i) =>
        i < markers.length ? { ...r, body: `${r.body} ${'More words about the plan. '.repeat(i === 5 ? 30 : 1)}${markers[i]}` } : r,
      );
      expect((await api.request('POST', `/v1/workspaces/${workspace.id}/records`, { body: records })).status).toBe(200);
      const started = await api.request<JobStarted>('POST', `/v1/workspaces/${workspace.id}/backfills`, { body: {} });
      const job = await api.waitForBackfill(started.body.jobId);
      expect(job.status).toBe('succeeded');
      expect(job.counters.recordsFailed).toBeGreaterThanOrEqual(3);
      const sim = reported(key);
      // more answers than records: the truncated record was split and sent again in halves
      expect(sim.calls).toBeGreaterThan(8);
      expect(await stored(job.id)).toMatchObject({ calls: sim.calls, inputTokens: sim.inputTokens, outputTokens: sim.outputTokens });
    });
  }

  it("a managed tenant's calls on the platform key are accounted the same way (key_source platform)", async () => {
    const tenant = await api.newTenant({ aiKeyMode: AiKeyMode.managed });
    const token = await api.newTenantToken(tenant.id);
    const started = await api.request<JobStarted>('POST', '/v1/ai/jobs/extract', { token, body: { text: TEXT } });
    let job: { status: string; usage: AiJobView['usage'] };
    for (;;) {
      job = (await api.request<AiJobView>('GET', `/v1/ai/jobs/${started.body.jobId}`, { token })).body;
      if (job.status === 'succeeded' || job.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(job.status).toBe('succeeded');
    const all = simulator.usageReported();
    expect(all).toHaveLength(1);
    expect(job.usage).toMatchObject({ inputTokens: all[0].inputTokens, outputTokens: all[0].outputTokens, model: 'gpt-4o-mini' });
    const rows = await api.app.get(PrismaService).usageDaily.findMany({ where: { tenantId: tenant.id } });
    expect(rows.map((r) => ({ keySource: r.keySource, input: Number(r.inputTokens) }))).toEqual([
      { keySource: 'platform', input: all[0].inputTokens },
    ]);
  });
});
