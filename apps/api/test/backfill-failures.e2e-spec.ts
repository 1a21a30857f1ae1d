import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { PrismaService } from '#libs/database';
import { QueueName } from '#libs/queue';
import { RecordIngestService } from '#libs/records';
import { emailRecords, fingerprintForSimulator, ProviderSimulator, simulatorEnv } from '#libs/testing';
import type { MaskedSetting } from '#libs/byok';
import type { BackfillView } from '../src/backfills/backfill.dto.js';
import { type ApiErrorBody, ApiHarness, type JobStarted, type ListOf } from './api-harness.js';

describe('Backfill failure semantics, progress and control (e2e)', () => {
  const key = `sk-tenant-${randomBytes(12).toString('hex')}-1234`;
  const geminiKey = `AIza-tenant-${randomBytes(16).toString('hex')}-gem9`;
  const simulator = new ProviderSimulator({ validKeys: { openai: [key], gemini: [geminiKey] } });
  let api: ApiHarness;

  beforeAll(async () => {
    api = await ApiHarness.start(
      {
        ...simulatorEnv(await simulator.start()),
        SYNC_PAGE_SIZE: '5',
        SYNC_CONCURRENCY: '2',
        PROVIDER_MAX_ATTEMPTS: '3',
        PROVIDER_RETRY_BASE_MS: '5',
        // 429s are bounded by the time waited on them, not by the attempts
        PROVIDER_RATE_LIMIT_PATIENCE_MS: '300',
      },
      { worker: true },
    );
  });
  afterEach(() => {
    // whatever a test held, scripted or revoked, the next one starts from a clean simulator
    simulator.reset();
    simulator.setValidKeys('openai', [key]);
  });
  afterAll(async () => {
    await api.close();
    await simulator.stop();
  });

  async function workspaceWith(records: number, settings: Record<string, string> = { OPENAI_API_KEY: key }, plan?: 'free' | 'team') {
    const tenant = await api.newTenant(plan ? { planType: plan as never } : {});
    const workspace = await api.newWorkspace(tenant.id);
    for (const [name, value] of Object.entries(settings)) {
      expect((await api.request('PUT', `/v1/tenants/${tenant.id}/settings/${name}`, { body: { value } })).status).toBe(200);
    }
    // every record's subject carries a marker of its own, so a gate can hold the job at that record
    const tag = randomBytes(4).toString('hex');
    const marker = (index: number) => `[[${tag} r${index}]]`;
    const marked = emailRecords(records).map((record, index) => ({ ...record, subject: `${record.subject} ${marker(index)}` }));
    await api.app.get(RecordIngestService).ingest(workspace.id, JSON.stringify(marked), 'json');
    return { tenant, workspace, marker };
  }

  const start = async (workspaceId: string) =>
    (await api.request<JobStarted>('POST', `/v1/workspaces/${workspaceId}/backfills`, { body: {} })).body.jobId;
  const queue = () => api.app.get<Queue>(getQueueToken(QueueName.Backfills));

  /** Reads `read` until `accept` holds (it must come to hold: the job is held at a gate), or fails saying what it saw. */
  async function eventually<T>(what: string, read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (accept(value)) return value;
      if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  it('fails at once with INVALID_API_KEY when the key is revoked mid-run, marks it invalid, and does not retry', async () => {
    const { tenant, workspace, marker } = await workspaceWith(40);
    // pages of 5: page 1 commits, page 2 cannot while its first record is held
    const gate = simulator.gate({ marker: marker(5) });
    const jobId = await start(workspace.id);
    await gate.waitForHeld(1);
    const midRun = await api.waitForBackfill(jobId, (v) => v.counters.recordsProcessed === 5);
    expect(midRun.status).toBe('running');

    simulator.setValidKeys('openai', []);
    gate.open();
    const job = await api.waitForBackfill(jobId);

    expect(job.status).toBe('failed');
    expect(job.failure).toEqual({
      code: 'INVALID_API_KEY',
      message: `Failed to authenticate with openai for tenant ${tenant.subdomain} (key ...1234)`,
    });
    // the page committed before the revocation stays; nothing after it was written
    expect(job.counters.recordsProcessed).toBe(5);
    const settings = await api.request<ListOf<MaskedSetting>>('GET', `/v1/tenants/${tenant.id}/settings`);
    expect(settings.body.items[0].validationStatus).toBe('invalid');
    const bull = await queue().getJob(jobId);
    expect(bull?.attemptsMade).toBe(1);
    expect(await bull?.getState()).toBe('failed');
    expect(bull?.failedReason).not.toContain(key);
    // no other key or provider was tried after the 401
    expect(new Set(simulator.keysSeen('openai'))).toEqual(new Set([fingerprintForSimulator(key)]));
    expect(simulator.requestsFor('gemini')).toEqual([]);
    const usage = await api.app.get(PrismaService).keyUsage.findMany({ where: { jobId } });
    expect(usage.map((u) => u.outcome)).toContain('auth_failed');
    // token counts and cost are bigint columns: written as text to be searched too
    expect(JSON.stringify(usage, (_name, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))).not.toContain(key);
  });

  it('retries a 429 with backoff and finishes', async () => {
    const { workspace } = await workspaceWith(6);
    simulator.failNext('openai', { status: 429, times: 2, retryAfterSeconds: 0 });
    const job = await api.waitForBackfill(await start(workspace.id));
    expect(job).toMatchObject({ status: 'succeeded', counters: { recordsProcessed: 6 } });
  });

  it('ends as RATE_LIMITED when the provider keeps refusing past the rate-limit patience', async () => {
    const { workspace } = await workspaceWith(6);
    simulator.failNext('openai', { status: 429, times: 1_000, retryAfterSeconds: 0 });
    const job = await api.waitForBackfill(await start(workspace.id));
    expect(job.status).toBe('failed');
    expect(job.failure!.code).toBe('RATE_LIMITED');
  });

  it('ends as PROVIDER_UNAVAILABLE when 5xx answers outlast the retries', async () => {
    const { workspace } = await workspaceWith(6);
    simulator.failNext('openai', { status: 500, times: 1_000 });
    const job = await api.waitForBackfill(await start(workspace.id));
    expect(job.status).toBe('failed');
    expect(job.failure!.code).toBe('PROVIDER_UNAVAILABLE');
    expect(job.failure!.message).toContain('openai');
  });

  it('shows progress while running, in the row and in BullMQ', async () => {
    const { workspace, marker } = await workspaceWith(30);
    // held at the first record of page 3: pages 1 and 2 commit, and the job waits there, running
    const gate = simulator.gate({ marker: marker(10) });
    const jobId = await start(workspace.id);
    await gate.waitForHeld(1);

    const running = await api.waitForBackfill(jobId, (v) => v.counters.recordsProcessed === 10);
    expect(running).toMatchObject({ status: 'running', counters: { recordsFetched: 10, recordsProcessed: 10 } });
    // the queue's progress is reported right after the page's transaction commits
    const progress = await eventually(
      'the BullMQ progress of the held job',
      async () => (await queue().getJob(jobId))?.progress,
      (p) => typeof p === 'object' && p !== null && 'recordsProcessed' in p && p.recordsProcessed === 10,
    );
    expect(progress).toMatchObject({ recordsProcessed: 10, recordsFetched: 10 });
    expect(await (await queue().getJob(jobId))?.getState()).toBe('active');

    gate.open();
    const done = await api.waitForBackfill(jobId);
    expect(done).toMatchObject({ status: 'succeeded', counters: { recordsFetched: 30, recordsProcessed: 30 } });
    expect((await queue().getJob(jobId))?.progress).toMatchObject({ recordsProcessed: 30, recordsFetched: 30 });
  });

  it('answers 409 for a second backfill while one is active, and allows one after it ends', async () => {
    const { workspace, marker } = await workspaceWith(20);
    // the first backfill stays active, held at its first record, until the 409 has been seen
    const gate = simulator.gate({ marker: marker(0) });
    const first = await start(workspace.id);
    await gate.waitForHeld(1);
    const second = await api.request<ApiErrorBody>('POST', `/v1/workspaces/${workspace.id}/backfills`, { body: {} });
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('BACKFILL_ALREADY_ACTIVE');

    gate.open();
    expect(await api.waitForBackfill(first)).toMatchObject({ status: 'succeeded', counters: { recordsProcessed: 20 } });
    const third = await api.request<JobStarted>('POST', `/v1/workspaces/${workspace.id}/backfills`, { body: {} });
    expect(third.status).toBe(202);
    const again = await api.waitForBackfill(third.body.jobId);
    // a repeated backfill adds nothing: the graph is merged, never duplicated
    expect(again).toMatchObject({ status: 'succeeded', counters: { recordsProcessed: 20, entities: 0, relationships: 0 } });
  });

  it('cancels a running backfill after its current page', async () => {
    const { workspace, marker } = await workspaceWith(60);
    // held at the first records of pages 2 and 3 (both slots of the pool): page 1 is committed,
    // pages 2 and 3 are in flight, and the job has already decided to go on to page 3
    const page2 = simulator.gate({ marker: marker(5) });
    const page3 = simulator.gate({ marker: marker(10) });
    const jobId = await start(workspace.id);
    await page2.waitForHeld(1);
    await page3.waitForHeld(1);
    await api.waitForBackfill(jobId, (v) => v.counters.recordsProcessed === 5);

    expect((await api.request('POST', `/v1/backfills/${jobId}/cancel`)).status).toBe(202);
    page2.open();
    page3.open();
    const job = await api.waitForBackfill(jobId);

    expect(job.status).toBe('cancelled');
    // page 2, the current page when the cancel came, is finished and committed; page 3 never is
    expect(job.counters.recordsProcessed).toBe(10);
    expect((await api.request('POST', `/v1/backfills/${jobId}/cancel`)).status).toBe(409);
  });

  it('refuses a tenant on the free plan before fetching anything', async () => {
    const { tenant, workspace } = await workspaceWith(3, { OPENAI_API_KEY: key }, 'free');
    const job = await api.waitForBackfill(await start(workspace.id));
    expect(job).toMatchObject({ status: 'failed', failure: { code: 'PLAN_NOT_ELIGIBLE' }, counters: { recordsFetched: 0 } });
    expect(job.failure!.message).toContain(tenant.subdomain);
    expect(simulator.requests).toEqual([]);
  });

  it("uses the provider named by GRAPHRAG_PROVIDER with that provider's key", async () => {
    const { workspace } = await workspaceWith(4, { GRAPHRAG_PROVIDER: 'gemini', GEMINI_API_KEY: geminiKey, OPENAI_API_KEY: key });
    const job = await api.waitForBackfill(await start(workspace.id));
    expect(job).toMatchObject({ status: 'succeeded', provider: 'gemini', keySource: 'tenant', keyLast4: 'gem9' });
    expect(simulator.requestsFor('openai')).toEqual([]);
    expect(new Set(simulator.keysSeen('gemini'))).toEqual(new Set([fingerprintForSimulator(geminiKey)]));
  });

  it("answers 404 for another tenant's backfill and workspace", async () => {
    const { workspace } = await workspaceWith(1);
    const jobId = await start(workspace.id);
    const other = await api.newTenant();
    const token = await api.newTenantToken(other.id);
    expect((await api.request('GET', `/v1/backfills/${jobId}`, { token })).status).toBe(404);
    expect((await api.request('POST', `/v1/backfills/${jobId}/cancel`, { token })).status).toBe(404);
    expect((await api.request('POST', `/v1/workspaces/${workspace.id}/backfills`, { token, body: {} })).status).toBe(404);
    expect((await api.request('GET', `/v1/workspaces/${workspace.id}/backfills`, { token })).status).toBe(404);
    await api.waitForBackfill(jobId);
    const list = await api.request<ListOf<BackfillView>>('GET', `/v1/workspaces/${workspace.id}/backfills`);
    expect(list.body.items.map((j: { id: string }) => j.id)).toEqual([jobId]);
  });
});
