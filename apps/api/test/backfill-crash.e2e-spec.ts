import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { RecordIngestService } from '#libs/records';
import { emailRecords, ProviderSimulator, simulatorEnv, WorkerProcess } from '#libs/testing';
import type { BackfillView } from '../src/backfills/backfill.dto.js';
import { ApiHarness, type JobStarted } from './api-harness.js';
import { graphContent as contentOf } from './graph-content.js';

const RECORDS = 120;
const PAGE_SIZE = 10;
const CONCURRENCY = 4;
/** The page the first worker is killed on: pages before it are committed, its calls are held. */
const KILLED_ON_PAGE = 4;
/** In every record's subject; lower case and brackets, so the simulator finds no entity in it. */
const pageMarker = (page: number) => `[[page ${page}]]`;

/**
 * Kills a worker process with SIGKILL in the middle of a backfill, starts a fresh one, and checks
 * that the resumed job ends with exactly the graph of an uninterrupted run. Runs the built worker
 * (`npm test` builds first), as production does.
 */
describe('Backfill crash safety (e2e, real worker processes)', () => {
  const key = `sk-crash-${randomBytes(12).toString('hex')}-4242`;
  const simulator = new ProviderSimulator({ validKeys: { openai: [key] } });
  const workers: WorkerProcess[] = [];
  let api: ApiHarness;

  beforeAll(async () => {
    api = await ApiHarness.start({
      ...simulatorEnv(await simulator.start()),
      SYNC_PAGE_SIZE: String(PAGE_SIZE),
      SYNC_CONCURRENCY: String(CONCURRENCY),
      JOB_LOCK_DURATION_MS: '1500',
    });
  });
  afterEach(() => simulator.reset());
  afterAll(async () => {
    for (const worker of workers) await worker.stop();
    await api?.close();
    await simulator.stop();
  });

  async function startWorker(): Promise<WorkerProcess> {
    const worker = await WorkerProcess.start({ ...api.env, LOG_LEVEL: 'warn' });
    workers.push(worker);
    return worker;
  }

  async function workspaceWithRecords() {
    const tenant = await api.newTenant();
    const workspace = await api.newWorkspace(tenant.id);
    await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: key } });
    const records = emailRecords(RECORDS).map((record, index) => ({
      ...record,
      subject: `${record.subject} ${pageMarker(Math.floor(index / PAGE_SIZE) + 1)}`,
    }));
    await api.app.get(RecordIngestService).ingest(workspace.id, JSON.stringify(records), 'json');
    return workspace;
  }

  const graphContent = (workspaceId: string) => contentOf(api, workspaceId);

  const start = async (workspaceId: string) =>
    (await api.request<JobStarted>('POST', `/v1/workspaces/${workspaceId}/backfills`, { body: {} })).body.jobId;

  it('resumes after SIGKILL with exactly the graph of an uninterrupted run', async () => {
    const reference = await workspaceWithRecords();
    const crashed = await workspaceWithRecords();
    const first = await startWorker();

    const uninterrupted = await api.waitForBackfill(await start(reference.id), undefined, 60_000);
    expect(uninterrupted.status).toBe('succeeded');

    // the crashed run's calls for page 4 are held: pages 1 to 3 commit, page 4 never can
    const gate = simulator.gate({ marker: pageMarker(KILLED_ON_PAGE) });
    const jobId = await start(crashed.id);
    await gate.waitForHeld(CONCURRENCY);
    const committed = (KILLED_ON_PAGE - 1) * PAGE_SIZE;
    await api.waitForBackfill(jobId, (v) => v.counters.recordsProcessed === committed, 60_000);
    await first.kill('SIGKILL');

    const orphaned = (await api.request<BackfillView>('GET', `/v1/backfills/${jobId}`)).body;
    expect(orphaned.status).toBe('running');
    expect(orphaned.counters.recordsProcessed).toBe(committed);
    const partial = await graphContent(crashed.id);
    expect(partial.mentions).toBeGreaterThan(0);
    expect(partial.mentions).toBeLessThan((await graphContent(reference.id)).mentions);

    // the held calls belonged to the dead worker; the next worker's go through
    gate.open();
    await startWorker();
    const resumed = await api.waitForBackfill(jobId, undefined, 60_000);

    expect(resumed.status).toBe('succeeded');
    expect(resumed.counters).toEqual(uninterrupted.counters);
    const expected = await graphContent(reference.id);
    expect(await graphContent(crashed.id)).toEqual(expected);
    expect(expected.mentions).toBeGreaterThan(RECORDS);
  }, 120_000);
});
