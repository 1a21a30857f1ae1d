import 'reflect-metadata';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import { AppConfig } from '#libs/config';
import { TenantTokenService } from '#libs/tenancy';
import { createTestDatabase, deleteRedisPrefix, Factories, testEnv } from '#libs/testing';
import { createApiApp } from '../apps/api/src/bootstrap.js';
import { fmt } from './stats.js';
import { freePort, sleep, stopProcess, waitFor } from './processes.js';

/**
 * Ingest under hostile uploads, as production runs it: the API in its own process (dist/apps/api),
 * default caps. Each scenario sends its upload(s) at full size while /health is probed every 20 ms
 * on its own connection, and the API's RSS (VmRSS of /proc/<pid>/status) is sampled as often.
 * Printed per scenario: the answers' statuses, /health p50/p99/max, the RSS growth (peak during the
 * scenario minus RSS before it), and for the valid upload records/s and MB/s.
 * Scenarios (issue 13): 8 concurrent 51 KB gzip bombs (50 MB inflated) with a bad token; 50 MB of
 * NDJSON `x\n`; a 50 MB JSON array of `{}`; 50 MB of newlines as mbox; one postmark then 50 MB of
 * newlines as mbox; a 24 KB gzip mbox of one message of 24 MB of newlines (under the byte cap, 24
 * million lines); a valid JSON upload and a valid mbox of just under 50 MB (20,000 records each).
 * Targets: /health p99 < 250 ms during every scenario, RSS growth < 200 MB.
 *   npm run bench:ingest
 *   npm run bench:ingest -- --only valid     the scenarios whose name contains "valid"
 */
const { values: args } = parseArgs({ options: { only: { type: 'string', default: '' } } });
const MB = 1024 * 1024;
const UPLOAD_BYTES = 50 * MB;
const PROBE_EVERY_MS = 20;
const HEALTH_P99_TARGET_MS = 250;
const RSS_GROWTH_TARGET_MB = 200;

const here = dirname(fileURLToPath(import.meta.url));
const API_MAIN = join(here, '..', 'apps', 'api', 'src', 'main.js');
const probeAgent = new Agent({ keepAlive: true, maxSockets: 1 });

/**
 * Probes /health every 20 ms from a worker thread: its own event loop, so the 50 MB the main thread
 * is writing never delays a probe, and what is measured is the API's answer time alone.
 */
const PROBER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let running = true;
const samples = [];
parentPort.on('message', () => { running = false; });
const probe = () => new Promise((resolve) => {
  const req = http.request(workerData.url, { agent }, (res) => { res.resume(); res.on('end', resolve); });
  req.on('error', resolve);
  req.end();
});
(async () => {
  while (running) {
    const started = performance.now();
    await probe();
    const ms = performance.now() - started;
    samples.push(ms);
    await new Promise((r) => setTimeout(r, Math.max(0, workerData.everyMs - ms)));
  }
  parentPort.postMessage(samples);
})();
`;

interface Upload {
  path: string;
  body: Buffer;
  headers: Record<string, string>;
}

interface Answer {
  status: number | string;
  body: string;
}

console.log(`ingest benchmark (Node ${process.version})`);
await main();
process.exit(0);

async function main(): Promise<void> {
  const database = await createTestDatabase();
  const port = await freePort();
  const env = testEnv(database.url, { LOG_LEVEL: 'warn', PORT: String(port) });
  const config = AppConfig.fromEnv(env);
  // in process for the setup only; every upload goes to the API process
  const app = await createApiApp(config);
  app.useLogger(false);
  await app.init();
  let api: ChildProcess | undefined;
  let failed = false;
  try {
    const factories = new Factories(app);
    const tenant = await factories.newTenant();
    const { token } = await app.get(TenantTokenService).issue(tenant.id);
    const workspace = await factories.newWorkspace(tenant.id, 'Ingest');
    const records = `/v1/workspaces/${workspace.id}/records`;
    const mbox = `/v1/workspaces/${workspace.id}/imports/mbox`;
    const auth = { authorization: `Bearer ${token}` };

    api = spawn(process.execPath, [API_MAIN], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
    const child = api;
    child.once('exit', (code, signal) => {
      if (!child.killed) console.error(`the API process exited (${code ?? signal})`);
    });
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await probe(baseUrl)) === 200, 'the API process did not start');
    const pid = api.pid!;

    const bomb = gzipSync(Buffer.concat([Buffer.from('['), Buffer.alloc(UPLOAD_BYTES - 2, ' '), Buffer.from(']')]));
    const valid = validUpload(UPLOAD_BYTES - MB / 2, 20_000);
    const validMbox = validArchive(UPLOAD_BYTES - MB / 2, 20_000);
    // one message of bare newlines just under the 25 MB message cap, gzipped to about 24 KB
    const newlineMessage = gzipSync(
      Buffer.concat([
        Buffer.from('From a@example.com Mon Mar 23 10:00:00 2015\nMessage-ID: <nl@x>\nDate: Mon, 23 Mar 2015 10:00:00 +0000\n\n'),
        Buffer.alloc(24 * MB, '\n'),
      ]),
      { level: 9 },
    );
    const scenarios: { name: string; uploads: Upload[]; valid?: { records: number } }[] = [
      {
        name: `8 concurrent gzip bombs (${fmt(bomb.length / 1024, 0)} KB, 50 MB inflated), bad token`,
        uploads: Array.from({ length: 8 }, () => ({
          path: records,
          body: bomb,
          headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: 'Bearer x' },
        })),
      },
      {
        name: '50 MB NDJSON of "x\\n"',
        uploads: [{ path: records, body: Buffer.alloc(UPLOAD_BYTES, 'x\n'), headers: { ...auth, 'content-type': 'application/x-ndjson' } }],
      },
      {
        name: '50 MB JSON array of {}',
        uploads: [{ path: records, body: jsonArrayOfEmptyObjects(UPLOAD_BYTES), headers: { ...auth, 'content-type': 'application/json' } }],
      },
      {
        name: '50 MB mbox of newlines',
        uploads: [{ path: mbox, body: Buffer.alloc(UPLOAD_BYTES, '\n'), headers: { ...auth, 'content-type': 'application/mbox' } }],
      },
      {
        name: '50 MB mbox: one postmark, then newlines',
        uploads: [
          {
            path: mbox,
            body: Buffer.concat([Buffer.from('From a@example.com Mon Mar 23 10:00:00 2015\nSubject: x\n\n'), Buffer.alloc(UPLOAD_BYTES - 64, '\n')]),
            headers: { ...auth, 'content-type': 'application/mbox' },
          },
        ],
      },
      {
        name: `gzip mbox (${fmt(newlineMessage.length / 1024, 0)} KB): one message of 24 MB of newlines`,
        uploads: [{ path: mbox, body: newlineMessage, headers: { ...auth, 'content-type': 'application/mbox', 'content-encoding': 'gzip' } }],
      },
      {
        name: `valid JSON upload (${fmt(valid.body.length / MB, 1)} MB, ${fmt(valid.records, 0)} records)`,
        uploads: [{ path: records, body: valid.body, headers: { ...auth, 'content-type': 'application/json' } }],
        valid: { records: valid.records },
      },
      {
        name: `valid mbox upload (${fmt(validMbox.body.length / MB, 1)} MB, ${fmt(validMbox.records, 0)} messages)`,
        uploads: [{ path: mbox, body: validMbox.body, headers: { ...auth, 'content-type': 'application/mbox' } }],
        valid: { records: validMbox.records },
      },
    ];

    for (const scenario of scenarios.filter((s) => s.name.includes(args.only))) {
      const result = await measure(baseUrl, pid, () => Promise.all(scenario.uploads.map((u) => send(baseUrl, u))));
      const statuses = result.value.map((a) => `${a.status}${typeof a.status === 'number' && a.status >= 400 ? ` ${errorCode(a.body)}` : ''}`);
      const p99 = at(result.healthMs, 0.99);
      const growthMb = (result.peakRssKb - result.rssBeforeKb) / 1024;
      const ok = p99 < HEALTH_P99_TARGET_MS && growthMb < RSS_GROWTH_TARGET_MB;
      failed ||= !ok;
      console.log(`\n${scenario.name}`);
      console.log(`  answers: ${summarizeStatuses(statuses)} in ${fmt(result.elapsedMs / 1000, 2)} s`);
      console.log(
        `  /health: p50 ${fmt(at(result.healthMs, 0.5))} ms, p99 ${fmt(p99)} ms, max ${fmt(at(result.healthMs, 1))} ms (${result.healthMs.length} probes)` +
          `   target p99 < ${HEALTH_P99_TARGET_MS} ms`,
      );
      console.log(
        `  API RSS: ${fmt(result.rssBeforeKb / 1024, 0)} MB before, peak ${fmt(result.peakRssKb / 1024, 0)} MB, growth ${fmt(growthMb, 1)} MB` +
          `   target < ${RSS_GROWTH_TARGET_MB} MB   ${ok ? 'OK' : 'MISSED'}`,
      );
      if (scenario.valid) {
        const seconds = result.elapsedMs / 1000;
        const bytes = scenario.uploads.reduce((sum, u) => sum + u.body.length, 0);
        console.log(
          `  throughput: ${fmt(scenario.valid.records / seconds, 0)} records/s, ${fmt(bytes / MB / seconds, 1)} MB/s (answer: ${result.value[0].body.slice(0, 80)})`,
        );
      }
    }
  } finally {
    if (api) await stopProcess(api);
    await app.close();
    await deleteRedisPrefix(config.redisUrl, config.redisPrefix);
    await database.drop();
  }
  if (failed) console.log('\nat least one target missed');
}

/** Runs `work` while /health is probed every 20 ms and the API's RSS sampled; the RSS before is taken after a settle. */
async function measure<T>(
  baseUrl: string,
  pid: number,
  work: () => Promise<T>,
): Promise<{ value: T; healthMs: number[]; rssBeforeKb: number; peakRssKb: number; elapsedMs: number }> {
  await sleep(1_000);
  const rssBeforeKb = rssKb(pid);
  let peakRssKb = rssBeforeKb;
  let running = true;
  const sampler = (async () => {
    while (running) {
      peakRssKb = Math.max(peakRssKb, rssKb(pid));
      await sleep(PROBE_EVERY_MS);
    }
  })();
  const prober = new Worker(PROBER, { eval: true, workerData: { url: `${baseUrl}/health`, everyMs: PROBE_EVERY_MS } });
  const samples = new Promise<number[]>((resolve) => prober.once('message', resolve));
  const started = performance.now();
  const value = await work();
  const elapsedMs = performance.now() - started;
  // the memory a request leaves behind shows after its answer: sample a little longer
  await sleep(500);
  running = false;
  prober.postMessage('stop');
  const healthMs = await samples;
  await Promise.all([sampler, prober.terminate()]);
  return { value, healthMs: healthMs.sort((a, b) => a - b), rssBeforeKb, peakRssKb, elapsedMs };
}

/** The process's resident set (kB); 0 once it is gone. */
function rssKb(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** GET /health on its own keep-alive connection; -1 when it fails. */
function probe(baseUrl: string): Promise<number> {
  return new Promise((resolve) => {
    const req = httpRequest(new URL('/health', baseUrl), { agent: probeAgent, timeout: 600_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? -1));
    });
    req.on('error', () => resolve(-1));
    req.end();
  });
}

/** One upload on a fresh connection; an answer that comes while the body is still being sent counts (the server closes after it). */
function send(baseUrl: string, upload: Upload): Promise<Answer> {
  return new Promise((resolve) => {
    const req = httpRequest(new URL(upload.path, baseUrl), {
      method: 'POST',
      headers: { ...upload.headers, 'content-length': String(upload.body.length) },
      agent: false,
    });
    let answered = false;
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('end', () => {
        answered = true;
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') });
      });
      res.on('error', (error) => resolve({ status: `error ${error.message}`, body: '' }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (!answered) resolve({ status: error.code ?? error.message, body: '' });
    });
    req.end(upload.body);
  });
}

function errorCode(body: string): string {
  try {
    return (JSON.parse(body) as { error?: { code?: string } }).error?.code ?? '';
  } catch {
    return '';
  }
}

function summarizeStatuses(statuses: string[]): string {
  const counts = new Map<string, number>();
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts].map(([s, n]) => (n > 1 ? `${n} x ${s}` : s)).join(', ');
}

function jsonArrayOfEmptyObjects(bytes: number): Buffer {
  return Buffer.from(`[${'{},'.repeat(Math.floor((bytes - 4) / 3))}{}]`);
}

/** A JSON array of `count` records of about `bytes` in all (bodies padded to fit). */
function validUpload(bytes: number, count: number): { body: Buffer; records: number } {
  const people = ['alice.johnson', 'bob.smith', 'carol.diaz', 'dan.okafor', 'eve.martin'];
  const sample = JSON.stringify({ externalId: 'msg-00000', from: '', to: '', subject: '', body: '', sentAt: '2025-01-06T09:00:00.000Z' });
  const bodyChars = Math.floor(bytes / count) - sample.length - 80;
  const filler = 'The renewal with Acme Corp is on track and the pilot starts next week. '.repeat(Math.ceil(bodyChars / 70)).slice(0, bodyChars);
  const rows = Array.from({ length: count }, (_, i) =>
    JSON.stringify({
      externalId: `msg-${i}`,
      from: `${people[i % people.length]}@example.com`,
      to: `${people[(i + 1) % people.length]}@example.com`,
      subject: `Update ${i}`,
      body: filler,
      sentAt: '2025-01-06T09:00:00.000Z',
    }),
  );
  return { body: Buffer.from(`[${rows.join(',')}]`), records: count };
}

/** An mbox archive of `count` plain-text messages of about `bytes` in all. */
function validArchive(bytes: number, count: number): { body: Buffer; records: number } {
  const header = (i: number) =>
    `From alice@example.com Mon Mar 23 10:00:00 2015\nMessage-ID: <msg-${i}@example.com>\nDate: Mon, 23 Mar 2015 10:00:00 +0000\n` +
    `From: Alice Johnson <alice@example.com>\nTo: Bob Smith <bob@example.com>\nSubject: Update ${i}\nContent-Type: text/plain; charset=utf-8\n\n`;
  const bodyChars = Math.floor(bytes / count) - header(count).length - 2;
  const line = 'The renewal with Acme Corp is on track and the pilot starts next week.\n';
  const body = line.repeat(Math.ceil(bodyChars / line.length)).slice(0, bodyChars);
  return { body: Buffer.from(Array.from({ length: count }, (_, i) => `${header(i)}${body}\n\n`).join('')), records: count };
}

function at(sortedMs: number[], q: number): number {
  if (sortedMs.length === 0) return Number.NaN;
  return sortedMs[Math.min(sortedMs.length - 1, Math.floor(q * sortedMs.length))];
}
