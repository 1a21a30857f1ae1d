import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PrismaService } from '#libs/database';
import { RecordIngestService } from '#libs/records';
import { emailRecords, ProviderSimulator, simulatorEnv } from '#libs/testing';
import type { BackfillView } from '../src/backfills/backfill.dto.js';
import { ApiHarness, type JobStarted } from './api-harness.js';

const WORKER_MAIN = join(process.cwd(), 'dist', 'apps', 'worker', 'src', 'main.js');
const RECORDS = 120;

/**
 * Kills a worker process with SIGKILL in the middle of a backfill, starts a fresh one, and checks
 * that the resumed job ends with exactly the graph of an uninterrupted run. Runs the built worker
 * (`npm test` builds first), as production does.
 */
describe('Backfill crash safety (e2e, real worker processes)', () => {
  const key = `sk-crash-${randomBytes(12).toString('hex')}-4242`;
  const simulator = new ProviderSimulator({ validKeys: { openai: [key] }, latencyMs: 10 });
  const workers: ChildProcess[] = [];
  let api: ApiHarness;

  beforeAll(async () => {
    if (!existsSync(WORKER_MAIN)) throw new Error(`${WORKER_MAIN} is missing: run npm run build (npm test does it)`);
    api = await ApiHarness.start({
      ...simulatorEnv(await simulator.start()),
      SYNC_PAGE_SIZE: '10',
      SYNC_CONCURRENCY: '4',
      JOB_LOCK_DURATION_MS: '1500',
    });
  });
  afterAll(async () => {
    for (const worker of workers) if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    await api.close();
    await simulator.stop();
  });

  function startWorker(): ChildProcess {
    const worker = spawn(process.execPath, [WORKER_MAIN], { env: { ...api.env, LOG_LEVEL: 'warn', PATH: process.env.PATH }, stdio: 'ignore' });
    workers.push(worker);
    return worker;
  }

  async function workspaceWithRecords() {
    const tenant = await api.newTenant();
    const workspace = await api.newWorkspace(tenant.id);
    await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: key } });
    await api.app.get(RecordIngestService).ingest(workspace.id, JSON.stringify(emailRecords(RECORDS)), 'json');
    return workspace;
  }

  /** How many entities, relationships and mentions a workspace's graph has. */
  async function graphCounts(workspaceId: string): Promise<{ entities: number; relationships: number; mentions: number }> {
    const prisma = api.app.get(PrismaService);
    const [entities, relationships, mentions] = await Promise.all([
      prisma.entity.count({ where: { workspaceId } }),
      prisma.relationship.count({ where: { workspaceId } }),
      prisma.entityMention.count({ where: { workspaceId } }),
    ]);
    return { entities, relationships, mentions };
  }

  const start = async (workspaceId: string) =>
    (await api.request<JobStarted>('POST', `/v1/workspaces/${workspaceId}/backfills`, { body: {} })).body.jobId;

  it('resumes after SIGKILL with exactly the counts of an uninterrupted run', async () => {
    const reference = await workspaceWithRecords();
    const crashed = await workspaceWithRecords();
    const first = startWorker();

    const uninterrupted = await api.waitForBackfill(await start(reference.id), undefined, 60_000);
    expect(uninterrupted.status).toBe('succeeded');

    const jobId = await start(crashed.id);
    await api.waitForBackfill(jobId, (v) => v.counters.recordsProcessed >= 30, 60_000);
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const orphaned = (await api.request<BackfillView>('GET', `/v1/backfills/${jobId}`)).body;
    expect(orphaned.status).toBe('running');
    expect(orphaned.counters.recordsProcessed).toBeLessThan(RECORDS);

    startWorker();
    const resumed = await api.waitForBackfill(jobId, undefined, 60_000);

    expect(resumed.status).toBe('succeeded');
    expect(resumed.counters).toEqual(uninterrupted.counters);
    expect(await graphCounts(crashed.id)).toEqual(await graphCounts(reference.id));
    expect((await graphCounts(crashed.id)).mentions).toBeGreaterThan(RECORDS);
  }, 120_000);
});
