import 'reflect-metadata';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ByokKeyStore } from '#libs/byok';
import { AppConfig } from '#libs/config';
import { BackfillStatus, PrismaService } from '#libs/database';
import { QueueName } from '#libs/queue';
import { PLATFORM_SCOPE } from '#libs/tenancy';
import { ACTIVE_STATUSES, BackfillService } from '#libs/backfill';
import { planRate, windowPlan } from '#libs/tenant-llm';
import { createTestDatabase, deleteRedisPrefix, Factories, testEnv } from '#libs/testing';
import { createApiApp } from '../apps/api/src/bootstrap.js';
import { benchWorkers } from './backfill-workers.js';
import { fmt } from './stats.js';
import { insertRecords } from './records.js';
import { startSimulatorProcess } from './simulator-process.js';
import { cpuSecondsOf, isRunning as workerAlive, peakRssOf, spawnWorker, stopProcess, waitForWorkers } from './processes.js';

/**
 * N records through the whole pipeline as production runs it: the API's BackfillService enqueues,
 * a worker process (dist/apps/worker) runs pre-flight, pages, extraction through the real openai
 * SDK against the simulator (its own process, latency L) at concurrency C, and graph upserts.
 * Prints records/s, efficiency against the ideal C/L, and the worker's peak RSS (VmHWM, sampled while
 * it runs, so a worker that dies still reports how high it got).
 * Targets (2 cores): L=0 >= 2,000 records/s; L=50 ms >= 90% of ideal; peak RSS <= 256 MB at 20,000
 * ordinary records and at 400 records of 200,000 characters; < 300 MB at 200,000 records.
 *   npm run bench:backfill                                   the standard runs (20,000 at 0 ms; 10,000 at 50 ms; 400 x 200,000 chars)
 *   npm run bench:backfill -- --records 200000 --latency 0  one run with your own figures
 *   npm run bench:backfill -- --records 400 --record-chars 200000   long records: CJK text, about 3 bytes a character
 *   npm run bench:backfill -- --rpm 1200                     per-key rate limit: the simulator allows each key N
 *       completion requests in any sliding minute (429 past it) and the tenant's OPENAI_RPM is N; prints the
 *       achieved calls a minute against N and the share of calls answered 429 (targets: >= 90% of N, < 1% 429).
 *       Records default to two minutes' worth (--minutes), at latency 50 ms.
 *   npm run bench:backfill -- --workers 1,2,3                6 tenants' backfills (24,000 records) on 1, 2, then 3 worker processes (see backfill-workers.ts)
 */
const { values: args } = parseArgs({
  options: {
    records: { type: 'string' },
    latency: { type: 'string', default: '0' },
    concurrency: { type: 'string', default: '32' },
    page: { type: 'string', default: '256' },
    'record-chars': { type: 'string' },
    rpm: { type: 'string' },
    minutes: { type: 'string', default: '2' },
    workers: { type: 'string' },
  },
});

interface Run {
  records: number;
  latencyMs: number;
  concurrency: number;
  pageSize: number;
  /** Body length of every record in characters (CJK text); ordinary short English records when absent. */
  recordChars?: number;
  /** The per-key rate limit (requests a minute) of the simulator and the tenant's OPENAI_RPM setting. */
  rpm?: number;
}

const rpm = args.rpm ? Number(args.rpm) : undefined;
const runs: Run[] = rpm
  ? [
      {
        records: Number(args.records ?? Math.ceil(rpm * Number(args.minutes))),
        latencyMs: args.latency === '0' ? 50 : Number(args.latency),
        concurrency: Number(args.concurrency),
        pageSize: Number(args.page),
        rpm,
      },
    ]
  : args.records
    ? [
        {
          records: Number(args.records),
          latencyMs: Number(args.latency),
          concurrency: Number(args.concurrency),
          pageSize: Number(args.page),
          ...(args['record-chars'] ? { recordChars: Number(args['record-chars']) } : {}),
        },
      ]
    : [
        { records: 20_000, latencyMs: 0, concurrency: 32, pageSize: 256 },
        { records: 10_000, latencyMs: 50, concurrency: 32, pageSize: 256 },
        { records: 400, latencyMs: 0, concurrency: 32, pageSize: 256, recordChars: 200_000 },
      ];
if (args.workers) {
  await benchWorkers({
    workerCounts: args.workers.split(',').map(Number),
    records: Number(args.records ?? 24_000),
    latencyMs: Number(args.latency),
    concurrency: Number(args.concurrency),
    pageSize: Number(args.page),
  });
  process.exit(0);
}

console.log(`backfill pipeline benchmark (Node ${process.version})`);
for (const run of runs) await bench(run);
process.exit(0);

async function bench(run: Run): Promise<void> {
  const key = `sk-bench-${randomBytes(16).toString('hex')}`;
  const simulator = await startSimulatorProcess(`openai:${key}`, run.latencyMs, run.rpm);
  const database = await createTestDatabase();
  const env = testEnv(database.url, {
    ...simulator.env,
    LOG_LEVEL: 'warn',
    SYNC_PAGE_SIZE: String(run.pageSize),
    SYNC_CONCURRENCY: String(run.concurrency),
    SYNC_WORKER_CONCURRENCY: '1',
  });
  const config = AppConfig.fromEnv(env);
  const app = await createApiApp(config);
  app.useLogger(false);
  await app.init();
  let worker: ChildProcess | undefined;
  try {
    const factories = new Factories(app);
    const tenant = await factories.newTenant();
    const workspace = await factories.newWorkspace(tenant.id);
    await app.get(ByokKeyStore).put(tenant.id, 'OPENAI_API_KEY', key);
    if (run.rpm) await app.get(ByokKeyStore).put(tenant.id, 'OPENAI_RPM', String(run.rpm));
    if (run.recordChars) await insertLongRecords(app.get(PrismaService), workspace.id, run.records, run.recordChars);
    else await insertRecords(app.get(PrismaService), workspace.id, run.records);

    worker = spawnWorker(env);
    await waitForWorkers(app.get<Queue>(getQueueToken(QueueName.Backfills)));

    const started = performance.now();
    const backfills = app.get(BackfillService);
    const backfill = await backfills.start(PLATFORM_SCOPE, workspace.id, 'api');
    let row = await backfills.get(PLATFORM_SCOPE, backfill.id);
    let peakRssKb = 0;
    while (ACTIVE_STATUSES.includes(row.status) && workerAlive(worker)) {
      peakRssKb = Math.max(peakRssKb, peakRssOf(worker.pid!));
      await new Promise((resolve) => setTimeout(resolve, 50));
      row = await backfills.get(PLATFORM_SCOPE, backfill.id);
    }
    const seconds = (performance.now() - started) / 1000;
    if (workerAlive(worker)) peakRssKb = Math.max(peakRssKb, peakRssOf(worker.pid!));
    const cpuSeconds = cpuSecondsOf(worker.pid!);
    const peakRssMb = peakRssKb / 1024;
    const label =
      `  ${fmt(run.records, 0)} records${run.recordChars ? ` x ${fmt(run.recordChars, 0)} chars` : ''}, latency ${run.latencyMs} ms, ` +
      `concurrency ${run.concurrency}, page ${run.pageSize}: `;
    if (!workerAlive(worker)) {
      // no supervisor restarts it here: report how far it got and how high its memory went
      console.log(
        `${label}WORKER DIED (${worker.signalCode ?? `exit code ${worker.exitCode}`}) after ${fmt(seconds, 1)} s, ` +
          `${row.recordsProcessed} records committed, peak RSS ${fmt(peakRssMb, 0)} MB (last sample)`,
      );
      return;
    }
    if (row.status !== BackfillStatus.succeeded) throw new Error(`backfill ended ${row.status}: ${row.failureMessage}`);

    if (run.rpm) {
      const stats = await simulator.stats();
      const calls = stats.completions;
      const answered = calls - stats.rateLimited;
      // from the first call the simulator let through to the last: the rate while the key was driven
      const perMinute = stats.spanMs > 0 ? ((answered - 1) * 60_000) / stats.spanMs : 0;
      console.log(
        `  ${fmt(run.records, 0)} records at a per-key limit of ${fmt(run.rpm, 0)} requests/min (latency ${run.latencyMs} ms, concurrency ${run.concurrency}): ` +
          `${fmt(perMinute, 0)} calls/min = ${fmt((100 * perMinute) / run.rpm, 1)}% of the allowed rate ` +
          `(${fmt(answered, 0)} calls in ${fmt(stats.spanMs / 1000, 1)} s from the first to the last; the whole backfill ${fmt(seconds, 1)} s; ` +
          `the limiter's own ceiling ${fmt(planRate(windowPlan(run.rpm)), 0)}/min); ` +
          `${stats.rateLimited} of ${calls} calls answered 429 (${fmt(calls ? (100 * stats.rateLimited) / calls : 0, 2)}%)`,
      );
      return;
    }
    const perSecond = row.recordsProcessed / seconds;
    const ideal = run.latencyMs > 0 ? run.concurrency / (run.latencyMs / 1000) : undefined;
    console.log(
      label +
        `${fmt(perSecond, 0)} records/s in ${fmt(seconds, 1)} s` +
        (ideal ? `, ${fmt((100 * perSecond) / ideal, 1)}% of ideal ${fmt(ideal, 0)}/s` : '') +
        `, worker peak RSS ${fmt(peakRssMb, 0)} MB, worker CPU ${fmt(cpuSeconds, 1)} s (${fmt((1000 * cpuSeconds) / row.recordsProcessed, 2)} ms a record); graph: ${row.entities} entities, ${row.relationships} relationships`,
    );
  } finally {
    if (worker) await stopProcess(worker);
    await app.close();
    simulator.stop();
    await deleteRedisPrefix(config.redisUrl, config.redisPrefix);
    await database.drop();
  }
}

/**
 * `count` records whose body is `chars` characters of CJK prose (3 bytes each in UTF-8; about 2.7
 * bytes a character overall) with a short Latin sentence naming a person and a company every 178
 * characters, so every chunk has entities. Generated inside Postgres, like the short ones.
 */
async function insertLongRecords(prisma: PrismaService, workspaceId: string, count: number, chars: number): Promise<void> {
  const segment =
    '東京の会議で田中さんと山本さんが新しい計画について話し合い、来週までに報告書をまとめることに決めました。'.repeat(3) + ' Alice met Acme Corp. ';
  await prisma.$executeRaw`
    INSERT INTO source_records (id, workspace_id, source, external_id, from_addr, to_addr, subject, body, sent_at)
    SELECT gen_random_uuid(), ${workspaceId}::uuid, 'api', 'bench-long-' || i, 'sender' || (i % 50) || '@example.test',
           'team' || (i % 7) || '@example.test', 'Long update ' || i,
           left(repeat(${segment}, ceil(${chars}::int / char_length(${segment}::text))::int + 1), ${chars}::int),
           timestamp '2026-01-01' + i * interval '1 minute'
    FROM generate_series(1, ${count}::int) AS i`;
}
