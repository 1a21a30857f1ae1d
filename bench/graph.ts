import 'reflect-metadata';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { ByokKeyStore } from '#libs/byok';
import { AppConfig } from '#libs/config';
import { PrismaService } from '#libs/database';
import { QueueName } from '#libs/queue';
import { ACTIVE_STATUSES, BackfillService } from '#libs/backfill';
import { PLATFORM_SCOPE, TenantTokenService } from '#libs/tenancy';
import { createTestDatabase, deleteRedisPrefix, Factories, testEnv } from '#libs/testing';
import { createApiApp } from '../apps/api/src/bootstrap.js';
import { fmt } from './stats.js';
import { insertRecords } from './records.js';
import { startSimulatorProcess } from './simulator-process.js';
import { freePort, sleep, spawnNode, spawnWorker, stopProcess, waitFor, waitForWorkers } from './processes.js';

/**
 * The graph read path under load, as production runs it: the API in its own process
 * (dist/apps/api), a worker process running a backfill of another workspace meanwhile, the provider
 * simulator in its own process. A workspace with 200,000 mentions (skewed: a few entities are
 * mentioned thousands of times) is written straight into Postgres.
 *
 * Load: a closed loop of C connections (default 50) for D seconds (default 30) against
 * GET /v1/workspaces/:id/graph, mixed: first pages, a type filter, name searches and next pages
 * (cursors collected beforehand). Closed loop because it is what a crowd of dashboards does, and the
 * job-status probe below runs beside it on its own connections, so saturation of the graph route
 * cannot hide the latency that matters to other callers. A request not answered in 10 s is
 * abandoned (its socket closed) and counted as a timeout. A saturated closed loop measures queueing
 * (p50 is about C / throughput), so `--rate R` runs an open loop instead: R requests/s on a fixed
 * schedule whatever the answers, latency counted from the scheduled time (no coordinated omission),
 * which shows the latency a given load sees.
 * Job status: 2 connections reading GET /v1/backfills/:id of the running backfill, 20 ms apart.
 * Worker: records/s of the loaded backfill during the load window, against the same backfill run
 * alone just before (idle).
 * Targets: graph page and job status p99 < 100 ms; worker throughput within 10% of idle.
 *   npm run bench:graph
 *   npm run bench:graph -- --connections 50 --seconds 30 --mentions 200000
 *   npm run bench:graph -- --rate 200                      open loop at 200 graph requests/s
 *   npm run bench:graph -- --encoding identity             clients that do not accept gzip (default: gzip, as browsers)
 * "KB each" is what travelled: gzipped bytes when the answer was gzipped.
 */
const { values: args } = parseArgs({
  options: {
    connections: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '30' },
    mentions: { type: 'string', default: '200000' },
    latency: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '16' },
    rate: { type: 'string' },
    encoding: { type: 'string', default: 'gzip' },
  },
});
const CONNECTIONS = Number(args.connections);
const SECONDS = Number(args.seconds);
const MENTIONS = Number(args.mentions);
const LATENCY_MS = Number(args.latency);
const SYNC_CONCURRENCY = Number(args.concurrency);
const RATE = args.rate === undefined ? undefined : Number(args.rate);
// what the clients accept: browsers send `Accept-Encoding: gzip` (and more); `identity` measures a client that does not
const ACCEPT_ENCODING = args.encoding === 'identity' ? 'identity' : 'gzip';
const REQUEST_TIMEOUT_MS = 10_000;
const IDLE_WINDOW_MS = 15_000;
const WARMUP_MS = 3_000;
const RECORDS_PER_GRAPH_RECORD = 10;
const SURNAMES = ['johnson', 'smith', 'diaz', 'okafor', 'martin', 'liu', 'hopper', 'sato', 'petrov', 'adams'];
const TYPES = ['person', 'organization', 'project', 'location'];

const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const here = dirname(fileURLToPath(import.meta.url));
const API_MAIN = join(here, '..', 'apps', 'api', 'src', 'main.js');

console.log(`graph read path benchmark (Node ${process.version})`);
await main();
process.exit(0);

async function main(): Promise<void> {
  const key = `sk-bench-${randomBytes(16).toString('hex')}`;
  const simulator = await startSimulatorProcess(`openai:${key}`, LATENCY_MS);
  const database = await createTestDatabase();
  const port = await freePort();
  const env = testEnv(database.url, {
    ...simulator.env,
    LOG_LEVEL: 'warn',
    PORT: String(port),
    SYNC_PAGE_SIZE: '128',
    SYNC_CONCURRENCY: String(SYNC_CONCURRENCY),
    SYNC_WORKER_CONCURRENCY: '1',
  });
  const config = AppConfig.fromEnv(env);
  // in process, for setup and for reading the backfills' counters; the load goes to the API process
  const app = await createApiApp(config);
  app.useLogger(false);
  await app.init();
  const children: ChildProcess[] = [];
  try {
    const prisma = app.get(PrismaService);
    const factories = new Factories(app);
    const tenant = await factories.newTenant();
    const { token } = await app.get(TenantTokenService).issue(tenant.id);
    await app.get(ByokKeyStore).put(tenant.id, 'OPENAI_API_KEY', key);
    const graphWorkspace = await factories.newWorkspace(tenant.id, 'Graph');
    const idleWorkspace = await factories.newWorkspace(tenant.id, 'Idle backfill');
    const loadedWorkspace = await factories.newWorkspace(tenant.id, 'Loaded backfill');

    let started = performance.now();
    const graph = await seedGraph(prisma, graphWorkspace.id, MENTIONS);
    console.log(
      `  graph workspace: ${fmt(graph.entities, 0)} entities, ${fmt(graph.relationships, 0)} relationships, ${fmt(graph.mentions, 0)} mentions ` +
        `(largest: ${fmt(graph.maxMentions, 0)} mentions) in ${fmt((performance.now() - started) / 1000, 1)} s`,
    );
    // enough records for each backfill to outlast its window at half again the ideal rate C/L
    const idealPerSecond = (SYNC_CONCURRENCY * 1000) / Math.max(LATENCY_MS, 5);
    await insertRecords(prisma, idleWorkspace.id, Math.ceil(1.5 * idealPerSecond * ((WARMUP_MS + IDLE_WINDOW_MS) / 1000)) + 1_000);
    await insertRecords(prisma, loadedWorkspace.id, Math.ceil(1.5 * idealPerSecond * (WARMUP_MS / 1000 + SECONDS + 10)) + 1_000);

    children.push(spawnNode(API_MAIN, process.env.BENCH_API_FLAGS ? process.env.BENCH_API_FLAGS.split(' ') : [], env));
    children.push(spawnWorker(env));
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await get(baseUrl, '/health', token)).status === 200, 'the API process did not start');
    await waitForWorkers(app.get<Queue>(getQueueToken(QueueName.Backfills)));

    const backfills = app.get(BackfillService);
    const idle = await backfills.start(PLATFORM_SCOPE, idleWorkspace.id, 'api');
    const idleRate = await recordsPerSecond(backfills, idle.id, () => sleep(IDLE_WINDOW_MS));
    await backfills.cancel(PLATFORM_SCOPE, idle.id).catch(() => undefined);
    await waitFor(async () => !ACTIVE_STATUSES.includes((await backfills.get(PLATFORM_SCOPE, idle.id)).status), 'the idle backfill did not stop');

    const paths = await graphPaths(baseUrl, graphWorkspace.id, token);
    const loaded = await backfills.start(PLATFORM_SCOPE, loadedWorkspace.id, 'api');
    let graphResults: Results | undefined;
    let statusResults: Results | undefined;
    const loadedRate = await recordsPerSecond(backfills, loaded.id, async () => {
      started = performance.now();
      const deadline = Date.now() + SECONDS * 1000;
      [graphResults, statusResults] = await Promise.all([
        RATE === undefined
          ? closedLoop(baseUrl, token, CONNECTIONS, deadline, () => paths[Math.floor(Math.random() * paths.length)])
          : openLoop(baseUrl, token, RATE, deadline, () => paths[Math.floor(Math.random() * paths.length)]),
        closedLoop(baseUrl, token, 2, deadline, () => ({ kind: 'status', path: `/v1/backfills/${loaded.id}` }), 20),
      ]);
    });
    const seconds = (performance.now() - started) / 1000;

    const load = RATE === undefined ? `${CONNECTIONS} connections, closed loop` : `open loop at ${RATE} requests/s`;
    console.log(`  load: ${load}, ${SECONDS} s; backfill beside it: latency ${LATENCY_MS} ms, concurrency ${SYNC_CONCURRENCY}`);
    report('graph page', graphResults!, seconds);
    for (const kind of ['first', 'type', 'search', 'next']) report(`  ${kind}`, filterKind(graphResults!, kind), seconds);
    report('job status', statusResults!, seconds);
    console.log(
      `  worker: idle ${fmt(idleRate, 0)} records/s, under graph load ${fmt(loadedRate, 0)} records/s (${fmt((100 * loadedRate) / idleRate, 1)}% of idle)`,
    );
  } finally {
    for (const child of children) await stopProcess(child);
    await app.close();
    simulator.stop();
    await deleteRedisPrefix(config.redisUrl, config.redisPrefix);
    await database.drop();
  }
}

interface Sample {
  kind: string;
  ms: number;
  status: number;
  bytes: number;
}

type Results = Sample[];

function filterKind(results: Results, kind: string): Results {
  return results.filter((s) => s.kind === kind);
}

function report(label: string, results: Results, seconds: number): void {
  const ok = results.filter((s) => s.status === 200 || s.status === 304);
  const timeouts = results.filter((s) => s.status === 0).length;
  const errors = results.length - ok.length - timeouts;
  // a timeout counts at the time it was abandoned, so percentiles never look better for it
  const ms = results.map((s) => s.ms).sort((a, b) => a - b);
  const at = (q: number) => (ms.length ? ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] : Number.NaN);
  console.log(
    `  ${label.padEnd(12)} ${fmt(ok.length / seconds, 1).padStart(8)} ok/s  p50 ${fmt(at(0.5), 1).padStart(8)} ms  p99 ${fmt(at(0.99), 1).padStart(8)} ms` +
      `  (${fmt(ok.length, 0)} ok, ${timeouts} timed out, ${errors} errors; ${fmt(ok.reduce((sum, s) => sum + s.bytes, 0) / Math.max(1, ok.length) / 1024, 1)} KB each)`,
  );
}

interface Target {
  kind: string;
  path: string;
}

/** The mix: first pages, a type filter, name searches, and next pages from cursors walked now. */
async function graphPaths(baseUrl: string, workspaceId: string, token: string): Promise<Target[]> {
  const base = `/v1/workspaces/${workspaceId}/graph`;
  const targets: Target[] = [{ kind: 'first', path: `${base}?limit=100` }];
  for (const type of TYPES) targets.push({ kind: 'type', path: `${base}?type=${type}&limit=100` });
  for (const name of SURNAMES) targets.push({ kind: 'search', path: `${base}?q=${name}&limit=50` });
  let path = `${base}?limit=100`;
  for (let i = 0; i < 10; i++) {
    const res = await get(baseUrl, path, token, 120_000, true);
    const cursor = (JSON.parse(res.body) as { nextCursor: string | null }).nextCursor;
    if (!cursor) break;
    path = `${base}?limit=100&cursor=${cursor}`;
    targets.push({ kind: 'next', path });
  }
  // weights: first pages 4, type 2, search 2, next 2 (in tenths)
  const pick = (kind: string, times: number) => {
    const of = targets.filter((t) => t.kind === kind);
    return Array.from({ length: times }, (_, i) => of[i % of.length]);
  };
  return [...pick('first', 40), ...pick('type', 20), ...pick('search', 20), ...pick('next', 20)];
}

async function closedLoop(baseUrl: string, token: string, connections: number, deadline: number, next: () => Target, pauseMs = 0): Promise<Results> {
  const results: Results = [];
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < deadline) {
        const target = next();
        const t0 = performance.now();
        const { status, bytes } = await get(baseUrl, target.path, token);
        results.push({ kind: target.kind, ms: performance.now() - t0, status, bytes });
        if (pauseMs) await sleep(pauseMs);
      }
    }),
  );
  return results;
}

async function openLoop(baseUrl: string, token: string, perSecond: number, deadline: number, next: () => Target): Promise<Results> {
  const results: Results = [];
  const pending: Promise<void>[] = [];
  const start = performance.now();
  const end = start + (deadline - Date.now());
  for (let i = 0; ; i++) {
    const due = start + (i * 1000) / perSecond;
    if (due >= end) break;
    if (due > performance.now()) await sleep(due - performance.now());
    const target = next();
    pending.push(
      get(baseUrl, target.path, token).then(({ status, bytes }) => {
        results.push({ kind: target.kind, ms: performance.now() - due, status, bytes });
      }),
    );
  }
  await Promise.all(pending);
  return results;
}

interface Answer {
  status: number;
  bytes: number;
  /** Only with `keepBody`: the load loops only count bytes. */
  body: string;
}

/** One GET; status 0 when abandoned after `timeoutMs` (the socket is closed, as a browser would). */
function get(baseUrl: string, path: string, token: string, timeoutMs = REQUEST_TIMEOUT_MS, keepBody = false): Promise<Answer> {
  return new Promise((resolve) => {
    const failed = { status: 0, bytes: 0, body: '' };
    const req = httpRequest(
      `${baseUrl}${path}`,
      { agent, headers: { authorization: `Bearer ${token}`, 'accept-encoding': ACCEPT_ENCODING }, signal: AbortSignal.timeout(timeoutMs) },
      (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (keepBody) chunks.push(chunk);
        });
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const body = keepBody && res.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
          resolve({ status: res.statusCode ?? 0, bytes, body: body.toString('utf8') });
        });
        res.on('error', () => resolve(failed));
      },
    );
    req.on('error', () => resolve(failed));
    // as browsers do: without it, delayed ACKs add 40 ms to a small request on a reused connection
    req.setNoDelay(true);
    req.end();
  });
}

/** Records/s of a backfill while `during` runs, after a warm-up (the window ends early if the backfill does). */
async function recordsPerSecond(backfills: BackfillService, backfillId: string, during: () => Promise<void>): Promise<number> {
  await waitFor(async () => (await backfills.get(PLATFORM_SCOPE, backfillId)).recordsProcessed > 0, 'the backfill did not start', 120_000);
  await sleep(WARMUP_MS);
  const before = (await backfills.get(PLATFORM_SCOPE, backfillId)).recordsProcessed;
  const t0 = performance.now();
  await during();
  const after = await backfills.get(PLATFORM_SCOPE, backfillId);
  if (!ACTIVE_STATUSES.includes(after.status)) console.log(`  (backfill ${after.status} before the window ended: figures cover less time)`);
  return (after.recordsProcessed - before) / ((performance.now() - t0) / 1000);
}

/**
 * Entities with a skewed share of mentions (entity i drawn as E * u^3, so the first few are mentioned
 * thousands of times, most a handful), records that mention about ten each, and relationships;
 * written by SQL in Postgres. Columns a later migration added are filled when they exist, so the
 * same script measures the code before and after.
 */
async function seedGraph(prisma: PrismaService, workspaceId: string, mentions: number) {
  const records = Math.ceil(mentions / RECORDS_PER_GRAPH_RECORD);
  const entities = Math.ceil(mentions / 10);
  await prisma.$executeRaw`
    INSERT INTO source_records (id, workspace_id, source, external_id, from_addr, to_addr, subject, body, sent_at)
    SELECT md5('record-' || ${workspaceId} || i)::uuid, ${workspaceId}::uuid, 'api', 'graph-' || i, 'a' || (i % 50) || '@example.test',
           'team@example.test', 'Subject ' || i, 'Body ' || i, timestamp '2026-01-01' + i * interval '1 minute'
    FROM generate_series(1, ${records}::int) AS i`;
  await prisma.$executeRaw`
    INSERT INTO entities (id, workspace_id, name, normalized_name, type, description)
    SELECT md5('entity-' || ${workspaceId} || i)::uuid, ${workspaceId}::uuid, n.name, lower(n.name),
           (${TYPES}::text[])[1 + i % 4], n.name || ' appears in the mail'
    FROM generate_series(0, ${entities - 1}::int) AS i,
         LATERAL (SELECT (ARRAY['Alice','Bob','Carol','Dan','Eve','Frank','Grace','Hana','Ivan','Julia'])[1 + (i / 10) % 10] || ' ' ||
                         initcap((${SURNAMES}::text[])[1 + i % 10]) || ' ' || i AS name) n`;
  let inserted = 0;
  while (inserted < mentions) {
    inserted += await prisma.$executeRaw`
      INSERT INTO entity_mentions (entity_id, record_id, workspace_id)
      SELECT md5('entity-' || ${workspaceId} || floor(${entities}::int * power(random(), 3))::int)::uuid,
             md5('record-' || ${workspaceId} || (1 + floor(random() * ${records}::int))::int)::uuid, ${workspaceId}::uuid
      FROM generate_series(1, ${mentions - inserted}::int)
      ON CONFLICT DO NOTHING`.catch(async (error: unknown) => {
      // the migration that added entity_mentions.sent_at (NOT NULL) is there: fill it from the record
      if (!String(error).includes('sent_at')) throw error;
      return prisma.$executeRawUnsafe(
        `INSERT INTO entity_mentions (entity_id, record_id, workspace_id, sent_at)
         SELECT e, r.id, r.workspace_id, r.sent_at FROM (
           SELECT md5('entity-' || $1 || floor($2::int * power(random(), 3))::int)::uuid AS e,
                  md5('record-' || $1 || (1 + floor(random() * $3::int))::int)::uuid AS rid
           FROM generate_series(1, $4::int)) m JOIN source_records r ON r.id = m.rid
         ON CONFLICT DO NOTHING`,
        workspaceId,
        entities,
        records,
        mentions - inserted,
      );
    });
  }
  await prisma.$executeRaw`
    INSERT INTO relationships (id, workspace_id, source_entity_id, target_entity_id, description, strength)
    SELECT gen_random_uuid(), ${workspaceId}::uuid, md5('entity-' || ${workspaceId} || s)::uuid, md5('entity-' || ${workspaceId} || t)::uuid,
           'works with', 1 + (s + t) % 10
    FROM (SELECT floor(${entities}::int * power(random(), 2))::int AS s, floor(random() * ${entities}::int)::int AS t
          FROM generate_series(1, ${entities * 2}::int)) p
    WHERE s <> t
    ON CONFLICT DO NOTHING`;
  const hasCount = await prisma.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'entities' AND column_name = 'mention_count'`;
  if (hasCount[0].n > 0) {
    await prisma.$executeRawUnsafe(
      `UPDATE entities e SET mention_count = c.n FROM (SELECT entity_id, count(*)::int AS n FROM entity_mentions WHERE workspace_id = $1::uuid GROUP BY entity_id) c WHERE e.id = c.entity_id`,
      workspaceId,
    );
  }
  await prisma.$executeRawUnsafe('ANALYZE');
  const [stats] = await prisma.$queryRaw<{ entities: number; relationships: number; mentions: number; max_mentions: number }[]>`
    SELECT (SELECT count(*)::int FROM entities WHERE workspace_id = ${workspaceId}::uuid) AS entities,
           (SELECT count(*)::int FROM relationships WHERE workspace_id = ${workspaceId}::uuid) AS relationships,
           (SELECT count(*)::int FROM entity_mentions WHERE workspace_id = ${workspaceId}::uuid) AS mentions,
           (SELECT max(n)::int FROM (SELECT count(*) AS n FROM entity_mentions WHERE workspace_id = ${workspaceId}::uuid GROUP BY entity_id) m) AS max_mentions`;
  return { entities: stats.entities, relationships: stats.relationships, mentions: stats.mentions, maxMentions: stats.max_mentions };
}
