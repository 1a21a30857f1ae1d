import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '#libs/common';
import { PrismaService, TransactionService } from '#libs/database';
import { chunksOf, recordText } from '#libs/graphrag';
import { emailRecords, fingerprintForSimulator, ProviderSimulator, simulatorEnv } from '#libs/testing';
import { BudgetExceededError, BudgetService, UsageClock } from '#libs/usage';
import type { AiJobView } from '../src/ai-jobs/ai-jobs.dto.js';
import type { BackfillView } from '../src/backfills/backfill.dto.js';
import { type ApiErrorBody, ApiHarness, type Json, type JobStarted } from './api-harness.js';

/** $1,000 per million tokens: one token is 1,000 micro-USD, so USD budgets are exact in tests. */
const PRICE = 1_000;
const PAGE = 5;

interface UsageAnswer {
  items: { key: string; calls: number; inputTokens: number; outputTokens: number; costMicroUsd: number }[];
  totals: { calls: number; inputTokens: number; outputTokens: number; costMicroUsd: number };
}

interface EstimateAnswer {
  records: number;
  characters: number;
  calls: number;
  estimatedInputTokens: number;
  estimatedOutputTokens: number;
  estimatedCostMicroUsd: number;
  provider: string;
  model: string;
  pricesAsOf: string;
  resumedFrom: string | null;
  outputRatioFrom: string;
}

/**
 * The usage API, the estimate, and budgets against a real worker's backfills: a hard budget stops a
 * running backfill at a page boundary and it resumes once raised, concurrent backfills of a tenant
 * overspend by at most one page, a spent budget refuses at pre-flight before any call, thresholds are
 * recorded once per period (also racing), and a new month starts a new period.
 */
describe('Usage API, estimates and budgets (e2e, in-process worker)', () => {
  const simulator = new ProviderSimulator({ validKeys: { openai: ['*'], gemini: ['*'] } });
  let api: ApiHarness;
  let prisma: PrismaService;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prices-'));
    const priceFile = join(dir, 'prices.json');
    writeFileSync(
      priceFile,
      JSON.stringify({ pricesAsOf: '2026-11-01', prices: { openai: { 'gpt-4o-mini': { inputUsdPerMTok: PRICE, outputUsdPerMTok: PRICE } } } }),
    );
    api = await ApiHarness.start(
      { ...simulatorEnv(await simulator.start()), SYNC_PAGE_SIZE: String(PAGE), SYNC_CONCURRENCY: '2', PRICE_TABLE_FILE: priceFile },
      { worker: true },
    );
    prisma = api.app.get(PrismaService);
  });
  beforeEach(() => simulator.clear());
  afterAll(async () => {
    await api?.close();
    await simulator.stop();
  });

  async function tenantWithRecords(count: number, records = emailRecords(count)) {
    const key = `sk-budget-${randomBytes(12).toString('hex')}-bdgt`;
    const tenant = await api.newTenant();
    await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: key } });
    const workspace = await api.newWorkspace(tenant.id);
    expect((await api.request('POST', `/v1/workspaces/${workspace.id}/records`, { body: records })).status).toBe(200);
    return { tenant, workspace, key };
  }

  async function backfill(workspaceId: string): Promise<Json<BackfillView>> {
    const started = await api.request<JobStarted>('POST', `/v1/workspaces/${workspaceId}/backfills`, { body: {} });
    expect(started.status).toBe(202);
    return api.waitForBackfill(started.body.jobId);
  }

  /** The tokens each committed page of a job used, in commit order (one key_usage row per page). */
  async function pageTokens(jobId: string): Promise<number[]> {
    const rows = await prisma.keyUsage.findMany({ where: { jobId }, orderBy: { createdAt: 'asc' } });
    return rows.map((r) => Number(r.inputTokens + r.outputTokens));
  }

  async function spentTokens(tenantId: string): Promise<number> {
    const rows = await prisma.usageDaily.findMany({ where: { tenantId } });
    return rows.reduce((sum, r) => sum + Number(r.inputTokens + r.outputTokens), 0);
  }

  function reportedTokens(key: string) {
    const answers = simulator.usageReported(fingerprintForSimulator(key));
    return { calls: answers.length, tokens: answers.reduce((sum, a) => sum + a.inputTokens + a.outputTokens, 0) };
  }

  describe('usage API', () => {
    it('groups by day, provider, model and job, with the same totals; a read-scope token may read it', async () => {
      const { tenant, workspace, key } = await tenantWithRecords(12);
      const job = await backfill(workspace.id);
      expect(job.status).toBe('succeeded');
      const read = (await api.request<{ token: string }>('POST', `/v1/tenants/${tenant.id}/tokens`, { body: { scope: 'read' } })).body.token;
      const today = new Date().toISOString().slice(0, 10);
      const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
      const sim = simulator.usageReported(fingerprintForSimulator(key));
      const input = sim.reduce((s, a) => s + a.inputTokens, 0);
      const output = sim.reduce((s, a) => s + a.outputTokens, 0);
      const totals = { calls: 12, inputTokens: input, outputTokens: output, costMicroUsd: (input + output) * PRICE };
      const answers: Record<string, UsageAnswer> = {};
      for (const groupBy of ['day', 'provider', 'model', 'job']) {
        const res = await api.request<UsageAnswer>('GET', `/v1/tenants/${tenant.id}/usage?from=${today}&to=${tomorrow}&groupBy=${groupBy}`, {
          token: read,
        });
        expect(res.status).toBe(200);
        answers[groupBy] = res.body;
        expect(res.body.totals).toEqual(totals);
      }
      expect(answers.day.items).toEqual([{ key: today, ...totals }]);
      expect(answers.provider.items).toEqual([{ key: 'openai', ...totals }]);
      expect(answers.model.items).toEqual([{ key: 'openai/gpt-4o-mini', ...totals }]);
      expect(answers.job.items).toEqual([{ key: job.id, ...totals }]);
      // defaults: this month to tomorrow, by day
      const byDefault = await api.request<UsageAnswer>('GET', `/v1/tenants/${tenant.id}/usage`, { token: read });
      expect(byDefault.body.totals).toEqual(totals);
      // a day before the range: nothing
      const before = await api.request<UsageAnswer>('GET', `/v1/tenants/${tenant.id}/usage?from=2020-01-01&to=2020-01-02`, { token: read });
      expect(before.body).toMatchObject({ items: [], totals: { calls: 0, inputTokens: 0, outputTokens: 0, costMicroUsd: 0 } });
    });

    it.each([
      ['from=2026-13-01&to=2026-12-02', 'from'],
      ['from=yesterday', 'from'],
      ['from=2026-11-02&to=2026-11-02', 'to'],
      ['from=2026-11-03&to=2026-11-02', 'to'],
      ['from=2020-01-01&to=2026-01-01', 'to'],
      ['groupBy=week', 'groupBy'],
      ['groupBy=day&groupBy=job', 'groupBy'],
      ['limit=5', 'limit'],
    ])('refuses %s with 400 VALIDATION_FAILED naming %s', async (query, field) => {
      const tenant = await api.newTenant();
      const res = await api.request<ApiErrorBody>('GET', `/v1/tenants/${tenant.id}/usage?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe(ErrorCode.ValidationFailed);
      expect(res.body.error.message).toContain(field);
    });
  });

  describe('estimate', () => {
    it('counts the characters, calls and tokens of short and long records from the workspace text', async () => {
      const short = emailRecords(3);
      const long = { ...emailRecords(1, 50)[0], externalId: 'long-1', body: 'Alice Johnson met Bob Smith at Acme Corp. '.repeat(400) };
      const { tenant, workspace } = await tenantWithRecords(4, [...short, long]);
      const texts = [...short, long].map((r) => recordText({ id: '', fromAddr: r.from, toAddr: r.to, subject: r.subject, body: r.body }));
      const characters = texts.reduce((sum, t) => sum + t.length, 0);
      const leastCalls = texts.reduce((sum, t) => sum + Math.max(1, Math.ceil(t.length / 4_000)), 0);
      const chunkCalls = texts.reduce((sum, t) => sum + [...chunksOf(t)].length, 0);

      const res = await api.request<EstimateAnswer>('POST', `/v1/workspaces/${workspace.id}/backfills/estimate`, { body: {} });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        records: 4,
        characters,
        calls: leastCalls,
        provider: 'openai',
        model: 'gpt-4o-mini',
        pricesAsOf: '2026-11-01',
        resumedFrom: null,
        outputRatioFrom: 'default',
      });
      expect(leastCalls).toBeGreaterThan(4);
      expect(res.body.calls).toBeLessThanOrEqual(chunkCalls);
      expect(res.body.estimatedInputTokens).toBeGreaterThan(Math.ceil(characters / 4));
      expect(res.body.estimatedOutputTokens).toBe(Math.ceil(res.body.estimatedInputTokens * 0.25));
      expect(res.body.estimatedCostMicroUsd).toBe((res.body.estimatedInputTokens + res.body.estimatedOutputTokens) * PRICE);
      // the estimate changes nothing
      expect(await prisma.backfill.count({ where: { workspaceId: workspace.id } })).toBe(0);

      // after one backfill, the output ratio comes from the workspace's own history; the input stays a rule
      const job = await backfill(workspace.id);
      expect(job.status).toBe('succeeded');
      expect(simulator.requestsFor('openai').filter((r) => r.method === 'POST')).toHaveLength(chunkCalls);
      const again = await api.request<EstimateAnswer>('POST', `/v1/workspaces/${workspace.id}/backfills/estimate`, { body: { fromStart: true } });
      const rows = await prisma.keyUsage.findMany({ where: { jobId: job.id } });
      const ratio = rows.reduce((s, r) => s + Number(r.outputTokens), 0) / rows.reduce((s, r) => s + Number(r.inputTokens), 0);
      expect(again.body).toMatchObject({
        records: 4,
        outputRatioFrom: 'history',
        estimatedOutputTokens: Math.ceil(again.body.estimatedInputTokens * ratio),
      });
      // a Gemini request key is the provider the estimate assumes, without a call
      const gemini = await api.request<EstimateAnswer>('POST', `/v1/workspaces/${workspace.id}/backfills/estimate`, {
        body: {},
        headers: { 'X-User-Provider': 'gemini', 'X-User-Api-Key': `AIza-${randomBytes(20).toString('hex')}` },
      });
      expect(gemini.body).toMatchObject({ provider: 'gemini', model: 'gemini-2.0-flash' });
      expect(simulator.requestsFor('gemini')).toEqual([]);
      void tenant;
    });

    it('refuses a bad body with 400 and another tenant’s workspace with 404', async () => {
      const { workspace } = await tenantWithRecords(1);
      const other = await api.newTenant();
      const token = await api.newTenantToken(other.id);
      expect((await api.request<ApiErrorBody>('POST', `/v1/workspaces/${workspace.id}/backfills/estimate`, { body: { source: 'fax' } })).status).toBe(
        400,
      );
      const hidden = await api.request<ApiErrorBody>('POST', `/v1/workspaces/${workspace.id}/backfills/estimate`, { token, body: {} });
      expect(hidden.status).toBe(404);
    });
  });

  describe('budgets', () => {
    it('PUT, GET and DELETE a budget; a read-scope token reads it but may not write; one limit exactly', async () => {
      const tenant = await api.newTenant();
      const read = (await api.request<{ token: string }>('POST', `/v1/tenants/${tenant.id}/tokens`, { body: { scope: 'read' } })).body.token;
      const period = new Date().toISOString().slice(0, 7);
      expect((await api.request('GET', `/v1/tenants/${tenant.id}/budget`)).body).toEqual({
        budget: null,
        period,
        spent: { costMicroUsd: 0, tokens: 0 },
      });
      const put = await api.request('PUT', `/v1/tenants/${tenant.id}/budget`, { body: { monthlyLimitUsd: 12.5, mode: 'hard', perJobLimitUsd: 2 } });
      expect(put.status).toBe(200);
      expect(put.body).toMatchObject({ budget: { monthlyLimitUsd: 12.5, monthlyLimitTokens: null, mode: 'hard', perJobLimitUsd: 2 }, period });
      expect((await api.request('GET', `/v1/tenants/${tenant.id}/budget`, { token: read })).body).toMatchObject({
        budget: { monthlyLimitUsd: 12.5 },
      });
      const denied = await api.request<ApiErrorBody>('PUT', `/v1/tenants/${tenant.id}/budget`, {
        token: read,
        body: { monthlyLimitTokens: 5, mode: 'alert' },
      });
      expect([denied.status, denied.body.error.code]).toEqual([403, ErrorCode.TokenReadOnly]);
      for (const body of [
        { mode: 'hard' },
        { monthlyLimitUsd: 1, monthlyLimitTokens: 5, mode: 'hard' },
        { monthlyLimitUsd: -1, mode: 'hard' },
        { monthlyLimitUsd: 1, mode: 'soft' },
      ]) {
        const bad = await api.request<ApiErrorBody>('PUT', `/v1/tenants/${tenant.id}/budget`, { body });
        expect([bad.status, bad.body.error.code]).toEqual([400, ErrorCode.ValidationFailed]);
      }
      expect((await api.request('DELETE', `/v1/tenants/${tenant.id}/budget`)).status).toBe(204);
      expect((await api.request('GET', `/v1/tenants/${tenant.id}/budget`)).body).toMatchObject({ budget: null });
      expect((await api.request('DELETE', `/v1/tenants/${tenant.id}/budget`)).status).toBe(204);
    });

    it('a hard budget stops a running backfill at a page boundary; raised, the backfill resumes and finishes with exact counters', async () => {
      // what each page of these 20 records costs, from a tenant without a budget (the records are the same)
      const calibration = await tenantWithRecords(20);
      const full = await backfill(calibration.workspace.id);
      const pages = await pageTokens(full.id);
      expect(pages).toHaveLength(4);
      const limit = pages[0] + pages[1] + Math.floor(pages[2] / 2);

      const { tenant, workspace, key } = await tenantWithRecords(20);
      await api.request('PUT', `/v1/tenants/${tenant.id}/budget`, { body: { monthlyLimitTokens: limit, mode: 'hard' } });
      const stopped = await backfill(workspace.id);
      expect(stopped.status).toBe('failed');
      expect(stopped.failure?.code).toBe(ErrorCode.BudgetExceeded);
      expect(stopped.failure?.message).toContain('resumes from its checkpoint');
      // stopped at a page boundary, within the limit plus at most one page
      expect(stopped.counters.recordsProcessed % PAGE).toBe(0);
      expect(stopped.counters.recordsProcessed).toBeGreaterThanOrEqual(PAGE);
      expect(stopped.counters.recordsProcessed).toBeLessThan(20);
      const spent = await spentTokens(tenant.id);
      expect(spent).toBeLessThanOrEqual(limit + Math.max(...pages));
      // nothing was sent for the records after the checkpoint, nothing is held any more
      expect(reportedTokens(key).calls).toBe(stopped.counters.recordsProcessed);
      expect(await prisma.budgetReservation.count({ where: { tenantId: tenant.id } })).toBe(0);

      await api.request('PUT', `/v1/tenants/${tenant.id}/budget`, { body: { monthlyLimitTokens: limit * 10, mode: 'hard' } });
      const estimate = await api.request<EstimateAnswer>('POST', `/v1/workspaces/${workspace.id}/backfills/estimate`, { body: {} });
      expect(estimate.body).toMatchObject({ records: 20 - stopped.counters.recordsProcessed, resumedFrom: stopped.id });
      const started = await api.request<JobStarted>('POST', `/v1/workspaces/${workspace.id}/backfills`, { body: {} });
      expect(started.body.resumedFrom).toBe(stopped.id);
      const resumed = await api.waitForBackfill(started.body.jobId);
      // the resumed backfill counts the records after the checkpoint: together, every record once
      expect(resumed).toMatchObject({ status: 'succeeded', counters: { recordsFailed: 0 } });
      expect(stopped.counters.recordsProcessed + resumed.counters.recordsProcessed).toBe(20);
      expect(stopped.counters.recordsFetched + resumed.counters.recordsFetched).toBe(20);
      // every record sent once, and the tokens recorded are exactly the ones reported
      const sim = reportedTokens(key);
      expect(sim.calls).toBe(20);
      expect(await spentTokens(tenant.id)).toBe(sim.tokens);
      expect(stopped.usage.inputTokens + stopped.usage.outputTokens + resumed.usage.inputTokens + resumed.usage.outputTokens).toBe(sim.tokens);
    });

    it('two concurrent backfills of one tenant overspend a hard budget by at most one page', async () => {
      const calibration = await tenantWithRecords(20);
      const pages = await pageTokens((await backfill(calibration.workspace.id)).id);
      const limit = pages[0] * 3;
      const { tenant, workspace } = await tenantWithRecords(20);
      const second = await api.newWorkspace(tenant.id);
      await api.request('POST', `/v1/workspaces/${second.id}/records`, { body: emailRecords(20) });
      await api.request('PUT', `/v1/tenants/${tenant.id}/budget`, { body: { monthlyLimitUsd: (limit * PRICE) / 1_000_000, mode: 'hard' } });
      const starts = await Promise.all(
        [workspace.id, second.id].map((id) => api.request<JobStarted>('POST', `/v1/workspaces/${id}/backfills`, { body: {} })),
      );
      const jobs = await Promise.all(starts.map((s) => api.waitForBackfill(s.body.jobId)));
      expect(jobs.map((j) => j.failure?.code).filter((code) => code === ErrorCode.BudgetExceeded).length).toBeGreaterThanOrEqual(1);
      const processed = jobs.reduce((sum, j) => sum + j.counters.recordsProcessed, 0);
      expect(processed).toBeLessThan(40);
      for (const job of jobs) expect(job.counters.recordsProcessed % PAGE).toBe(0);
      const spentMicroUsd = (await prisma.usageDaily.findMany({ where: { tenantId: tenant.id } })).reduce((s, r) => s + Number(r.costMicroUsd), 0);
      expect(spentMicroUsd).toBeLessThanOrEqual((limit + Math.max(...pages)) * PRICE);
      expect(await prisma.budgetReservation.count({ where: { tenantId: tenant.id } })).toBe(0);
    });

    it('a spent hard budget refuses backfills and AI jobs at pre-flight, before any fetch or provider call', async () => {
      const { tenant, workspace, key } = await tenantWithRecords(5);
      expect((await backfill(workspace.id)).status).toBe('succeeded');
      await api.request('PUT', `/v1/tenants/${tenant.id}/budget`, { body: { monthlyLimitTokens: 10, mode: 'hard' } });
      simulator.clear();
      const refused = await backfill(workspace.id);
      expect(refused).toMatchObject({ status: 'failed', failure: { code: ErrorCode.BudgetExceeded }, counters: { recordsFetched: 0 } });
      const token = await api.newTenantToken(tenant.id);
      const ai = await api.request<JobStarted>('POST', '/v1/ai/jobs/extract', { token, body: { text: 'Alice met Bob at Acme Corp.' } });
      let job: Json<AiJobView>;
      for (;;) {
        job = (await api.request<AiJobView>('GET', `/v1/ai/jobs/${ai.body.jobId}`, { token })).body;
        if (job.status === 'succeeded' || job.status === 'failed') break;
        await new Promise((r) => setTimeout(r, 30));
      }
      expect(job.error?.code).toBe(ErrorCode.BudgetExceeded);
      // no key check, no completion: the provider saw nothing of this tenant
      expect(simulator.requests.filter((r) => r.keyFingerprint === fingerprintForSimulator(key))).toEqual([]);
      // alert mode never stops anything
      await api.request('PUT', `/v1/tenants/${tenant.id}/budget`, { body: { monthlyLimitTokens: 10, mode: 'alert' } });
      expect((await backfill(workspace.id)).status).toBe('succeeded');
    });

    it('a per-job cap stops a backfill at a page boundary', async () => {
      const calibration = await tenantWithRecords(20);
      const pages = await pageTokens((await backfill(calibration.workspace.id)).id);
      const { tenant, workspace } = await tenantWithRecords(20);
      await api.request('PUT', `/v1/tenants/${tenant.id}/budget`, {
        body: { monthlyLimitUsd: 1_000_000, mode: 'hard', perJobLimitUsd: ((pages[0] + pages[1] / 2) * PRICE) / 1_000_000 },
      });
      const job = await backfill(workspace.id);
      expect(job).toMatchObject({ status: 'failed', failure: { code: ErrorCode.BudgetExceeded } });
      expect(job.failure?.message).toContain('perJobLimitUsd');
      expect(job.counters.recordsProcessed % PAGE).toBe(0);
      expect(job.counters.recordsProcessed).toBeLessThan(20);
    });

    it("never leaks a hold: a run that fails releases its pages' reservations, and a dead run's expire", async () => {
      const { tenant, workspace } = await tenantWithRecords(10);
      expect((await backfill(workspace.id)).status).toBe('succeeded');
      await api.request('PUT', `/v1/tenants/${tenant.id}/budget`, { body: { monthlyLimitTokens: 100_000_000, mode: 'hard' } });
      // the key's verdict is cached from the first run: the next one's first completion is refused
      simulator.failNext('openai', { status: 401, times: 100 });
      const failed = await backfill(workspace.id);
      expect(failed).toMatchObject({ status: 'failed', failure: { code: ErrorCode.InvalidApiKey } });
      expect(await prisma.budgetReservation.count({ where: { tenantId: tenant.id } })).toBe(0);

      // a run that died holding 800 of 1,000 tokens: another page of 300 waits until the hold expires
      const other = await api.newTenant();
      await api.request('PUT', `/v1/tenants/${other.id}/budget`, { body: { monthlyLimitTokens: 1_000, mode: 'hard' } });
      const budgets = api.app.get(BudgetService);
      const clock = api.app.get(UsageClock);
      const held = await budgets.reservePage(other.id, randomUUID(), { microUsd: 0n, tokens: 800n });
      expect(held.id).toEqual(expect.any(String));
      await expect(budgets.reservePage(other.id, randomUUID(), { microUsd: 0n, tokens: 300n })).rejects.toBeInstanceOf(BudgetExceededError);
      clock.now = () => new Date(Date.now() + api.config.usage.reservationTtlMs + 1_000);
      try {
        const after = await budgets.reservePage(other.id, randomUUID(), { microUsd: 0n, tokens: 300n });
        expect(after.id).toEqual(expect.any(String));
        // settling a hold removes the expired ones with it: the table does not grow with dead runs
        await budgets.settle(other.id, [after.id]);
        expect(await prisma.budgetReservation.count({ where: { tenantId: other.id } })).toBe(0);
      } finally {
        clock.now = () => new Date();
      }
    });

    it('records the 80% and 100% thresholds once per period, also with workers racing; a new month is a new period', async () => {
      const { tenant, workspace } = await tenantWithRecords(10);
      await api.request('PUT', `/v1/tenants/${tenant.id}/budget`, { body: { monthlyLimitTokens: 1, mode: 'alert' } });
      expect((await backfill(workspace.id)).status).toBe('succeeded');
      expect((await backfill(workspace.id)).status).toBe('succeeded');
      const thresholds = await prisma.budgetThreshold.findMany({ where: { tenantId: tenant.id }, orderBy: { threshold: 'asc' } });
      const period = new Date().toISOString().slice(0, 7);
      expect(thresholds.map((t) => [t.period, t.threshold])).toEqual([
        [period, 80],
        [period, 100],
      ]);
      // each crossing published its budget.threshold webhook event in its own transaction, once
      const announced = await prisma.webhookEvent.findMany({ where: { tenantId: tenant.id, type: 'budget.threshold' } });
      expect(announced.map((e) => (e.data as { thresholdPercent: number }).thresholdPercent).sort()).toEqual([100, 80]);

      // ten transactions racing (as ten workers would) on a fresh tenant: each threshold crossed by exactly one
      const racer = await api.newTenant();
      await api.request('PUT', `/v1/tenants/${racer.id}/budget`, { body: { monthlyLimitTokens: 100, mode: 'alert' } });
      const at = new Date();
      await prisma.usageDaily.create({
        data: {
          tenantId: racer.id,
          day: new Date(at.toISOString().slice(0, 10)),
          provider: 'openai',
          model: 'gpt-4o-mini',
          keySource: 'tenant',
          calls: 1n,
          inputTokens: 90n,
          outputTokens: 10n,
          costMicroUsd: 0n,
        },
      });
      const budgets = api.app.get(BudgetService);
      const transactions = api.app.get(TransactionService);
      const crossings = await Promise.all(Array.from({ length: 10 }, () => transactions.run((tx) => budgets.recordCrossings(racer.id, at, tx))));
      expect(
        crossings
          .flat()
          .map((c) => c.threshold)
          .sort(),
      ).toEqual([100, 80]);

      // the next month: nothing spent yet, so nothing crossed and a hard budget admits jobs again
      const clock = api.app.get(UsageClock);
      const next = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1, 0, 0, 1));
      await api.request('PUT', `/v1/tenants/${racer.id}/budget`, { body: { monthlyLimitTokens: 100, mode: 'hard' } });
      await expect(budgets.refuseWhenSpent(racer.id)).rejects.toBeInstanceOf(BudgetExceededError);
      const realNow = () => new Date();
      clock.now = () => next;
      try {
        await expect(budgets.refuseWhenSpent(racer.id)).resolves.toBeUndefined();
        expect(await transactions.run((tx) => budgets.recordCrossings(racer.id, next, tx))).toEqual([]);
      } finally {
        clock.now = realNow;
      }
    });
  });
});
