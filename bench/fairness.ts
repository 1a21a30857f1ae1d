import 'reflect-metadata';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { ACTIVE_STATUSES, BackfillService } from '#libs/backfill';
import { ByokKeyStore } from '#libs/byok';
import { AppConfig } from '#libs/config';
import { type Backfill, PrismaService } from '#libs/database';
import { QueueName } from '#libs/queue';
import { PLATFORM_SCOPE } from '#libs/tenancy';
import { createTestDatabase, deleteRedisPrefix, Factories, testEnv } from '#libs/testing';
import { createApiApp } from '../apps/api/src/bootstrap.js';
import { sleep, spawnWorker, stopProcess, waitForWorkers } from './processes.js';
import { insertRecords } from './records.js';
import { startSimulatorProcess } from './simulator-process.js';
import { fmt } from './stats.js';

/**
 * Fair scheduling across tenants: a small tenant's backfill alone, then started while a big tenant's
 * backfill (and the backfills of its other workspaces) run, on worker processes sharing one Redis and
 * one Postgres, against the simulator (its own process, latency L). Prints the small backfill's wait
 * (queued -> started, from its row's timestamps) and duration (queued -> finished), alone and beside.
 * Targets: beside, it begins within 2 s and finishes within 2x its time alone. By default the big
 * tenant's four backfills (TENANT_MAX_ACTIVE_BACKFILLS) fill every worker slot (2 workers x 2), at the
 * product's default page size and concurrency, so the small one starts only when a big one yields.
 *   npm run bench:fairness                               100,000 records in the big tenant's main workspace
 *   npm run bench:fairness -- --big 20000 --others 2000  a quicker run (say what was run when quoting it)
 */
const { values: args } = parseArgs({
  options: {
    big: { type: 'string', default: '100000' },
    'big-workspaces': { type: 'string', default: '4' },
    others: { type: 'string', default: '10000' },
    small: { type: 'string', default: '200' },
    latency: { type: 'string', default: '50' },
    workers: { type: 'string', default: '2' },
    'worker-concurrency': { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '8' },
    page: { type: 'string', default: '200' },
    cap: { type: 'string', default: '4' },
    'tenant-concurrency': { type: 'string', default: '16' },
  },
});

const settings = {
  SYNC_PAGE_SIZE: args.page,
  SYNC_CONCURRENCY: args.concurrency,
  SYNC_WORKER_CONCURRENCY: args['worker-concurrency'],
  TENANT_MAX_ACTIVE_BACKFILLS: args.cap,
  TENANT_MAX_CONCURRENCY: args['tenant-concurrency'],
};
console.log(
  `fairness benchmark (Node ${process.version}): big tenant ${fmt(Number(args.big), 0)} records + ${Number(args['big-workspaces']) - 1} workspace(s) of ` +
    `${fmt(Number(args.others), 0)}; small tenant ${args.small} records; ${args.workers} worker(s) x ${args['worker-concurrency']} backfills; ` +
    `latency ${args.latency} ms; ${Object.entries(settings)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
);

const simulator = await startSimulatorProcess('openai:*', Number(args.latency));
const database = await createTestDatabase();
const env = testEnv(database.url, { ...simulator.env, LOG_LEVEL: 'warn', ...settings });
const config = AppConfig.fromEnv(env);
const app = await createApiApp(config);
app.useLogger(false);
await app.init();
const workers: ChildProcess[] = [];
try {
  const factories = new Factories(app);
  const prisma = app.get(PrismaService);
  const backfills = app.get(BackfillService);
  const store = app.get(ByokKeyStore);
  const tenantWith = async (sizes: number[]) => {
    const tenant = await factories.newTenant();
    await store.put(tenant.id, 'OPENAI_API_KEY', `sk-fair-${randomBytes(12).toString('hex')}`);
    const ids: string[] = [];
    for (const size of sizes) {
      const workspace = await factories.newWorkspace(tenant.id);
      await insertRecords(prisma, workspace.id, size);
      ids.push(workspace.id);
    }
    return ids;
  };
  const small = await tenantWith([Number(args.small), Number(args.small)]);
  const big = await tenantWith([Number(args.big), ...Array.from({ length: Number(args['big-workspaces']) - 1 }, () => Number(args.others))]);

  for (let i = 0; i < Number(args.workers); i++) {
    workers.push(spawnWorker(env));
  }
  const queue = app.get<Queue>(getQueueToken(QueueName.Backfills));
  await waitForWorkers(queue, workers.length);

  const runSmall = async (workspaceId: string): Promise<Backfill> => {
    const started = await backfills.start(PLATFORM_SCOPE, workspaceId, 'api');
    let row = await backfills.get(PLATFORM_SCOPE, started.id);
    while (ACTIVE_STATUSES.includes(row.status)) {
      await sleep(50);
      row = await backfills.get(PLATFORM_SCOPE, started.id);
    }
    if (row.status !== 'succeeded') throw new Error(`the small backfill ended ${row.status}: ${row.failureMessage}`);
    return row;
  };
  const report = (label: string, row: Backfill) => {
    const wait = row.startedAt!.getTime() - row.createdAt.getTime();
    const duration = row.finishedAt!.getTime() - row.createdAt.getTime();
    console.log(`  ${label}: waited ${fmt(wait, 0)} ms to start, done in ${fmt(duration, 0)} ms`);
    return { wait, duration };
  };

  const alone = report('small tenant alone', await runSmall(small[0]));
  const bigJobs = [];
  for (const workspaceId of big) bigJobs.push((await backfills.start(PLATFORM_SCOPE, workspaceId, 'api')).id);
  // the big tenant's backfills are under way before the small one is started
  await sleep(3_000);
  const bigBefore = await prisma.backfill.findMany({ where: { id: { in: bigJobs } } });
  const beside = report('small tenant beside the big one', await runSmall(small[1]));
  const bigAfter = await prisma.backfill.findMany({ where: { id: { in: bigJobs } } });
  const bigRecords = (rows: Backfill[]) => rows.reduce((sum, r) => sum + r.recordsProcessed, 0);
  console.log(
    `  big tenant meanwhile: ${bigAfter.filter((r) => r.status === 'running').length} of ${bigJobs.length} backfills running, ` +
      `${fmt(bigRecords(bigAfter) - bigRecords(bigBefore), 0)} records processed while the small one ran`,
  );
  console.log(
    `  beside / alone: start ${fmt(beside.wait, 0)} ms (target <= 2,000), duration x${fmt(beside.duration / alone.duration, 2)} (target <= 2)`,
  );
  for (const id of bigJobs) await backfills.cancel(PLATFORM_SCOPE, id).catch(() => undefined);
} finally {
  for (const worker of workers) await stopProcess(worker);
  await app.close();
  simulator.stop();
  await deleteRedisPrefix(config.redisUrl, config.redisPrefix);
  await database.drop();
}
process.exit(0);
