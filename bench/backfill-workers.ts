import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { ByokKeyStore } from '#libs/byok';
import { AppConfig } from '#libs/config';
import { PrismaService } from '#libs/database';
import { QueueName } from '#libs/queue';
import { createTestDatabase, deleteRedisPrefix, Factories, testEnv } from '#libs/testing';
import { createApiApp } from '../apps/api/src/bootstrap.js';
import { cpuSecondsOf, isRunning, sleep, spawnWorker, stopProcess, waitForWorkers } from './processes.js';
import { insertRecords } from './records.js';
import { startSimulatorProcess } from './simulator-process.js';
import { fmt } from './stats.js';

/** One backfill per tenant, each with its own key: 6 divides evenly among 1, 2 and 3 workers. */
const TENANTS = 6;
const TERMINAL = ['succeeded', 'failed', 'cancelled'];

export interface WorkersRun {
  /** Worker processes per round, e.g. [1, 2, 3]. */
  workerCounts: number[];
  /** Records in all, split evenly among the tenants' backfills. */
  records: number;
  latencyMs: number;
  /** Provider calls in flight per backfill (SYNC_CONCURRENCY). */
  concurrency: number;
  pageSize: number;
}

/**
 * The same workload on N worker processes for each N given: 6 byok tenants (a key each), one
 * workspace and one backfill each, started together through the API and timed until the last one
 * ends. Each worker runs 6 / N backfills at once (SYNC_WORKER_CONCURRENCY), so every round runs all
 * six side by side and only the number of processes sharing them changes. Prints records/s per N
 * against the first round, and the workers' CPU per record. The provider simulator runs in its own
 * process; Postgres and the simulator share the machine's cores with the workers, so on 2 cores
 * the rate cannot grow with N as it would with a core per worker: the figures say what it does.
 */
export async function benchWorkers(run: WorkersRun): Promise<void> {
  const keys = Array.from({ length: TENANTS }, (_, i) => `sk-bench-${randomBytes(16).toString('hex')}-${i}`);
  const simulator = await startSimulatorProcess(keys.map((key) => `openai:${key}`).join(','), run.latencyMs);
  const perBackfill = Math.ceil(run.records / TENANTS);
  console.log(
    `backfill across worker processes: ${TENANTS} tenants' backfills of ${fmt(perBackfill, 0)} records at once, latency ${run.latencyMs} ms, ` +
      `concurrency ${run.concurrency} per backfill, page ${run.pageSize} (${availableParallelism()} cores, Node ${process.version})`,
  );
  let baseline: number | undefined;
  try {
    for (const workers of run.workerCounts) {
      const result = await round(workers, run, keys, perBackfill, simulator.env);
      const label = `  ${workers} worker(s), ${TENANTS / workers} backfill(s) each: `;
      if ('died' in result) {
        console.log(`${label}${result.died} WORKER(S) DIED after ${fmt(result.seconds, 1)} s, ${fmt(result.processed, 0)} records committed`);
        continue;
      }
      baseline ??= result.perSecond;
      console.log(
        `${label}${fmt(result.perSecond, 0)} records/s (${fmt(result.processed, 0)} in ${fmt(result.seconds, 1)} s, ` +
          `x${fmt(result.perSecond / baseline, 2)} the first round's), workers' CPU ${fmt(result.cpuSeconds, 1)} s ` +
          `(${fmt((1000 * result.cpuSeconds) / result.processed, 2)} ms a record)`,
      );
    }
  } finally {
    simulator.stop();
  }
}

type RoundResult = { seconds: number; processed: number } & ({ perSecond: number; cpuSeconds: number } | { died: number });

/** One round on `workers` processes: records/s and the workers' CPU, or how many workers died. */
async function round(
  workers: number,
  run: WorkersRun,
  keys: string[],
  perBackfill: number,
  simulatorEnv: Record<string, string>,
): Promise<RoundResult> {
  if (TENANTS % workers !== 0) throw new Error(`--workers ${workers}: ${TENANTS} backfills do not divide evenly among them`);
  const database = await createTestDatabase();
  const env = testEnv(database.url, {
    ...simulatorEnv,
    LOG_LEVEL: 'warn',
    SYNC_PAGE_SIZE: String(run.pageSize),
    SYNC_CONCURRENCY: String(run.concurrency),
    SYNC_WORKER_CONCURRENCY: String(TENANTS / workers),
  });
  const config = AppConfig.fromEnv(env);
  // in process, for setup and to start the backfills over HTTP; the work is the worker processes'
  const app = await createApiApp(config);
  app.useLogger(false);
  await app.listen(0, '127.0.0.1');
  const children: ChildProcess[] = [];
  try {
    const baseUrl = await app.getUrl();
    const factories = new Factories(app);
    const prisma = app.get(PrismaService);
    const workspaces: string[] = [];
    for (const key of keys) {
      const tenant = await factories.newTenant();
      await app.get(ByokKeyStore).put(tenant.id, 'OPENAI_API_KEY', key);
      const workspace = await factories.newWorkspace(tenant.id);
      await insertRecords(prisma, workspace.id, perBackfill);
      workspaces.push(workspace.id);
    }
    for (let i = 0; i < workers; i++) children.push(spawnWorker(env));
    await waitForWorkers(app.get<Queue>(getQueueToken(QueueName.Backfills)), workers);
    const cpuBefore = children.map((child) => cpuSecondsOf(child.pid!));

    const started = performance.now();
    const jobIds = await Promise.all(workspaces.map((id) => startBackfill(baseUrl, config.adminApiToken!, id)));
    let rows = await prisma.backfill.findMany({ where: { id: { in: jobIds } } });
    while (rows.some((row) => !TERMINAL.includes(row.status)) && children.every(isRunning)) {
      await sleep(50);
      rows = await prisma.backfill.findMany({ where: { id: { in: jobIds } } });
    }
    const seconds = (performance.now() - started) / 1000;
    const processed = rows.reduce((sum, row) => sum + row.recordsProcessed, 0);
    const cpuSeconds = children.reduce((sum, child, i) => sum + cpuSecondsOf(child.pid!) - cpuBefore[i], 0);
    // no supervisor restarts a dead worker here: report how far the round got
    const died = children.filter((child) => !isRunning(child)).length;
    if (died > 0) return { seconds, processed, died };
    const failed = rows.filter((row) => row.status !== 'succeeded');
    if (failed.length > 0) throw new Error(`backfills ended ${failed.map((row) => `${row.status}: ${row.failureMessage}`).join('; ')}`);
    return { seconds, processed, perSecond: processed / seconds, cpuSeconds };
  } finally {
    await Promise.all(children.map(stopProcess));
    await app.close();
    await deleteRedisPrefix(config.redisUrl, config.redisPrefix);
    await database.drop();
  }
}

/** POST /v1/workspaces/:id/backfills as the platform admin; the job id. */
async function startBackfill(baseUrl: string, adminToken: string, workspaceId: string): Promise<string> {
  const response = await fetch(`${baseUrl}/v1/workspaces/${workspaceId}/backfills`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: '{}',
  });
  if (response.status !== 202) throw new Error(`starting a backfill answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { jobId: string }).jobId;
}
