import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { PrismaService } from '#libs/database';
import type { ExtractionAnswer } from '#libs/graphrag';
import {
  ApiProcess,
  type AppProcess,
  createTestDatabase,
  emailRecords,
  fingerprintForSimulator,
  MediumContext,
  productionWorkerFlags,
  ProviderSimulator,
  scanTexts,
  simulatorEnv,
  testEnv,
  type TestDatabase,
  WorkerProcess,
} from '#libs/testing';
import type { AiJobView } from '../src/ai-jobs/ai-jobs.dto.js';
import type { BackfillView } from '../src/backfills/backfill.dto.js';
import type { JobStarted, Json } from './api-harness.js';
import { graphContent } from './graph-content.js';

const TENANTS = 6;
const WORKSPACES_PER_TENANT = 2;
const RECORDS_PER_WORKSPACE = 100;
const PAGE_SIZE = 20;
/** Provider calls in flight per backfill. */
const CONCURRENCY = 4;
const WORKERS = 3;
/** SYNC_WORKER_CONCURRENCY: the 12 backfills fill the 3 workers' slots exactly, 4 on each. */
const BACKFILLS_PER_WORKER = (TENANTS * WORKSPACES_PER_TENANT) / WORKERS;
/** AI_WORKER_CONCURRENCY: the first 6 AI jobs are held, 2 on each worker; the other 6 wait in the queue. */
const AI_JOBS_PER_WORKER = 2;
const AI_JOBS_PER_TENANT = 2;
/** The page whose calls are held when the worker is killed: the pages before it are committed. */
const HELD_PAGE = 3;
const COMMITTED_AT_KILL = (HELD_PAGE - 1) * PAGE_SIZE;
/** Lower case and brackets, so the simulator finds no entity in them. */
const tenantMarker = (tenant: number) => `[[tenant ${tenant}]]`;
const pageMarker = (page: number) => `[[page ${page}]]`;
const AI_MARKER = '[[ai job]]';
const TENANT_MARKER = /\[\[tenant (\d+)\]\]/;
const AI_TEXT = 'Alice Johnson from Acme Corp met Bob Smith about the renewal.';
const TERMINAL = ['succeeded', 'failed', 'cancelled'];

interface Tenant {
  /** Its place in `keys` and its marker's number. */
  index: number;
  token: string;
  workspaces: string[];
}

/**
 * Issue 15's scale-out run, every piece a real process: 2 API processes and 3 worker processes on
 * one Postgres and one Redis prefix, 6 byok tenants with a key each, 12 backfills and 12 AI jobs
 * started through both APIs in turn. A simulator gate holds every backfill on its third page and the
 * first AI jobs, so one worker is SIGKILLed with work in flight at a known point; then the gates open
 * and every job must end, every record be committed exactly once, the counters match the graph,
 * and each tenant's calls carry only its own key. `npm test` builds dist first.
 */
describe('Scale-out: 3 workers and 2 APIs, a worker killed mid-run (e2e, real processes)', () => {
  const keys = Array.from({ length: TENANTS }, (_, i) => `sk-scale-${randomBytes(12).toString('hex')}-t${i}`);
  const simulator = new ProviderSimulator({ validKeys: { openai: keys } });
  /** Key fingerprints each tenant's marked calls carried, and those of calls with no marker (key checks). */
  const keysByTenant = new Map<number, Set<string | null>>();
  const unmarkedKeys = new Set<string | null>();
  let database: TestDatabase;
  let db: MediumContext;
  const apis: ApiProcess[] = [];
  const workers: WorkerProcess[] = [];
  const tenants: Tenant[] = [];

  beforeAll(async () => {
    simulator.onRequest(({ bodyText, keyFingerprint }) => {
      const tenant = TENANT_MARKER.exec(bodyText)?.[1];
      if (tenant === undefined) unmarkedKeys.add(keyFingerprint);
      else keysByTenant.set(Number(tenant), (keysByTenant.get(Number(tenant)) ?? new Set()).add(keyFingerprint));
    });
    database = await createTestDatabase();
    const env = testEnv(database.url, {
      ...simulatorEnv(await simulator.start()),
      LOG_LEVEL: 'warn',
      SYNC_PAGE_SIZE: String(PAGE_SIZE),
      SYNC_CONCURRENCY: String(CONCURRENCY),
      SYNC_WORKER_CONCURRENCY: String(BACKFILLS_PER_WORKER),
      AI_WORKER_CONCURRENCY: String(AI_JOBS_PER_WORKER),
      // a dead worker's jobs are taken over within about two lock durations
      JOB_LOCK_DURATION_MS: '3000',
    });
    // started side by side (each pushed as it comes up, so afterAll stops it even if another fails);
    // five processes booting at once on two busy cores may take a while
    const ready = { readyTimeoutMs: 90_000 };
    await Promise.all([
      ...Array.from({ length: 2 }, async () => apis.push(await ApiProcess.start(env, ready))),
      ...Array.from({ length: WORKERS }, async () => workers.push(await WorkerProcess.start(env, { ...ready, nodeFlags: productionWorkerFlags() }))),
    ]);
    // the test's own view of the database, for what the API does not show (leases, mentions, key usage)
    db = await MediumContext.create({ database, env: { LOG_LEVEL: 'warn' } });
    tenants.push(...(await Promise.all(Array.from({ length: TENANTS }, (_, index) => newTenant(index)))));
  }, 180_000);

  afterAll(async () => {
    await Promise.all([...workers, ...apis].map((p) => p.stop()));
    await db?.close();
    await simulator.stop();
    await database?.drop();
  });

  /** API process 0 or 1 in turn, so both serve every kind of request. */
  const api = (turn: number) => apis[turn % apis.length];

  async function newTenant(index: number): Promise<Tenant> {
    const via = api(index);
    const created = await via.request<{ id: string }>('POST', '/v1/tenants', {
      body: { subdomain: `scale-${index}-${randomBytes(3).toString('hex')}`, planType: 'team', aiKeyMode: 'byok' },
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect((await via.request('PUT', `/v1/tenants/${id}/settings/OPENAI_API_KEY`, { body: { value: keys[index] } })).status).toBe(200);
    const { body } = await via.request<{ token: string }>('POST', `/v1/tenants/${id}/tokens`, { body: {} });
    const workspaces: string[] = [];
    for (let w = 0; w < WORKSPACES_PER_TENANT; w++) {
      const workspace = await api(index + w).request<{ id: string }>('POST', `/v1/tenants/${id}/workspaces`, {
        token: body.token,
        body: { name: `Inbox ${w}` },
      });
      // the same emails in every workspace (only the markers differ), so every graph must come out the same
      const records = emailRecords(RECORDS_PER_WORKSPACE).map((record, i) => ({
        ...record,
        subject: `${record.subject} ${tenantMarker(index)} ${pageMarker(Math.floor(i / PAGE_SIZE) + 1)}`,
      }));
      const ingested = await api(index + w + 1).request<{ accepted: number }>('POST', `/v1/workspaces/${workspace.body.id}/records`, {
        token: body.token,
        body: records,
      });
      expect(ingested.body.accepted).toBe(RECORDS_PER_WORKSPACE);
      workspaces.push(workspace.body.id);
    }
    return { index, token: body.token, workspaces };
  }

  const backfillView = async (tenant: Tenant, jobId: string, turn: number) =>
    (await api(turn).request<Json<BackfillView>>('GET', `/v1/backfills/${jobId}`, { token: tenant.token })).body;

  /**
   * Polls Postgres (one query a turn, which takes less from the busy processes than HTTP would) until
   * `done` holds for the rows; no sleep stands in for synchronisation, this only waits for the processes.
   */
  async function until<Row>(what: string, rows: () => Promise<Row[]>, done: (row: Row) => boolean, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await rows()).every(done)) {
      if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('ends every job, commits every record once with exact counters, and keeps each tenant on its own key', async () => {
    const backfillGate = simulator.gate({ marker: pageMarker(HELD_PAGE) });
    const aiGate = simulator.gate({ marker: AI_MARKER });
    const backfills: { tenant: Tenant; workspaceId: string; jobId: string }[] = [];
    const aiJobs: { tenant: Tenant; jobId: string }[] = [];
    let turn = 0;
    for (const tenant of tenants) {
      for (const workspaceId of tenant.workspaces) {
        const started = await api(turn++).request<JobStarted>('POST', `/v1/workspaces/${workspaceId}/backfills`, { token: tenant.token, body: {} });
        expect(started.status).toBe(202);
        backfills.push({ tenant, workspaceId, jobId: started.body.jobId });
      }
    }
    for (let n = 0; n < AI_JOBS_PER_TENANT; n++) {
      for (const tenant of tenants) {
        const text = `${AI_TEXT} ${tenantMarker(tenant.index)} ${AI_MARKER}`;
        const started = await api(turn++).request<JobStarted>('POST', '/v1/ai/jobs/extract', { token: tenant.token, body: { text } });
        expect(started.status).toBe(202);
        aiJobs.push({ tenant, jobId: started.body.jobId });
      }
    }

    // every backfill runs (4 on each worker, no more fit) and has its third page's calls held
    await backfillGate.waitForHeld(backfills.length * CONCURRENCY);
    await aiGate.waitForHeld(WORKERS * AI_JOBS_PER_WORKER);
    const prisma = db.get(PrismaService);
    const backfillRows = () => prisma.backfill.findMany({ where: { id: { in: backfills.map((b) => b.jobId) } }, orderBy: { id: 'asc' } });
    const aiJobRows = () => prisma.aiJob.findMany({ where: { id: { in: aiJobs.map((j) => j.jobId) } } });
    await until('pages 1 and 2 committed everywhere', backfillRows, (row) => row.recordsProcessed === COMMITTED_AT_KILL);
    const leasesAtKill = new Map((await backfillRows()).map((row) => [row.id, row.leaseToken]));

    await workers[0].kill('SIGKILL');
    backfillGate.open();
    aiGate.open();

    await until('every backfill ended', backfillRows, (row) => TERMINAL.includes(row.status));
    await until('every AI job ended', aiJobRows, (row) => TERMINAL.includes(row.status));

    // the killed worker's backfills (at least its 4) were taken over by another run, which resumed
    // from their checkpoint
    const resumed = (await backfillRows()).filter((row) => row.leaseToken !== leasesAtKill.get(row.id));
    expect(resumed.length).toBeGreaterThanOrEqual(BACKFILLS_PER_WORKER);

    const reference = await graphContent(db, backfills[0].workspaceId);
    expect(reference.mentions).toBeGreaterThan(RECORDS_PER_WORKSPACE);
    for (const [i, { tenant, workspaceId, jobId }] of backfills.entries()) {
      const view = await backfillView(tenant, jobId, i);
      const graph = await graphContent(db, workspaceId);
      const usage = await prisma.keyUsage.groupBy({ by: ['outcome'], where: { jobId }, _sum: { calls: true } });
      expect({ status: view.status, failure: view.failure, counters: view.counters, graph, usage: usage.map((u) => u.outcome) }).toEqual({
        status: 'succeeded',
        failure: null,
        counters: {
          recordsFetched: RECORDS_PER_WORKSPACE,
          recordsProcessed: RECORDS_PER_WORKSPACE,
          recordsFailed: 0,
          itemsDropped: 0,
          // each backfill is alone in its workspace: what it added is the whole graph
          entities: reference.entities,
          relationships: reference.relationships,
        },
        // every record committed once: the same graph as every other workspace's
        graph: reference,
        usage: ['ok'],
      });
      // a call per record (and any retry), recorded with the page that committed it
      expect(usage[0]._sum.calls).toBeGreaterThanOrEqual(RECORDS_PER_WORKSPACE);
    }

    for (const [i, { tenant, jobId }] of aiJobs.entries()) {
      const { body } = await api(i).request<Json<AiJobView>>('GET', `/v1/ai/jobs/${jobId}`, { token: tenant.token });
      expect(body).toMatchObject({ status: 'succeeded', error: null, keySource: 'tenant' });
      expect((body.result as ExtractionAnswer).entities).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Acme Corp' })]));
      const usage = await prisma.keyUsage.aggregate({ where: { jobId }, _sum: { calls: true } });
      expect(usage._sum.calls).toBeGreaterThanOrEqual(1);
    }

    // the simulator saw each tenant's records and texts with that tenant's key and no other; the
    // calls without a marker (live key checks) carried tenants' keys only
    const fingerprints = keys.map(fingerprintForSimulator);
    expect(Object.fromEntries([...keysByTenant].map(([t, seen]) => [t, [...seen]]))).toEqual(
      Object.fromEntries(tenants.map((t) => [t.index, [fingerprints[t.index]]])),
    );
    expect(fingerprints).toEqual(expect.arrayContaining([...unmarkedKeys]));

    // and no process wrote a key anywhere in its output
    const processes = new Map<string, AppProcess>([
      ...apis.map((p, i) => [`api ${i}`, p] as const),
      ...workers.map((p, i) => [`worker ${i}`, p] as const),
    ]);
    for (const [name, child] of processes) expect(scanTexts(name, [...child.stdout, ...child.stderr], keys)).toEqual([]);
  }, 240_000);
});
