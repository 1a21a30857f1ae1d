import 'reflect-metadata';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ByokKeyStore } from '#libs/byok';
import { AppConfig } from '#libs/config';
import { BackfillStatus, PrismaService } from '#libs/database';
import { MailboxSources } from '#libs/mailbox';
import { QueueName } from '#libs/queue';
import { PLATFORM_SCOPE } from '#libs/tenancy';
import { ACTIVE_STATUSES, BackfillService } from '#libs/backfill';
import { createTestDatabase, deleteRedisPrefix, Factories, PrivateDovecot, rfc822Messages, testEnv } from '#libs/testing';
import { createApiApp } from '../apps/api/src/bootstrap.js';
import { fmt } from './stats.js';
import { startSimulatorProcess } from './simulator-process.js';
import { cpuSecondsOf, isRunning as workerAlive, peakRssOf, spawnWorker, stopProcess, waitForWorkers } from './processes.js';

/**
 * N messages from a mailbox through the whole pipeline as production runs it: a private Dovecot
 * (Debian's dovecot-imapd) holds them in INBOX; the API's BackfillService enqueues a backfill with
 * source imap; a worker process (dist/apps/worker) runs the key pre-flight, the IMAP login, UID pages
 * fetched and parsed by the mbox import's parser, extraction through the real openai SDK against the
 * simulator (its own process, 0 ms) and graph upserts. Prints messages/s (wall time from start to
 * succeeded), the worker's peak RSS (VmHWM, sampled) and CPU, and the records stored.
 *   npm run bench:imap                        5,000 messages
 *   npm run bench:imap -- --messages 20000    your own count
 */
const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '32' },
    page: { type: 'string', default: '256' },
  },
});
const run = { messages: Number(args.messages), concurrency: Number(args.concurrency), pageSize: Number(args.page) };

/** Extra body text (characters) by message index: most mail is short, some is long; about 1.7 KB on average. */
const PADDING = [0, 0, 0, 200, 600, 2_000, 0, 100, 6_000, 8_000];
const FILLER = 'The quarterly numbers were reviewed line by line and the team agreed on the next steps for the account. ';

/** `count` messages of rfc822Messages, the body of each padded by PADDING so sizes vary (a few hundred bytes to 8 KB). */
function variedMessages(count: number): string[] {
  return rfc822Messages(count).map((message, i) => {
    const extra = PADDING[i % PADDING.length];
    if (extra === 0) return message;
    const text = FILLER.repeat(Math.ceil(extra / FILLER.length)).slice(0, extra);
    // wrapped at 76 characters, as mail is
    return message.replace(/\r\n$/, `\r\n${text.replace(/(.{1,76})(?: |$)/g, '$1\r\n')}`);
  });
}

console.log(`mailbox (IMAP) backfill benchmark (Node ${process.version})`);
await bench();
process.exit(0);

async function bench(): Promise<void> {
  const key = `sk-bench-${randomBytes(16).toString('hex')}`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const dovecot = await PrivateDovecot.start({ users: [{ name: 'bench', password }] });
  const simulator = await startSimulatorProcess(`openai:${key}`, 0);
  const database = await createTestDatabase();
  const env = testEnv(database.url, {
    ...simulator.env,
    LOG_LEVEL: 'warn',
    SYNC_PAGE_SIZE: String(run.pageSize),
    SYNC_CONCURRENCY: String(run.concurrency),
    SYNC_WORKER_CONCURRENCY: '1',
    // the private Dovecot: plain IMAP on 127.0.0.1
    EGRESS_ALLOWED_CIDRS: '127.0.0.1/32',
    IMAP_ALLOW_PLAINTEXT: 'true',
  });
  const config = AppConfig.fromEnv(env);
  const app = await createApiApp(config);
  app.useLogger(false);
  await app.init();
  let worker: ChildProcess | undefined;
  try {
    const delivering = performance.now();
    const messages = variedMessages(run.messages);
    const bytes = messages.reduce((sum, message) => sum + Buffer.byteLength(message), 0);
    for (const message of messages) dovecot.deliver('bench', 'INBOX', message);
    console.log(
      `  delivered ${fmt(run.messages, 0)} messages (${fmt(bytes / 1024 / 1024, 1)} MB, ${fmt(bytes / run.messages / 1024, 1)} KB on average) ` +
        `in ${fmt((performance.now() - delivering) / 1000, 1)} s`,
    );

    const factories = new Factories(app);
    const tenant = await factories.newTenant();
    const workspace = await factories.newWorkspace(tenant.id);
    await app.get(ByokKeyStore).put(tenant.id, 'OPENAI_API_KEY', key);
    await app.get(MailboxSources).put(tenant.id, workspace.id, {
      host: '127.0.0.1',
      port: dovecot.port,
      tlsMode: 'none',
      username: 'bench',
      authMethod: 'password',
      secret: password,
      folders: ['INBOX'],
    });

    worker = spawnWorker(env);
    await waitForWorkers(app.get<Queue>(getQueueToken(QueueName.Backfills)));

    const started = performance.now();
    const backfills = app.get(BackfillService);
    const backfill = await backfills.start(PLATFORM_SCOPE, workspace.id, 'imap');
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
    const label = `  ${fmt(run.messages, 0)} messages, latency 0 ms, concurrency ${run.concurrency}, page ${run.pageSize}: `;
    if (!workerAlive(worker)) {
      console.log(
        `${label}WORKER DIED (${worker.signalCode ?? `exit code ${worker.exitCode}`}) after ${fmt(seconds, 1)} s, ` +
          `${row.recordsProcessed} messages committed, peak RSS ${fmt(peakRssMb, 0)} MB (last sample)`,
      );
      return;
    }
    if (row.status !== BackfillStatus.succeeded) throw new Error(`backfill ended ${row.status}: ${row.failureMessage}`);
    const stored = await app.get(PrismaService).sourceRecord.count({ where: { workspaceId: workspace.id, source: 'imap' } });
    console.log(
      label +
        `${fmt(row.recordsProcessed / seconds, 0)} messages/s in ${fmt(seconds, 1)} s, worker peak RSS ${fmt(peakRssMb, 0)} MB, ` +
        `worker CPU ${fmt(cpuSeconds, 1)} s (${fmt((1000 * cpuSeconds) / row.recordsProcessed, 2)} ms a message); ` +
        `${fmt(stored, 0)} records stored, ${fmt(row.recordsProcessed, 0)} processed; graph: ${row.entities} entities, ${row.relationships} relationships`,
    );
  } finally {
    if (worker) await stopProcess(worker);
    await app.close();
    simulator.stop();
    await deleteRedisPrefix(config.redisUrl, config.redisPrefix);
    await database.drop();
    await dovecot.destroy();
  }
}
