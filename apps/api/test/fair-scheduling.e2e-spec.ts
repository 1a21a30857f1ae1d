import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { RecordIngestService } from '#libs/records';
import { emailRecords, fingerprintForSimulator, ProviderSimulator, simulatorEnv, WorkerProcess } from '#libs/testing';
import type { BackfillView } from '../src/backfills/backfill.dto.js';
import { type ApiErrorBody, ApiHarness, type JobStarted, type Json } from './api-harness.js';

const CONCURRENCY = 2;
const TERMINAL = ['succeeded', 'failed', 'cancelled'];

/**
 * Fair scheduling across tenants with real worker processes (`npm test` builds them first): the
 * per-tenant cap on running backfills holds across workers, a tenant waiting behind a capped one
 * runs meanwhile, a killed worker's slots come back when their leases lapse, and a tenant holding
 * every slot yields one at a page boundary to a tenant that waits. Calls are held at the simulator's
 * gates (by a marker in the tenant's records), so nothing here depends on timing.
 */
describe('Fair scheduling across tenants (e2e, worker processes)', () => {
  const simulator = new ProviderSimulator({ validKeys: { openai: ['*'] } });
  const workers: WorkerProcess[] = [];
  let api: ApiHarness;

  async function startApi(env: Record<string, string>): Promise<void> {
    api = await ApiHarness.start({
      ...simulatorEnv(simulator.urls),
      SYNC_PAGE_SIZE: '5',
      SYNC_CONCURRENCY: String(CONCURRENCY),
      JOB_LOCK_DURATION_MS: '1500',
      JOB_RECONCILE_INTERVAL_MS: '300',
      ...env,
    });
  }

  async function startWorker(): Promise<WorkerProcess> {
    const worker = await WorkerProcess.start({ ...api.env, LOG_LEVEL: 'warn' });
    workers.push(worker);
    return worker;
  }

  beforeAll(async () => {
    await simulator.start();
  });
  afterEach(async () => {
    simulator.reset();
    for (const worker of workers.splice(0)) await worker.kill('SIGKILL');
    await api?.close();
  });
  afterAll(() => simulator.stop());

  /** A tenant with its own key and `workspaces` workspaces of `records` records, each record's subject carrying `marker`. */
  async function tenantWith(workspaces: number, records: number, marker: string) {
    const tenant = await api.newTenant();
    const key = `sk-fair-${randomBytes(12).toString('hex')}`;
    await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: key } });
    const ids: string[] = [];
    for (let i = 0; i < workspaces; i++) {
      const workspace = await api.newWorkspace(tenant.id, `Inbox ${i}`);
      const rows = emailRecords(records).map((record) => ({ ...record, subject: `${record.subject} ${marker}` }));
      await api.app.get(RecordIngestService).ingest(workspace.id, JSON.stringify(rows), 'json');
      ids.push(workspace.id);
    }
    return { tenantId: tenant.id, workspaceIds: ids, simulated: fingerprintForSimulator(key) };
  }

  const start = async (workspaceId: string) =>
    (await api.request<JobStarted>('POST', `/v1/workspaces/${workspaceId}/backfills`, { body: {} })).body.jobId;
  const view = async (jobId: string) => (await api.request<BackfillView>('GET', `/v1/backfills/${jobId}`)).body;
  const done = (jobId: string, timeoutMs = 60_000) => api.waitForBackfill(jobId, (v) => TERMINAL.includes(v.status), timeoutMs);

  it('holds a tenant to TENANT_MAX_ACTIVE_BACKFILLS across two workers, and runs a waiting tenant meanwhile', async () => {
    await startApi({ TENANT_MAX_ACTIVE_BACKFILLS: '2', SYNC_WORKER_CONCURRENCY: '2' });
    const capped = await tenantWith(3, 20, '[[tenant capped]]');
    const other = await tenantWith(1, 10, '[[tenant other]]');
    const gate = simulator.gate({ marker: '[[tenant capped]]' });
    await startWorker();
    await startWorker();

    const cappedJobs = [];
    for (const workspaceId of capped.workspaceIds) cappedJobs.push(await start(workspaceId));
    // two of its backfills run (their calls held), the third waits for a slot of its own tenant
    await gate.waitForHeld(2 * CONCURRENCY);
    const otherRun = await done(await start(other.workspaceIds[0]));

    expect(otherRun).toMatchObject({ status: 'succeeded', counters: { recordsProcessed: 10 } });
    const states = await Promise.all(cappedJobs.map(async (id) => (await view(id)).status));
    expect(states.filter((s) => s === 'queued')).toHaveLength(1);
    expect(gate.held).toBe(2 * CONCURRENCY);
    expect(simulator.keyStats(capped.simulated).maxInFlight).toBeLessThanOrEqual(2 * CONCURRENCY);

    gate.open();
    const ends = await Promise.all(cappedJobs.map((id) => done(id)));
    expect(ends.map((v) => [v.status, v.counters.recordsProcessed])).toEqual(cappedJobs.map(() => ['succeeded', 20]));
    expect(simulator.keyStats(capped.simulated).maxInFlight).toBeLessThanOrEqual(2 * CONCURRENCY);
  }, 120_000);

  it('frees the slots of a worker killed while it held them once their leases lapse', async () => {
    await startApi({ TENANT_MAX_ACTIVE_BACKFILLS: '2', SYNC_WORKER_CONCURRENCY: '2' });
    const tenant = await tenantWith(3, 15, '[[tenant crashed]]');
    const gate = simulator.gate({ marker: '[[tenant crashed]]' });
    const first = await startWorker();
    const jobs = [];
    for (const workspaceId of tenant.workspaceIds) jobs.push(await start(workspaceId));
    await gate.waitForHeld(2 * CONCURRENCY);

    await first.kill('SIGKILL');
    gate.open();
    await startWorker();

    // leaked slots would keep every job deferred for good: each one ends, each record once
    const ends = await Promise.all(jobs.map((id) => done(id, 90_000)));
    expect(ends.map((v: Json<BackfillView>) => [v.status, v.counters.recordsProcessed])).toEqual(jobs.map(() => ['succeeded', 15]));
  }, 120_000);

  it('makes a tenant holding every slot give one up within a page to a tenant that waits, shows it queued, and resumes it exactly', async () => {
    // pages of 200: the slot is given up between two records, not after the page (400 records in flight)
    await startApi({ TENANT_MAX_ACTIVE_BACKFILLS: '2', SYNC_WORKER_CONCURRENCY: '2', SYNC_PAGE_SIZE: '200' });
    const big = await tenantWith(2, 400, '[[tenant big]]');
    const small = await tenantWith(1, 10, '[[tenant small]]');
    // the big tenant's calls pass one at a time as the test lets them: its backfills cannot end on their own
    const gate = simulator.gate({ marker: '[[tenant big]]' });
    await startWorker();
    const bigJobs = [await start(big.workspaceIds[0]), await start(big.workspaceIds[1])];
    await gate.waitForHeld(2 * CONCURRENCY);
    const smallJob = await start(small.workspaceIds[0]);

    // let the big tenant's pages go on until the small tenant's backfill has run to its end
    const bigStatuses = new Set<string>();
    let smallView = await view(smallJob);
    while (!TERMINAL.includes(smallView.status)) {
      if (gate.held > 0) gate.release(1);
      await new Promise((resolve) => setTimeout(resolve, 20));
      smallView = await view(smallJob);
      for (const id of bigJobs) bigStatuses.add((await view(id)).status);
    }

    expect(smallView).toMatchObject({ status: 'succeeded', counters: { recordsProcessed: 10 } });
    // the one that gave its slot up waited as `queued`, its checkpoint inside its first page
    expect(bigStatuses).toContain('queued');
    const processed = await Promise.all(bigJobs.map(async (id) => (await view(id)).counters.recordsProcessed));
    expect(processed.every((n) => n < 400)).toBe(true);
    expect(processed.some((n) => n > 0 && n % 200 !== 0)).toBe(true);
    gate.open();
    const ends = await Promise.all(bigJobs.map((id) => done(id, 90_000)));
    expect(ends.map((v) => [v.status, v.counters.recordsProcessed])).toEqual([
      ['succeeded', 400],
      ['succeeded', 400],
    ]);
    // each record reached the provider once: nothing given up was sent again
    expect(simulator.keyStats(big.simulated).completions).toBe(800);
  }, 180_000);

  it('validates the rate settings: positive whole numbers only', async () => {
    await startApi({});
    const tenant = await api.newTenant();
    for (const value of ['abc', '0', '-5', '1.5', '99999999999']) {
      const refused = await api.request<ApiErrorBody>('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_RPM`, { body: { value } });
      expect([refused.status, refused.body.error.code]).toEqual([400, 'INVALID_SETTING_VALUE']);
    }
    const stored = await api.request<{ value: string }>('PUT', `/v1/tenants/${tenant.id}/settings/GEMINI_TPM`, { body: { value: '200000' } });
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({ key: 'GEMINI_TPM', isSecret: false, value: '200000' });
  });
});
