import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { PrismaService } from '#libs/database';
import { RecordIngestService } from '#libs/records';
import { type EmailRecordInput, emailRecords, FAULT_MARKERS, ProviderSimulator, simulatorEnv } from '#libs/testing';
import type { FailuresView } from '../src/backfills/backfill.dto.js';
import { ApiHarness, type ApiErrorBody, type JobStarted } from './api-harness.js';

const OPENAI_KEY = `sk-faults-${randomBytes(12).toString('hex')}-1111`;
const GEMINI_KEY = `AIza-faults-${randomBytes(12).toString('hex')}-2222`;
const MAX_ATTEMPTS = 2;

/** Which records carry which fault, and the code each failing one must end with (undefined: it succeeds). */
type FaultPlan = Record<number, { marker: string; code?: string; long?: boolean }>;

/**
 * Backfills that keep going through odd model answers, end to end: the real SDKs against the
 * simulator's fault markers, the worker, Postgres and Redis. A record-specific failure is stored with
 * its record and the job goes on; a provider-wide one ends the job.
 */
describe('Backfills through odd model answers (e2e)', () => {
  const simulator = new ProviderSimulator({ validKeys: { openai: [OPENAI_KEY], gemini: [GEMINI_KEY] } });
  let api: ApiHarness;

  beforeAll(async () => {
    api = await ApiHarness.start(
      {
        ...simulatorEnv(await simulator.start()),
        SYNC_PAGE_SIZE: '10',
        SYNC_CONCURRENCY: '4',
        PROVIDER_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
        PROVIDER_RETRY_BASE_MS: '0',
        LOG_LEVEL: 'warn',
      },
      { worker: true },
    );
  });
  afterEach(() => simulator.reset());
  afterAll(async () => {
    await api.close();
    await simulator.stop();
  });

  /** `count` records with the plan's markers in their bodies (a long body where asked, so a chunk can be split). */
  function recordsWith(count: number, plan: FaultPlan, offset = 0): EmailRecordInput[] {
    return emailRecords(count, offset).map((record, index) => {
      const fault = plan[index];
      if (!fault) return record;
      const body = fault.long ? Array.from({ length: 9 }, () => record.body).join('\n\n') : record.body;
      return { ...record, body: `${body} ${fault.marker}` };
    });
  }

  async function workspaceWith(records: EmailRecordInput[], provider: 'openai' | 'gemini' = 'openai') {
    const tenant = await api.newTenant();
    const workspace = await api.newWorkspace(tenant.id);
    const [setting, key] = provider === 'openai' ? ['OPENAI_API_KEY', OPENAI_KEY] : ['GEMINI_API_KEY', GEMINI_KEY];
    await api.request('PUT', `/v1/tenants/${tenant.id}/settings/${setting}`, { body: { value: key } });
    if (provider !== 'openai') await api.request('PUT', `/v1/tenants/${tenant.id}/settings/GRAPHRAG_PROVIDER`, { body: { value: provider } });
    await api.app.get(RecordIngestService).ingest(workspace.id, JSON.stringify(records), 'json');
    return { tenant, workspace };
  }

  const start = async (workspaceId: string) =>
    (await api.request<JobStarted>('POST', `/v1/workspaces/${workspaceId}/backfills`, { body: {} })).body.jobId;
  const failuresOf = async (jobId: string, query = '') => (await api.request<FailuresView>('GET', `/v1/backfills/${jobId}/failures${query}`)).body;

  /** Entity (type, name) pairs of a workspace's graph. */
  async function graphOf(workspaceId: string): Promise<string[]> {
    const entities = await api.app.get(PrismaService).entity.findMany({ where: { workspaceId }, select: { type: true, normalizedName: true } });
    return entities.map((e) => `${e.type}:${e.normalizedName}`).sort();
  }

  /** Runs the plan, then checks failed records, codes, reasons and the graph of all other records. */
  async function expectPlanOutcome(provider: 'openai' | 'gemini', count: number, plan: FaultPlan) {
    const records = recordsWith(count, plan);
    const { workspace } = await workspaceWith(records, provider);
    const job = await api.waitForBackfill(await start(workspace.id), undefined, 60_000);

    const failing = Object.entries(plan).filter(([, fault]) => fault.code);
    expect(job).toMatchObject({ status: 'succeeded', failure: null, counters: { recordsProcessed: count, recordsFailed: failing.length } });
    const failures = await failuresOf(job.id);
    expect(failures.items.map((f) => [f.externalId, f.code])).toEqual(
      failing.map(([index, fault]) => [records[Number(index)].externalId, fault.code]),
    );
    for (const item of failures.items) {
      expect(item.reason).toContain(provider);
      expect(item.attempts).toBe(1);
    }
    expect(failures.summary.reduce((sum, s) => sum + s.count, 0)).toBe(failing.length);

    // the graph equals a clean run of every record that did not fail
    const failedIds = new Set(failing.map(([index]) => records[Number(index)].externalId));
    const { workspace: reference } = await workspaceWith(
      records.filter((r) => !failedIds.has(r.externalId)),
      provider,
    );
    await api.waitForBackfill(await start(reference.id), (v) => v.status === 'succeeded', 60_000);
    expect(await graphOf(workspace.id)).toEqual(await graphOf(reference.id));
    const mentions = await api.app
      .get(PrismaService)
      .entityMention.count({ where: { workspaceId: workspace.id, record: { externalId: { in: [...failedIds] } } } });
    expect(mentions).toBe(0);
  }

  it('openai: one record of each fault kind in 60; the failed ones are stored with their code and reason, the rest make the graph', async () => {
    await expectPlanOutcome('openai', 60, {
      3: { marker: FAULT_MARKERS.refusal, code: 'EXTRACTION_REFUSED' },
      7: { marker: FAULT_MARKERS.prose },
      11: { marker: FAULT_MARKERS.trailingCommas },
      15: { marker: FAULT_MARKERS.notJson, code: 'EXTRACTION_UNPARSABLE' },
      19: { marker: FAULT_MARKERS.wrongShape, code: 'EXTRACTION_INVALID' },
      23: { marker: FAULT_MARKERS.nullDescription },
      27: { marker: FAULT_MARKERS.truncated, code: 'EXTRACTION_TRUNCATED' },
      31: { marker: '[[sim:truncate-above:700]]', long: true },
      35: { marker: FAULT_MARKERS.safety, code: 'CONTENT_BLOCKED' },
      39: { marker: FAULT_MARKERS.blocked, code: 'CONTENT_BLOCKED' },
      43: { marker: FAULT_MARKERS.unstorable },
    });
  }, 90_000);

  it('gemini: blocked prompts, safety stops, MAX_TOKENS and prose answers are record failures too', async () => {
    await expectPlanOutcome('gemini', 30, {
      2: { marker: FAULT_MARKERS.blocked, code: 'CONTENT_BLOCKED' },
      6: { marker: FAULT_MARKERS.safety, code: 'CONTENT_BLOCKED' },
      10: { marker: FAULT_MARKERS.truncated, code: 'EXTRACTION_TRUNCATED' },
      14: { marker: FAULT_MARKERS.refusal, code: 'EXTRACTION_UNPARSABLE' },
      18: { marker: FAULT_MARKERS.prose },
      22: { marker: FAULT_MARKERS.nullDescription },
    });
    const failures = await api.app
      .get(PrismaService)
      .backfillRecordFailure.findMany({ where: { code: 'CONTENT_BLOCKED' }, select: { finishReason: true } });
    expect(failures.map((f) => f.finishReason)).toEqual(expect.arrayContaining(['SAFETY']));
  }, 90_000);

  it('stops a job whose records all fail once the failure budget is spent, with the provider calls bounded', async () => {
    const records = recordsWith(
      40,
      Object.fromEntries(Array.from({ length: 40 }, (_, i) => [i, { marker: FAULT_MARKERS.refusal, code: 'EXTRACTION_REFUSED' }])),
    );
    const { workspace } = await workspaceWith(records);
    const job = await api.waitForBackfill(await start(workspace.id), undefined, 60_000);

    expect(job.status).toBe('failed');
    expect(job.failure!.code).toBe('EXTRACTION_FAILING');
    expect(job.failure!.message).toMatch(
      /^Backfill stopped: 20 of 20 records failed, most often EXTRACTION_REFUSED \(20\): The openai model refused/,
    );
    // the budget trips at the 20th record; the calls in flight then (at most SYNC_CONCURRENCY - 1) finish, nothing else starts
    expect(simulator.requests.length).toBeGreaterThanOrEqual(20);
    expect(simulator.requests.length).toBeLessThanOrEqual(20 + 3);
    // the first page (10 records) was committed with its failures before the second page tripped the budget
    expect(job.counters).toMatchObject({ recordsProcessed: 10, recordsFailed: 10 });
  }, 60_000);

  it('retries only the failed records: failing again moves them to the retry, succeeding clears them', async () => {
    const plan: FaultPlan = Object.fromEntries([2, 9, 13, 21, 28].map((i) => [i, { marker: FAULT_MARKERS.refusal, code: 'EXTRACTION_REFUSED' }]));
    const records = recordsWith(30, plan);
    const { workspace } = await workspaceWith(records);
    const first = await api.waitForBackfill(await start(workspace.id), undefined, 60_000);
    expect(first).toMatchObject({ status: 'succeeded', counters: { recordsFailed: 5 } });
    const failedSubjects = [2, 9, 13, 21, 28].map((i) => records[i].subject);

    // faults still on: the same five fail again, and now belong to the retry
    simulator.clear();
    const retried = await api.request<JobStarted>('POST', `/v1/backfills/${first.id}/retry-failed`);
    expect(retried.status).toBe(202);
    const second = await api.waitForBackfill(retried.body.jobId, undefined, 60_000);
    expect(second).toMatchObject({ status: 'succeeded', retryOf: first.id, counters: { recordsFetched: 5, recordsProcessed: 5, recordsFailed: 5 } });
    expect(simulator.requests).toHaveLength(5);
    expect((await failuresOf(first.id)).items).toEqual([]);
    expect((await api.request<{ counters: { recordsFailed: number } }>('GET', `/v1/backfills/${first.id}`)).body.counters.recordsFailed).toBe(0);
    expect((await failuresOf(second.id)).items.map((f) => [f.subject, f.attempts])).toEqual(failedSubjects.map((s) => [s, 2]));

    // the provider answers now: the retry of the retry clears them all, touching nothing else
    simulator.setFaults(false);
    simulator.clear();
    const third = await api.waitForBackfill(
      (await api.request<JobStarted>('POST', `/v1/backfills/${second.id}/retry-failed`)).body.jobId,
      undefined,
      60_000,
    );
    expect(third).toMatchObject({ status: 'succeeded', counters: { recordsProcessed: 5, recordsFailed: 0 } });
    expect(simulator.requests).toHaveLength(5);
    expect((await failuresOf(second.id)).items).toEqual([]);
    const mentioned = await api.app
      .get(PrismaService)
      .entityMention.count({ where: { workspaceId: workspace.id, record: { subject: { in: failedSubjects } } } });
    expect(mentioned).toBeGreaterThan(0);

    const nothing = await api.request<ApiErrorBody>('POST', `/v1/backfills/${second.id}/retry-failed`);
    expect(nothing.status).toBe(409);
    expect(nothing.body.error.code).toBe('BACKFILL_NOTHING_TO_RETRY');
  }, 90_000);

  it('pages the failures in record order', async () => {
    const plan: FaultPlan = Object.fromEntries([1, 4, 7].map((i) => [i, { marker: FAULT_MARKERS.notJson, code: 'EXTRACTION_UNPARSABLE' }]));
    const records = recordsWith(10, plan);
    const { workspace } = await workspaceWith(records);
    const job = await api.waitForBackfill(await start(workspace.id), undefined, 60_000);

    const firstPage = await failuresOf(job.id, '?limit=2');
    expect(firstPage.items.map((f) => f.externalId)).toEqual([records[1].externalId, records[4].externalId]);
    expect(firstPage.nextCursor).not.toBeNull();
    const secondPage = await failuresOf(job.id, `?limit=2&cursor=${firstPage.nextCursor}`);
    expect(secondPage.items.map((f) => f.externalId)).toEqual([records[7].externalId]);
    expect(secondPage.nextCursor).toBeNull();
    expect(firstPage.summary).toEqual([{ code: 'EXTRACTION_UNPARSABLE', count: 3 }]);
  }, 60_000);

  it('completes through a burst of 40 429s: one shared pause per key, not N separate retries', async () => {
    const records = recordsWith(30, { 0: { marker: '[[sim:rate-limit-burst:40:2]]' } });
    const { workspace } = await workspaceWith(records);
    const job = await api.waitForBackfill(await start(workspace.id), undefined, 60_000);

    expect(job).toMatchObject({ status: 'succeeded', counters: { recordsProcessed: 30, recordsFailed: 0 } });
    // 30 answers and the 40 refusals of the burst, although PROVIDER_MAX_ATTEMPTS is only 2
    expect(simulator.requests.length).toBeGreaterThanOrEqual(70);
  }, 60_000);

  it('ends the job PROVIDER_UNAVAILABLE when a 200 keeps carrying an error object instead of an answer, after the tries', async () => {
    const records = recordsWith(5, { 2: { marker: FAULT_MARKERS.errorBody } });
    const { workspace } = await workspaceWith(records);
    const job = await api.waitForBackfill(await start(workspace.id), undefined, 60_000);

    expect(job.status).toBe('failed');
    expect(job.failure).toEqual({
      code: 'PROVIDER_UNAVAILABLE',
      message: expect.stringContaining('the answer carried an error object instead of choices') as unknown as string,
    });
    const faulty = simulator.requests.filter((r) => r.path.endsWith('/chat/completions')).length;
    expect(faulty).toBeGreaterThanOrEqual(MAX_ATTEMPTS);
  }, 60_000);
});
