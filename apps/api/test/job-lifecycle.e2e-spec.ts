import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { PrismaService } from '#libs/database';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { JobName, JobQueue, QueueName } from '#libs/queue';
import { RecordIngestService } from '#libs/records';
import {
  emailRecords,
  fingerprintForSimulator,
  PrivatePostgres,
  PrivateRedis,
  ProviderSimulator,
  type SimulatorUrls,
  simulatorEnv,
  WorkerProcess,
} from '#libs/testing';
import type { AiJobView } from '../src/ai-jobs/ai-jobs.dto.js';
import type { BackfillView } from '../src/backfills/backfill.dto.js';
import { type ApiErrorBody, ApiHarness, type JobStarted, type Json, type ListOf } from './api-harness.js';
import { graphContent } from './graph-content.js';

const RECORDS = 60;
const PAGE_SIZE = 10;
const CONCURRENCY = 4;
/** The page whose provider calls are held while the test breaks something: pages before it are committed. */
const HELD_PAGE = 3;
const COMMITTED = (HELD_PAGE - 1) * PAGE_SIZE;
/** BullMQ's maxStalledCount for backfills (libs/queue workerOptionsFor): one kill more fails the queue entry. */
const MAX_STALLS = 2;
/** In every record's subject; lower case and brackets, so the simulator finds no entity in it. */
const pageMarker = (page: number) => `[[page ${page}]]`;
const pages = Array.from({ length: RECORDS / PAGE_SIZE }, (_, i) => i + 1);

const ENV = {
  SYNC_PAGE_SIZE: String(PAGE_SIZE),
  SYNC_CONCURRENCY: String(CONCURRENCY),
  JOB_LOCK_DURATION_MS: '1500',
  JOB_RECONCILE_INTERVAL_MS: '300',
  JOB_RECONCILE_GRACE_MS: '1000',
};

/** A simulator, an API and the worker processes a test starts, all stopped in afterAll. */
class Rig {
  readonly simulator: ProviderSimulator;
  readonly workers: WorkerProcess[] = [];
  api!: ApiHarness;

  constructor(readonly keys: { stored: string; request: string }) {
    this.simulator = new ProviderSimulator({ validKeys: { openai: [keys.stored, keys.request] } });
  }

  private simulatorUrls: SimulatorUrls | undefined;

  /** The simulator (once) and an API on a fresh database (or `databaseUrl`), with ENV and `env`. */
  async start(env: Record<string, string> = {}, databaseUrl?: string): Promise<void> {
    this.simulatorUrls ??= await this.simulator.start();
    this.api = await ApiHarness.start({ ...simulatorEnv(this.simulatorUrls), ...ENV, ...env }, { databaseUrl });
  }

  /** Every worker killed, the API closed, and a new one started with `env`. */
  async restart(env: Record<string, string>): Promise<void> {
    await this.killWorkers();
    await this.api.close();
    await this.start(env);
  }

  async killWorkers(): Promise<void> {
    for (const worker of this.workers.splice(0)) {
      if (worker.running) worker.resume();
      await worker.kill('SIGKILL');
    }
  }

  async startWorker(env: Record<string, string> = {}): Promise<WorkerProcess> {
    const worker = await WorkerProcess.start({ ...this.api.env, LOG_LEVEL: 'info', ...env });
    this.workers.push(worker);
    return worker;
  }

  async close(): Promise<void> {
    this.simulator.reset();
    await this.killWorkers();
    await this.api?.close();
    await this.simulator.stop();
  }

  /** A team tenant with its stored key and RECORDS records, each marked with its page. */
  async workspace(): Promise<{ tenantId: string; workspaceId: string }> {
    const tenant = await this.api.newTenant();
    const workspace = await this.api.newWorkspace(tenant.id);
    await this.api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: this.keys.stored } });
    const records = emailRecords(RECORDS).map((record, index) => ({
      ...record,
      subject: `${record.subject} ${pageMarker(Math.floor(index / PAGE_SIZE) + 1)}`,
    }));
    await this.api.app.get(RecordIngestService).ingest(workspace.id, JSON.stringify(records), 'json');
    return { tenantId: tenant.id, workspaceId: workspace.id };
  }

  /** POST a backfill with the request key in BYOK headers. */
  startBackfill(workspaceId: string, body: object = {}) {
    return this.api.request<JobStarted>('POST', `/v1/workspaces/${workspaceId}/backfills`, {
      body,
      headers: { 'X-User-Provider': 'openai', 'X-User-Api-Key': this.keys.request },
    });
  }

  /** The queue entry's payload as stored in Redis (null when the entry is gone). */
  async queueData(jobId: string): Promise<Record<string, unknown> | null> {
    const queue = this.api.app.get<Queue>(getQueueToken(QueueName.Backfills));
    return ((await queue.getJob(jobId))?.data as Record<string, unknown> | undefined) ?? null;
  }

  /** Provider calls the key_usage table recorded for a job. */
  async usageCalls(jobId: string): Promise<number> {
    const rows = await this.api.app.get(PrismaService).keyUsage.findMany({ where: { jobId } });
    return rows.reduce((sum, row) => sum + row.calls, 0);
  }

  /** An uninterrupted run on a fresh workspace by a worker of its own, for comparison. */
  async reference() {
    const { workspaceId } = await this.workspace();
    const worker = await this.startWorker();
    const started = await this.startBackfill(workspaceId);
    const view = await this.api.waitForBackfill(started.body.jobId, undefined, 60_000);
    await worker.kill('SIGKILL');
    expect(view.status).toBe('succeeded');
    return { view, content: await graphContent(this.api, workspaceId) };
  }

  /**
   * A backfill of a fresh workspace run by a new worker, held mid-run: the pages before HELD_PAGE
   * committed, HELD_PAGE's calls waiting at `gate`.
   */
  async heldMidRun() {
    const { workspaceId } = await this.workspace();
    const gate = this.simulator.gate({ marker: pageMarker(HELD_PAGE) });
    const worker = await this.startWorker();
    const jobId = (await this.startBackfill(workspaceId)).body.jobId;
    await gate.waitForHeld(CONCURRENCY);
    await this.api.waitForBackfill(jobId, (v) => v.counters.recordsProcessed === COMMITTED, 30_000);
    return { workspaceId, gate, worker, jobId };
  }

  /** Open gates that count each earlier page's provider calls from now on. */
  countCommittedPages() {
    return pages.slice(0, HELD_PAGE - 1).map((page) => {
      const gate = this.simulator.gate({ marker: pageMarker(page) });
      gate.open();
      return gate;
    });
  }
}

const terminal = (v: Json<BackfillView>) => ['succeeded', 'failed', 'cancelled'].includes(v.status);

describe('Job lifecycle under faults (e2e, real worker processes)', () => {
  const rig = new Rig({ stored: `sk-life-${randomBytes(12).toString('hex')}-5151`, request: `sk-req-${randomBytes(12).toString('hex')}-6262` });

  beforeAll(() => rig.start(), 60_000);
  afterEach(async () => {
    rig.simulator.reset();
    await rig.killWorkers();
  }, 30_000);
  // killing workers, closing the API and dropping its database take longer than jest's 5 s default
  afterAll(() => rig.close(), 60_000);

  it('a worker killed more often than the queue allows: WORKER_LOST, sealed key erased, a new backfill resumes from the checkpoint to the same graph', async () => {
    const { api, simulator } = rig;
    const reference = await rig.reference();
    const { workspaceId } = await rig.workspace();
    const gate = simulator.gate({ marker: pageMarker(HELD_PAGE) });
    const started = await rig.startBackfill(workspaceId);
    expect(started.status).toBe(202);
    const jobId = started.body.jobId;

    for (let kill = 1; kill <= MAX_STALLS + 1; kill++) {
      const worker = await rig.startWorker();
      await gate.waitForHeld(CONCURRENCY * kill);
      await api.waitForBackfill(jobId, (v) => v.counters.recordsProcessed === COMMITTED, 30_000);
      expect((await rig.queueData(jobId))?.sealedKey).toBeDefined();
      await worker.kill('SIGKILL');
    }
    // the next worker's stalled check fails the queue entry; its reconciler settles the row
    await rig.startWorker();
    const lost = await api.waitForBackfill(jobId, terminal, 30_000);
    expect(lost.status).toBe('failed');
    expect(lost.failure?.code).toBe('WORKER_LOST');
    expect(lost.failure?.message).toMatch(/killed or crashed/);
    expect(lost.failure?.message).toMatch(/resumes from its checkpoint/);
    expect(lost.counters.recordsProcessed).toBe(COMMITTED);
    const data = await rig.queueData(jobId);
    expect(data).not.toBeNull();
    expect(data).not.toHaveProperty('sealedKey');

    // a new backfill starts at once, continues from the checkpoint and never sends committed records again
    gate.open();
    const sentAgain = rig.countCommittedPages();
    const resumed = await rig.startBackfill(workspaceId);
    expect(resumed.status).toBe(202);
    expect(resumed.body.resumedFrom).toBe(jobId);
    const done = await api.waitForBackfill(resumed.body.jobId, terminal, 60_000);
    expect(done.status).toBe('succeeded');
    expect(done.resumedFrom).toBe(jobId);
    expect(done.counters.recordsProcessed).toBe(RECORDS - COMMITTED);
    expect(sentAgain.map((g) => g.arrived)).toEqual(sentAgain.map(() => 0));
    expect(await graphContent(api, workspaceId)).toEqual(reference.content);

    // and fromStart reads every record again, from the beginning
    const full = await rig.startBackfill(workspaceId, { fromStart: true });
    expect(full.body.resumedFrom).toBeNull();
    expect((await api.waitForBackfill(full.body.jobId, terminal, 60_000)).counters.recordsProcessed).toBe(RECORDS);
    expect(await graphContent(api, workspaceId)).toEqual(reference.content);
    await rig.killWorkers();
  }, 180_000);

  it('a worker paused past its lock while a second takes over: counters exact, the paused one commits nothing, key_usage counts every call the provider billed', async () => {
    const { api, simulator } = rig;
    const { workspaceId } = await rig.workspace();
    const gate = simulator.gate({ marker: pageMarker(HELD_PAGE) });
    const paused = await rig.startWorker();
    const jobId = (await rig.startBackfill(workspaceId)).body.jobId;
    await gate.waitForHeld(CONCURRENCY);
    await api.waitForBackfill(jobId, (v) => v.counters.recordsProcessed === COMMITTED, 30_000);
    paused.pause();

    // the second worker finds the lock lapsed, claims the job and holds the same page
    const second = await rig.startWorker();
    await gate.waitForHeld(CONCURRENCY * 2);
    gate.open();
    const done = await api.waitForBackfill(jobId, terminal, 60_000);
    paused.resume();
    // the paused worker wakes with its page's answers: its lease check stops it, and its commit is fenced
    await waitForLine(paused, /lock lost|lease lost/i);
    const after = await api.waitForBackfill(jobId, terminal);

    expect(done.status).toBe('succeeded');
    expect(after.counters).toEqual(done.counters);
    expect(after.counters.recordsProcessed).toBe(RECORDS);
    expect(after.counters.recordsFetched).toBe(RECORDS);
    // both runs' calls were billed: the paused run records its uncommitted page's calls as it stops,
    // so key_usage ends equal to what the provider answered (every record once, plus the page sent twice)
    // the backfill runs on the caller's request key (startBackfill sends it in the BYOK headers)
    const billed = () => simulator.usageReported(fingerprintForSimulator(rig.keys.request)).length;
    const deadline = Date.now() + 20_000;
    while ((await rig.usageCalls(jobId)) !== billed() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await rig.usageCalls(jobId)).toBe(billed());
    expect(billed()).toBeGreaterThanOrEqual(RECORDS + CONCURRENCY);
    expect(paused.running).toBe(true);
    await paused.kill('SIGKILL');
    await second.kill('SIGKILL');
  }, 120_000);

  it('SIGTERM starts no more records, commits those in flight (a checkpoint inside the page), hands the job back as queued, exits 0; another worker resumes it without waiting for the lock', async () => {
    // a lock of a minute: a takeover that waited for it would not finish within this test's wait
    await rig.restart({ JOB_LOCK_DURATION_MS: '60000' });
    const { api, simulator } = rig;
    const { workspaceId } = await rig.workspace();
    const gate = simulator.gate({ marker: pageMarker(HELD_PAGE) });
    const stopping = await rig.startWorker();
    const jobId = (await rig.startBackfill(workspaceId)).body.jobId;
    await gate.waitForHeld(CONCURRENCY);
    const next = await rig.startWorker();

    stopping.child.kill('SIGTERM');
    await waitForLine(stopping, /Shutting down/);
    gate.open();
    await stopping.waitForExit();
    expect(stopping.exitCode).toBe(0);
    expect(stopping.stdout.join('\n')).toMatch(/handed back to the queue/);
    const handedOver = await api.waitForBackfill(jobId, () => true);
    // the pages before the held one, and the held page's records that were in flight: none started after SIGTERM
    expect(handedOver.counters.recordsProcessed).toBe(COMMITTED + CONCURRENCY);
    if (handedOver.counters.recordsProcessed < RECORDS) expect(['queued', 'preflight', 'running']).toContain(handedOver.status);
    expect(['pending', 'running', 'completed']).toContain((await api.app.get(JobQueue).entryOf(JobName.Backfill, jobId)).state);

    const done = await api.waitForBackfill(jobId, terminal, 20_000);
    expect(done.status).toBe('succeeded');
    expect(done.counters.recordsProcessed).toBe(RECORDS);
    expect(await rig.usageCalls(jobId)).toBe(RECORDS);
    await next.kill('SIGKILL');
  }, 120_000);

  it('cancel ends an orphaned job at once; transfer answers 409 while a job is active, then cancelActive cancels it', async () => {
    await rig.restart({});
    const { api, simulator } = rig;
    // orphaned: its worker died and nothing runs it
    const orphan = await rig.workspace();
    const gate = simulator.gate({ marker: pageMarker(HELD_PAGE) });
    const worker = await rig.startWorker();
    const orphanJob = (await rig.startBackfill(orphan.workspaceId)).body.jobId;
    await gate.waitForHeld(CONCURRENCY);
    await worker.kill('SIGKILL');
    // once its lock has lapsed nothing holds it: no worker will ever stop it at a page boundary
    const queue = api.app.get(JobQueue);
    while ((await queue.entryOf(JobName.Backfill, orphanJob)).state !== 'stalled') await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await api.request('POST', `/v1/backfills/${orphanJob}/cancel`)).status).toBe(202);
    const cancelled = (await api.request<BackfillView>('GET', `/v1/backfills/${orphanJob}`)).body;
    expect(cancelled.status).toBe('cancelled');
    expect(await rig.queueData(orphanJob)).toBeNull();

    // a running job of tenant A blocks the move of its workspace to tenant B
    const a = await rig.workspace();
    const b = await api.newTenant();
    const tokenA = await api.newTenantToken(a.tenantId);
    const tokenB = await api.newTenantToken(b.id);
    await rig.startWorker();
    const jobId = (await rig.startBackfill(a.workspaceId)).body.jobId;
    await gate.waitForHeld(CONCURRENCY * 2);
    // the page before the held one commits first (a commit after the move would be fenced off)
    await api.waitForBackfill(jobId, (v) => v.counters.recordsProcessed === COMMITTED, 30_000);
    const blocked = await api.request<ApiErrorBody>('POST', `/v1/workspaces/${a.workspaceId}/transfer`, { body: { tenantId: b.id } });
    expect(blocked.status).toBe(409);
    expect(blocked.body.error.code).toBe('TRANSFER_BLOCKED_BY_ACTIVE_JOB');
    expect(blocked.body.error.message).toContain(jobId);
    expect((await api.request<BackfillView>('GET', `/v1/backfills/${jobId}`)).body.status).toBe('running');

    const moved = await api.request('POST', `/v1/workspaces/${a.workspaceId}/transfer?cancelActive=true`, { body: { tenantId: b.id } });
    expect(moved.status).toBe(200);
    gate.open();
    const ended = await api.waitForBackfill(jobId, terminal, 30_000);
    expect(ended.status).toBe('cancelled');
    expect(ended.counters.recordsProcessed).toBe(COMMITTED);

    // the job stays tenant A's: A reads it, B does not see it, and B's own backfill does not resume from it
    expect((await api.request<BackfillView>('GET', `/v1/backfills/${jobId}`, { token: tokenA })).body.tenantId).toBe(a.tenantId);
    expect((await api.request<ApiErrorBody>('GET', `/v1/backfills/${jobId}`, { token: tokenB })).status).toBe(404);
    expect((await api.request<ApiErrorBody>('POST', `/v1/backfills/${jobId}/cancel`, { token: tokenB })).status).toBe(404);
    const listedForB = await api.request<ListOf<BackfillView>>('GET', `/v1/workspaces/${a.workspaceId}/backfills`, { token: tokenB });
    expect(listedForB.body.items).toEqual([]);
    await api.request('PUT', `/v1/tenants/${b.id}/settings/OPENAI_API_KEY`, { body: { value: rig.keys.stored } });
    const own = await api.request<JobStarted>('POST', `/v1/workspaces/${a.workspaceId}/backfills`, { token: tokenB, body: {} });
    expect(own.status).toBe(202);
    expect(own.body.resumedFrom).toBeNull();
    const ownDone = await api.waitForBackfill(own.body.jobId, terminal, 60_000);
    expect(ownDone).toMatchObject({ status: 'succeeded', tenantId: b.id });
    await rig.killWorkers();
  }, 120_000);
});

describe('Job lifecycle when Redis restarts without persistence (e2e, private Redis)', () => {
  const rig = new Rig({ stored: `sk-redis-${randomBytes(12).toString('hex')}-7171`, request: `sk-req-${randomBytes(12).toString('hex')}-8181` });
  let redis: PrivateRedis;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    await rig.start({ REDIS_URL: redis.url });
  }, 60_000);
  afterEach(async () => {
    rig.simulator.reset();
    await rig.killWorkers();
  }, 30_000);
  afterAll(async () => {
    await rig.close();
    await redis?.destroy();
  }, 60_000);

  it('a job Redis lost is settled WORKER_LOST by the reconciler; a new backfill resumes it; no process restarted', async () => {
    const { api } = rig;
    const reference = await rig.reference();
    const { workspaceId, gate, worker, jobId } = await rig.heldMidRun();

    await redis.restart();
    // the run sees its lock gone with the rest of Redis and stops before its held page can commit
    await waitForLine(worker, /lock lost/i);
    gate.open();
    const lost = await api.waitForBackfill(jobId, terminal, 30_000);
    expect(lost.status).toBe('failed');
    expect(lost.failure?.code).toBe('WORKER_LOST');
    expect(lost.failure?.message).toMatch(/no longer has this job/);
    expect(lost.counters.recordsProcessed).toBe(COMMITTED);

    const resumed = await rig.startBackfill(workspaceId);
    expect(resumed.status).toBe(202);
    expect(resumed.body.resumedFrom).toBe(jobId);
    const done = await api.waitForBackfill(resumed.body.jobId, terminal, 60_000);
    expect(done.status).toBe('succeeded');
    expect(done.counters.recordsProcessed).toBe(RECORDS - COMMITTED);
    expect(await graphContent(api, workspaceId)).toEqual(reference.content);
    expect(worker.running).toBe(true);
  }, 180_000);

  it('an AI job whose worker died while Redis lost its entry is settled WORKER_LOST', async () => {
    const { api, simulator } = rig;
    const { tenantId } = await rig.workspace();
    const token = await api.newTenantToken(tenantId);
    const gate = simulator.gate({ marker: '[[held ai job]]' });
    const worker = await rig.startWorker();
    const created = await api.request<JobStarted>('POST', '/v1/ai/jobs/extract', {
      token,
      body: { text: 'Ada Lovelace wrote to Charles Babbage. [[held ai job]]' },
      headers: { 'X-User-Provider': 'openai', 'X-User-Api-Key': rig.keys.request },
    });
    expect(created.status).toBe(202);
    await gate.waitForHeld(1);
    await worker.kill('SIGKILL');
    await redis.restart();
    gate.open();

    await rig.startWorker();
    const deadline = Date.now() + 20_000;
    let job = (await api.request<AiJobView>('GET', `/v1/ai/jobs/${created.body.jobId}`, { token })).body;
    while (job.status !== 'failed' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      job = (await api.request<AiJobView>('GET', `/v1/ai/jobs/${created.body.jobId}`, { token })).body;
    }
    expect(job).toMatchObject({ status: 'failed', error: { code: 'WORKER_LOST' } });
    expect(job.error?.message).toMatch(/Start the AI job again/);
  }, 60_000);
});

describe('Job lifecycle when Postgres stops for 10 s (e2e, private Postgres)', () => {
  const rig = new Rig({ stored: `sk-pg-${randomBytes(12).toString('hex')}-9191`, request: `sk-req-${randomBytes(12).toString('hex')}-1212` });
  let postgres: PrivatePostgres;

  beforeAll(async () => {
    postgres = await PrivatePostgres.create();
    await rig.start({}, await postgres.migratedDatabase('lifecycle'));
  }, 60_000);
  afterAll(async () => {
    await rig.close();
    await postgres?.destroy();
  }, 60_000);

  it('the worker stays up and resumes the job when Postgres returns; the API answers 503 meanwhile', async () => {
    const { api } = rig;
    const reference = await rig.reference();
    const { workspaceId, gate, worker, jobId } = await rig.heldMidRun();

    await postgres.stop('immediate');
    // the held page's answers arrive while Postgres is away: its write fails, the job waits for the database
    gate.open();
    const outageEnds = Date.now() + 10_000;
    const answers: number[] = [];
    while (Date.now() < outageEnds) {
      const read = await api.request<ApiErrorBody>('GET', `/v1/backfills/${jobId}`);
      answers.push(read.status);
      if (read.status === 503) expect(read.body.error.code).toBe('DATABASE_UNAVAILABLE');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    expect(new Set(answers)).toEqual(new Set([503]));
    expect(worker.running).toBe(true);
    await postgres.start();

    const done = await api.waitForBackfill(jobId, terminal, 60_000);
    expect(done.status).toBe('succeeded');
    expect(done.counters).toEqual(reference.view.counters);
    expect(await graphContent(api, workspaceId)).toEqual(reference.content);
    expect(await rig.usageCalls(jobId)).toBe(RECORDS);
    expect(worker.running).toBe(true);
  }, 180_000);
});

/** Resolves once the worker has written a line matching `pattern` (stdout or stderr), or fails after 20 s. */
async function waitForLine(worker: WorkerProcess, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (![...worker.stdout, ...worker.stderr].some((line) => pattern.test(line))) {
    if (Date.now() > deadline) throw new Error(`the worker never logged ${String(pattern)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
