import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Gauge } from 'prom-client';
import { RequestKeySealer } from '#libs/byok';
import type { SealedRequestKey } from '#libs/common';
import { AiKeyMode, PrismaService } from '#libs/database';
import { Metrics } from '#libs/metrics';
import { QueueName } from '#libs/queue';
import { RecordIngestService } from '#libs/records';
import { RedisService } from '#libs/redis';
import {
  emailRecords,
  FAULT_MARKERS,
  fingerprintForSimulator,
  freePort,
  type Needle,
  type PostgresScan,
  PrivateDovecot,
  ProviderSimulator,
  type RedisScan,
  RedisPubSubRecorder,
  rfc822Messages,
  type ScanHit,
  SecretScanner,
  scanPostgres,
  scanRedis,
  scanTexts,
  simulatorEnv,
  WebhookReceiver,
  WorkerProcess,
} from '#libs/testing';
import { WEBHOOK_EVENT_TYPES } from '#libs/webhooks';
import type { AiJobView } from '../src/ai-jobs/ai-jobs.dto.js';
import { ApiHarness, type ApiErrorBody, type JobStarted, tenantOfJob } from './api-harness.js';

const SCANNERS = [
  'postgres',
  'redis',
  'redis pubsub',
  'api log',
  'worker stdout',
  'worker stderr',
  'api metrics',
  'worker metrics',
  'response headers',
  'response bodies',
  'webhook deliveries',
] as const;
type Scanner = (typeof SCANNERS)[number];
const NOTHING = Object.fromEntries(SCANNERS.map((name) => [name, []]));

/** A provider key nobody could write by chance: every FRAGMENT_LENGTH window of it is mostly random. */
function distinctiveKey(prefix: string, length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return prefix + [...randomBytes(length)].map((byte) => alphabet[byte % alphabet.length]).join('');
}

/**
 * Records whose bodies carry `[[rec-N]]`, so a simulator gate can stop a backfill at record N; the
 * eighth is refused by the model, so the record failures table holds rows for the scan too.
 */
function markedRecords(count: number): string {
  return JSON.stringify(
    emailRecords(count).map((record, index) => ({
      ...record,
      body: `${record.body} [[rec-${index}]]${index === 7 ? ` ${FAULT_MARKERS.refusal}` : ''}`,
    })),
  );
}

/**
 * Runs backfills and AI jobs with distinctive keys (stored, per request through the BYOK headers,
 * refused, revoked mid-run, platform) on the API and a real worker process, then looks for every
 * key, in every encoding and as any cut-off fragment, everywhere the system writes: every column of
 * every table, every Redis key of every type and every pub/sub message, the API's log, the worker's
 * stdout and stderr, and the headers and body of every response the test received; Redis also
 * while jobs are held mid-run. No key may appear. Controls then plant a canary where each scanner
 * must look, so a scanner switched off or narrowed fails here rather than passing in silence.
 */
describe('Canary scan: no key anywhere (e2e, a real worker process)', () => {
  const keys = {
    stored: distinctiveKey('sk-', 40),
    storedInvalid: distinctiveKey('sk-', 40),
    revoked: distinctiveKey('sk-', 40),
    requestOpenAi: distinctiveKey('sk-', 40),
    requestGemini: distinctiveKey('AIza', 35),
    requestRefused: distinctiveKey('sk-', 40),
    platform: distinctiveKey('sk-', 40),
    storedAnthropic: distinctiveKey('sk-ant-api03-', 80),
    requestAnthropic: distinctiveKey('sk-ant-api03-', 80),
    platformAnthropic: distinctiveKey('sk-ant-api03-', 80),
    // tenant endpoints: an Azure OpenAI resource key, a gateway key of the tenant's own server, and one each the endpoint refuses
    storedAzure: distinctiveKey('', 40),
    storedAzureRefused: distinctiveKey('', 40),
    storedCustom: distinctiveKey('gw-', 40),
    storedCustomRefused: distinctiveKey('gw-', 40),
    // mailbox (IMAP) secrets: the password Dovecot accepts, one it refuses, and an OAuth2 access token (XOAUTH2, refused)
    mailboxPassword: distinctiveKey('', 40),
    mailboxRefused: distinctiveKey('', 40),
    mailboxToken: distinctiveKey('ya29.', 60),
  };
  const needles: Needle[] = Object.entries(keys).map(([name, value]) => ({ name: `key ${name}`, value }));
  // not a key: what the controls plant (lower case, so it fits a subdomain and a host name)
  const control = `ctl${randomBytes(10).toString('hex')}`;
  const controlNeedle: Needle[] = [{ name: 'control', value: control }];
  const controlOrigin = `http://${control}.example.test`;
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `byok-test:canary-${randomBytes(6).toString('hex')}`;
  const simulator = new ProviderSimulator({
    validKeys: {
      openai: [keys.stored, keys.revoked, keys.requestOpenAi, keys.platform],
      gemini: [keys.requestGemini],
      anthropic: [keys.storedAnthropic, keys.requestAnthropic, keys.platformAnthropic],
      'azure-openai': [keys.storedAzure],
      'custom-openai': [keys.storedCustom],
    },
  });
  let pubsub: RedisPubSubRecorder;
  let api: ApiHarness;
  let worker: WorkerProcess;
  let workerMetricsUrl: string;
  // the mailbox server: its user's password is a canary
  let dovecot: PrivateDovecot;
  // the tenants' webhook endpoint: every request it gets (path, headers, body) is scanned too
  const receiver = new WebhookReceiver();
  // the webhook secrets the test was shown once: in no store, log, payload or later answer
  const secretNeedles: { name: string; value: string }[] = [];

  beforeAll(async () => {
    await receiver.start('127.0.0.2');
    dovecot = await PrivateDovecot.start({
      users: [
        { name: 'canary', password: keys.mailboxPassword },
        // an OAuth2 user: Dovecot takes the bearer token (XOAUTH2) as this password
        { name: 'canary-oauth', password: keys.mailboxToken },
      ],
      authFailureDelaySeconds: 0,
    });
    const metricsPort = await freePort();
    workerMetricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    const urls = await simulator.start();
    // before the API, so every message it publishes is kept
    pubsub = await RedisPubSubRecorder.start(redisUrl, prefix);
    api = await ApiHarness.start({
      ...simulatorEnv(urls),
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      PLATFORM_OPENAI_API_KEY: keys.platform,
      PLATFORM_ANTHROPIC_API_KEY: keys.platformAnthropic,
      SYNC_PAGE_SIZE: '5',
      SYNC_CONCURRENCY: '2',
      SYNC_WORKER_CONCURRENCY: '4',
      // the fair-scheduling leases and the per-key rate counters are in Redis too, for the scan
      TENANT_MAX_CONCURRENCY: '8',
      PROVIDER_DEFAULT_RPM: '600000',
      PROVIDER_DEFAULT_TPM: '600000000',
      LOG_LEVEL: 'trace',
      CORS_ORIGINS: controlOrigin,
      // the worker's metrics port, scanned like everything else
      METRICS_PORT: String(metricsPort),
      EGRESS_ALLOW_HTTP: 'true',
      // the webhook receiver (127.0.0.2) and the tenant endpoints (the simulator, 127.0.0.1)
      EGRESS_ALLOWED_CIDRS: '127.0.0.2/32,127.0.0.1/32',
      WEBHOOK_DISPATCH_INTERVAL_MS: '100',
      WEBHOOK_RETRY_BASE_MS: '50',
      WEBHOOK_MAX_ATTEMPTS: '3',
      // the private Dovecot: plain IMAP on 127.0.0.1 (in EGRESS_ALLOWED_CIDRS above)
      IMAP_ALLOW_PLAINTEXT: 'true',
      IMAP_MAX_ATTEMPTS: '2',
      IMAP_RETRY_BASE_MS: '50',
    });
    // the stderr control: one line on the worker's stderr, written by the worker process itself
    const stderrControl = `process.stderr.write(${JSON.stringify(`stderr control ${control}\n`)})`;
    // the worker metrics control: the worker's prom-client (the one its registry uses) appends a comment
    // line naming the control to every exposition, so the worker metrics scanner has something to find
    const promClient = createRequire(import.meta.url).resolve('prom-client');
    const metricsControl = [
      `import { createRequire } from 'node:module';`,
      `const { Registry } = createRequire(${JSON.stringify(promClient)})(${JSON.stringify(promClient)});`,
      `const render = Registry.prototype.metrics;`,
      `Registry.prototype.metrics = async function () { return (await render.call(this)) + ${JSON.stringify(`# metrics control ${control}
`)}; };`,
    ].join('\n');
    worker = await WorkerProcess.start(api.env, {
      nodeFlags: [
        `--import=data:text/javascript,${encodeURIComponent(stderrControl)}`,
        `--import=data:text/javascript,${encodeURIComponent(metricsControl)}`,
      ],
    });
  }, 60_000);
  afterEach(() => simulator.reset());
  afterAll(async () => {
    await worker?.stop();
    await pubsub?.stop();
    await api?.close();
    await receiver.stop();
    await simulator.stop();
    await dovecot?.destroy();
  });

  /** Every scanner over everything the test and the system wrote so far. */
  async function scanEverywhere(
    lookFor: readonly Needle[],
  ): Promise<{ report: Record<Scanner, ScanHit[]>; redis: RedisScan; postgres: PostgresScan }> {
    await pubsub.flush();
    const postgres = await scanPostgres(api.config.databaseUrl, lookFor);
    // the whole database, not only the prefix: a key written under another name must show too
    const redis = await scanRedis(redisUrl, prefix, lookFor, { pattern: '*' });
    const scanner = new SecretScanner(lookFor);
    // both processes' metrics, as Prometheus reads them (these requests are not recorded as exchanges)
    const apiMetrics = await (await fetch(new URL('/metrics', api.baseUrl), { headers: { authorization: `Bearer ${api.adminToken}` } })).text();
    const workerMetrics = await (await fetch(workerMetricsUrl)).text();
    expect([apiMetrics, workerMetrics].map((text) => text.includes('# TYPE byok_provider_calls_total counter'))).toEqual([true, true]);
    const exchange = (index: number) => `#${index} ${api.exchanges[index].method} ${new URL(api.exchanges[index].url).pathname}`;
    const report: Record<Scanner, ScanHit[]> = {
      postgres: postgres.hits,
      redis: redis.hits,
      'redis pubsub': pubsub.scan(lookFor),
      'api log': scanTexts('api log', api.logs.all(), lookFor),
      'worker stdout': scanTexts('worker stdout', worker.stdout, lookFor),
      'worker stderr': scanTexts('worker stderr', worker.stderr, lookFor),
      'api metrics': scanner.scan('api metrics', apiMetrics),
      'worker metrics': scanner.scan('worker metrics', workerMetrics),
      'response headers': api.exchanges.flatMap((e, i) =>
        scanner.scan(`response headers ${exchange(i)}`, e.headers.map(([name, value]) => `${name}: ${value}`).join('\n')),
      ),
      'response bodies': api.exchanges.flatMap((e, i) => scanner.scan(`response body ${exchange(i)}`, e.body)),
      'webhook deliveries': receiver.received.flatMap((r, i) =>
        scanner.scan(
          `webhook delivery #${i} ${r.path}`,
          [r.path, ...Object.entries(r.headers).map(([n, v]) => `${n}: ${String(v)}`), r.body].join('\n'),
        ),
      ),
    };
    return { report, redis, postgres };
  }

  /** Waits until one of `lines` (a process's output, still growing) satisfies `found`. */
  async function waitForLine(lines: readonly string[], found: (line: string) => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!lines.some(found)) {
      if (Date.now() > deadline) throw new Error(`No line of the worker's output shows ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /**
   * Makes the worker log a line of its own (a backfill refused for want of a key names its tenant)
   * and waits for it: the pipe keeps order, so every line the worker wrote before has arrived too.
   */
  async function workerOutputArrived(subdomain = `flush-${randomBytes(5).toString('hex')}`): Promise<void> {
    const tenant = await api.newTenant({ subdomain });
    const jobId = await backfill((await api.newWorkspace(tenant.id)).id);
    expect((await api.waitForBackfill(jobId)).failure?.code).toBe('NO_API_KEY');
    await waitForLine(worker.stdout, (line) => line.includes(`Skipping backfill: tenant ${subdomain} `), `the refusal of tenant ${subdomain}`);
  }

  /** Queue jobs under the test's prefix that carry a sealed request key now. */
  function sealedKeysIn(redis: RedisScan): { jobId: string; sealedKey: SealedRequestKey }[] {
    const jobKey = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:bull:[^:]+:([0-9a-f-]{36})$`);
    return redis.entries.flatMap((entry) => {
      const jobId = jobKey.exec(entry.key)?.[1];
      if (!jobId || entry.type !== 'hash') return [];
      const dataAt = entry.parts.findIndex((part, index) => index % 2 === 0 && part === 'data');
      if (dataAt < 0) return [];
      const data = JSON.parse(entry.parts[dataAt + 1]) as { sealedKey?: SealedRequestKey };
      return data.sealedKey ? [{ jobId, sealedKey: data.sealedKey }] : [];
    });
  }

  async function tenantWithWorkspace(storedKey?: string, aiKeyMode: AiKeyMode = AiKeyMode.byok) {
    const tenant = await api.newTenant({ aiKeyMode });
    const workspace = await api.newWorkspace(tenant.id);
    if (storedKey) await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: storedKey } });
    await api.app.get(RecordIngestService).ingest(workspace.id, markedRecords(30), 'json');
    return { tenant, workspace, token: await api.newTenantToken(tenant.id) };
  }

  const backfill = async (workspaceId: string, headers: Record<string, string> = {}) =>
    (await api.request<JobStarted>('POST', `/v1/workspaces/${workspaceId}/backfills`, { body: {}, headers })).body.jobId;

  const startAiJob = async (token: string, headers: Record<string, string> = {}, text = 'Alice Johnson from Acme Corp met Bob Smith.') =>
    (await api.request<JobStarted>('POST', '/v1/ai/jobs/extract', { token, headers, body: { text } })).body.jobId;

  async function waitForDeletion(jobId: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { body } = await api.request<{ status: string }>('GET', `/v1/workspace-deletions/${jobId}`);
      if (body.status === 'succeeded') return;
      if (Date.now() > deadline) throw new Error(`Workspace deletion ${jobId} still ${body.status}`);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
  }

  async function waitForAiJob(
    token: string,
    jobId: string,
    done: (status: AiJobView['status']) => boolean = (status) => status === 'succeeded' || status === 'failed',
  ) {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const job = (await api.request<AiJobView>('GET', `/v1/ai/jobs/${jobId}`, { token })).body;
      if (done(job.status)) return job;
      if (Date.now() > deadline) throw new Error(`AI job ${jobId} still ${job.status}`);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
  }

  it('finds no key anywhere, in any encoding, during and after every kind of job', async () => {
    const good = await tenantWithWorkspace(keys.stored);
    const bad = await tenantWithWorkspace(keys.storedInvalid);
    const revoked = await tenantWithWorkspace(keys.revoked);
    const managed = await tenantWithWorkspace(undefined, AiKeyMode.managed);
    const viaHeaders = await api.newWorkspace(good.tenant.id);
    await api.app.get(RecordIngestService).ingest(viaHeaders.id, markedRecords(10), 'json');
    // webhooks announce the backfills' ends and the keys found invalid; one endpoint fails once first
    for (const { tenant } of [good, bad, revoked]) {
      const hook = await api.request<{ id: string; secret: string }>('POST', `/v1/tenants/${tenant.id}/webhooks`, {
        body: { url: receiver.url(`/canary/${tenant.id}`), events: [...WEBHOOK_EVENT_TYPES] },
      });
      expect(hook.status).toBe(201);
      secretNeedles.push({ name: `webhook secret of ${tenant.id}`, value: hook.body.secret });
    }
    receiver.script(`/canary/${revoked.tenant.id}`, [500]);
    const openaiHeaders = { 'X-User-Provider': 'openai', 'X-User-Api-Key': keys.requestOpenAi };
    // budgets fill the usage tables too: a hard one holds reservations while pages run, an alert one
    // of a single token records its thresholds at the first page
    expect((await api.request('PUT', `/v1/tenants/${good.tenant.id}/budget`, { body: { monthlyLimitUsd: 1_000_000, mode: 'hard' } })).status).toBe(
      200,
    );
    expect((await api.request('PUT', `/v1/tenants/${managed.tenant.id}/budget`, { body: { monthlyLimitTokens: 1, mode: 'alert' } })).status).toBe(
      200,
    );
    const geminiHeaders = { 'X-User-Provider': 'gemini', 'X-User-Api-Key': keys.requestGemini };

    // gates stop three jobs mid-run: the revoked key's backfill at record 12, the request-key backfill
    // at record 7, and a request-key AI job at its extraction call
    const revokeGate = simulator.gate({ keyFingerprint: fingerprintForSimulator(keys.revoked), marker: '[[rec-12]]' });
    const backfillGate = simulator.gate({ keyFingerprint: fingerprintForSimulator(keys.requestOpenAi), marker: '[[rec-7]]' });
    const aiGate = simulator.gate({ keyFingerprint: fingerprintForSimulator(keys.requestGemini), marker: '[[ai-hold]]' });
    const succeeded = await backfill(good.workspace.id);
    const refused = await backfill(bad.workspace.id);
    const revokedJob = await backfill(revoked.workspace.id);
    const withHeaders = await backfill(viaHeaders.id, openaiHeaders);
    const heldAi = await startAiJob(good.token, geminiHeaders, 'Alice Johnson from Acme Corp met Bob Smith. [[ai-hold]]');
    await Promise.all([revokeGate.waitForHeld(1), backfillGate.waitForHeld(1), aiGate.waitForHeld(1)]);

    // sampled while they run: nothing anywhere, and the request keys in Redis only sealed
    expect((await api.waitForBackfill(withHeaders, () => true)).status).toBe('running');
    expect((await waitForAiJob(good.token, heldAi, () => true)).status).toBe('running');
    // the queue board's views of every queue while sealed keys sit in them: scanned as response bodies
    for (const queue of Object.values(QueueName)) {
      const listing = await api.fetch(`/admin/queues/api/queues?activeQueue=${queue}&status=latest&page=1&jobsPerPage=50`, {
        headers: { authorization: `Bearer ${api.adminToken}` },
      });
      expect(listing.status).toBe(200);
    }
    // the held request-key backfill's pages hold budget reservations while the scan reads them
    await expect(api.app.get(PrismaService).budgetReservation.count()).resolves.toBeGreaterThan(0);
    const midRun = await scanEverywhere(needles);
    expect(midRun.report).toEqual(NOTHING);
    expect(midRun.redis.unscanned).toEqual([]);
    // backfill slots and calls in flight were held while it scanned (named by ids only)
    const scannedKeys = midRun.redis.entries.map((entry) => entry.key);
    for (const family of [':leases:backfills:', ':leases:tenant-calls:']) expect(scannedKeys.some((key) => key.includes(family))).toBe(true);
    const sealed = sealedKeysIn(midRun.redis);
    expect(sealed.map((s) => s.jobId).sort()).toEqual([withHeaders, heldAi].sort());
    const sealer = api.app.get(RequestKeySealer);
    const expectedKey: Record<string, string> = { [withHeaders]: keys.requestOpenAi, [heldAi]: keys.requestGemini };
    for (const { jobId, sealedKey } of sealed) {
      expect(Object.keys(sealedKey).sort()).toEqual(['authTag', 'ciphertext', 'iv', 'keyVersion', 'provider']);
      // it is the request's key, sealed to its own job (compared, never printed)
      expect(sealer.open(sealedKey, { jobId, tenantId: await tenantOfJob(api, jobId) }).key === expectedKey[jobId]).toBe(true);
    }

    // revoke the key the held backfill uses, then let everything go
    simulator.setValidKeys('openai', [keys.stored, keys.requestOpenAi, keys.platform]);
    for (const gate of [revokeGate, backfillGate, aiGate]) gate.open();
    const outcomes = await Promise.all([succeeded, refused, revokedJob, withHeaders].map((id) => api.waitForBackfill(id)));
    expect(outcomes.map((o) => [o.status, o.failure?.code ?? null, o.keySource])).toEqual([
      ['succeeded', null, 'tenant'],
      ['failed', 'INVALID_API_KEY', null],
      ['failed', 'INVALID_API_KEY', 'tenant'],
      ['succeeded', null, 'request'],
    ]);

    // AI jobs: request keys (OpenAI, Gemini, refused), stored key, platform key
    const ai = [
      await waitForAiJob(good.token, heldAi),
      await waitForAiJob(good.token, await startAiJob(good.token, openaiHeaders)),
      await waitForAiJob(good.token, await startAiJob(good.token, { 'X-User-Provider': 'openai', 'X-User-Api-Key': keys.requestRefused })),
      await waitForAiJob(good.token, await startAiJob(good.token)),
      await waitForAiJob(managed.token, await startAiJob(managed.token)),
    ];
    expect(ai.map((j) => [j.status, j.error?.code ?? null, j.keySource])).toEqual([
      ['succeeded', null, 'request'],
      ['succeeded', null, 'request'],
      // refused by the pre-flight (JobPreflight) before the job runs: no key source is recorded
      ['failed', 'INVALID_API_KEY', null],
      ['succeeded', null, 'tenant'],
      ['succeeded', null, 'platform'],
    ]);

    // Anthropic: a stored key's backfill (GRAPHRAG_PROVIDER), a request key's and a platform key's AI jobs
    const claude = await tenantWithWorkspace();
    await api.request('PUT', `/v1/tenants/${claude.tenant.id}/settings/ANTHROPIC_API_KEY`, { body: { value: keys.storedAnthropic } });
    await api.request('PUT', `/v1/tenants/${claude.tenant.id}/settings/GRAPHRAG_PROVIDER`, { body: { value: 'anthropic' } });
    const claudeBackfill = await api.waitForBackfill(await backfill(claude.workspace.id));
    const anthropicHeaders = { 'X-User-Provider': 'anthropic', 'X-User-Api-Key': keys.requestAnthropic };
    const onPlatform = await api.request<JobStarted>('POST', '/v1/ai/jobs/extract', {
      token: managed.token,
      body: { text: 'Alice Johnson from Acme Corp met Bob Smith.', provider: 'anthropic' },
    });
    const claudeAi = [
      await waitForAiJob(good.token, await startAiJob(good.token, anthropicHeaders)),
      await waitForAiJob(managed.token, onPlatform.body.jobId),
    ];
    expect([claudeBackfill, ...claudeAi].map((j) => [j.status, j.provider, j.keySource])).toEqual([
      ['succeeded', 'anthropic', 'tenant'],
      ['succeeded', 'anthropic', 'request'],
      ['succeeded', 'anthropic', 'platform'],
    ]);
    expect(new Set(simulator.keysSeen('anthropic'))).toEqual(
      new Set([keys.storedAnthropic, keys.requestAnthropic, keys.platformAnthropic].map(fingerprintForSimulator)),
    );

    // tenant endpoints: stored keys' backfills on an Azure OpenAI resource and on a tenant's own
    // OpenAI-compatible server (both the simulator), and refused keys of each through the validation API
    const endpointTenant = async (settings: Record<string, string>) => {
      const { tenant, workspace } = await tenantWithWorkspace();
      for (const [setting, value] of Object.entries(settings)) {
        expect((await api.request('PUT', `/v1/tenants/${tenant.id}/settings/${setting}`, { body: { value } })).status).toBe(200);
      }
      return { tenant, workspace };
    };
    const azureSettings = (key: string) => ({
      GRAPHRAG_PROVIDER: 'azure-openai',
      AZURE_OPENAI_API_KEY: key,
      AZURE_OPENAI_ENDPOINT: simulator.urls.azureOpenAiEndpoint,
      AZURE_OPENAI_DEPLOYMENT: 'gpt-4o-mini',
    });
    const customSettings = (key: string) => ({
      GRAPHRAG_PROVIDER: 'custom-openai',
      CUSTOM_OPENAI_API_KEY: key,
      CUSTOM_OPENAI_BASE_URL: simulator.urls.customOpenAiBaseUrl,
      CUSTOM_OPENAI_MODEL: 'llama-3.1-8b-instruct',
    });
    const azure = await endpointTenant(azureSettings(keys.storedAzure));
    const custom = await endpointTenant(customSettings(keys.storedCustom));
    const endpointBackfills = await Promise.all([azure, custom].map(async ({ workspace }) => api.waitForBackfill(await backfill(workspace.id))));
    expect(endpointBackfills.map((j) => [j.status, j.provider, j.keySource])).toEqual([
      ['succeeded', 'azure-openai', 'tenant'],
      ['succeeded', 'custom-openai', 'tenant'],
    ]);
    expect(simulator.keysSeen('azure-openai')).toEqual([fingerprintForSimulator(keys.storedAzure)]);
    expect(simulator.keysSeen('custom-openai')).toEqual([fingerprintForSimulator(keys.storedCustom)]);
    const refusedAzure = await endpointTenant(azureSettings(keys.storedAzureRefused));
    const refusedCustom = await endpointTenant(customSettings(keys.storedCustomRefused));
    const endpointVerdicts = [
      await api.request<{ status: string }>('POST', `/v1/tenants/${azure.tenant.id}/settings/AZURE_OPENAI_API_KEY/validate`),
      await api.request<{ status: string }>('POST', `/v1/tenants/${refusedAzure.tenant.id}/settings/AZURE_OPENAI_API_KEY/validate`),
      await api.request<{ status: string }>('POST', `/v1/tenants/${refusedCustom.tenant.id}/settings/CUSTOM_OPENAI_API_KEY/validate`),
    ];
    expect(endpointVerdicts.map((v) => v.body.status)).toEqual(['valid', 'invalid', 'invalid']);
    // a refused key's backfill ends at the pre-flight, its failure stored and answered
    expect((await api.waitForBackfill(await backfill(refusedCustom.workspace.id))).failure?.code).toBe('INVALID_API_KEY');
    await api.request('GET', `/v1/tenants/${azure.tenant.id}/settings`);

    // mailboxes: a tenant of its own (no webhook endpoint, so the deliveries below stay as counted)
    // stores the password Dovecot accepts, one it refuses, and an OAuth2 token; each is tested and
    // backfilled from, and the masked views are read
    const mailboxTenant = await api.newTenant();
    await api.request('PUT', `/v1/tenants/${mailboxTenant.id}/settings/OPENAI_API_KEY`, { body: { value: keys.stored } });
    for (const message of rfc822Messages(6)) dovecot.deliver('canary', 'INBOX', message);
    for (const message of rfc822Messages(4, 50)) dovecot.deliver('canary-oauth', 'INBOX', message);
    const mailboxes = [
      { secret: keys.mailboxPassword, authMethod: 'password', username: 'canary' },
      { secret: keys.mailboxRefused, authMethod: 'password', username: 'canary' },
      { secret: keys.mailboxToken, authMethod: 'xoauth2', username: 'canary-oauth' },
    ];
    const mailboxOutcomes: [number, string | null, string, string | null][] = [];
    for (const { secret, authMethod, username } of mailboxes) {
      const workspace = await api.newWorkspace(mailboxTenant.id);
      const put = await api.request('PUT', `/v1/workspaces/${workspace.id}/imap-source`, {
        body: { host: '127.0.0.1', port: dovecot.port, tlsMode: 'none', username, authMethod, secret, folders: ['INBOX'] },
      });
      expect(put.status).toBe(200);
      const tested = await api.request<ApiErrorBody>('POST', `/v1/workspaces/${workspace.id}/imap-source/test`);
      const started = await api.request<JobStarted>('POST', `/v1/workspaces/${workspace.id}/backfills`, { body: { source: 'imap' } });
      const done = await api.waitForBackfill(started.body.jobId, undefined, 30_000);
      await api.request('GET', `/v1/workspaces/${workspace.id}/imap-source`);
      mailboxOutcomes.push([tested.status, tested.body.error?.code ?? null, done.status, done.failure?.code ?? null]);
    }
    expect(mailboxOutcomes).toEqual([
      [200, null, 'succeeded', null],
      [422, 'IMAP_AUTH_FAILED', 'failed', 'IMAP_AUTH_FAILED'],
      [200, null, 'succeeded', null],
    ]);
    // the accepted password and token did log in, and the backfills fetched through them
    expect(await dovecot.commandsSeen('canary')).toEqual(expect.arrayContaining(['UID FETCH']));
    expect(await dovecot.commandsSeen('canary-oauth')).toEqual(expect.arrayContaining(['AUTHENTICATE', 'UID FETCH']));
    await expect(api.app.get(PrismaService).sourceRecord.count({ where: { source: 'imap' } })).resolves.toBe(6 + 4);

    // reads and refusals that handle keys, through request() and raw fetch
    await api.request('GET', `/v1/tenants/${good.tenant.id}/settings`);
    await api.request('GET', `/v1/workspaces/${good.workspace.id}/backfills`);
    await api.request('GET', `/v1/workspaces/${good.workspace.id}/graph`);
    await api.request('POST', `/v1/tenants/${good.tenant.id}/settings/OPENAI_API_KEY/validate`);
    await api.request('POST', `/v1/tenants/${bad.tenant.id}/settings/OPENAI_API_KEY/validate`);
    const spaced = await api.request<ApiErrorBody>('PUT', `/v1/tenants/${good.tenant.id}/settings/OPENAI_API_KEY`, {
      body: { value: `${keys.stored} with spaces` },
    });
    const incomplete = await api.request<ApiErrorBody>('POST', '/v1/ai/jobs/extract', {
      token: good.token,
      headers: { 'X-User-Api-Key': keys.requestOpenAi },
      body: { text: 'x' },
    });
    const malformed = await api.fetch('/v1/ai/jobs/extract', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${good.token}`,
        'content-type': 'application/json',
        'X-User-Provider': 'openai',
        'X-User-Api-Key': `${keys.requestOpenAi} ${keys.requestGemini}`,
      },
      body: JSON.stringify({ text: 'x' }),
    });
    const keyAsToken = await api.fetch('/v1/me', { headers: { authorization: `Bearer ${keys.stored}` } });
    const preflight = await api.fetch('/v1/ai/jobs/extract', {
      method: 'OPTIONS',
      headers: {
        origin: controlOrigin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'x-user-provider, x-user-api-key',
      },
    });
    const pages = await Promise.all(['/health', '/docs/openapi.json', '/dashboard'].map((path) => api.fetch(path)));
    expect([spaced.status, spaced.body.error.code, incomplete.status, incomplete.body.error.code]).toEqual([
      400,
      'INVALID_SETTING_VALUE',
      400,
      'BYOK_HEADERS_INCOMPLETE',
    ]);
    expect([malformed.status, ((await malformed.json()) as ApiErrorBody).error.code, keyAsToken.status, preflight.status]).toEqual([
      400,
      'BYOK_KEY_INVALID',
      401,
      204,
    ]);
    expect(pages.map((page) => [page.status, page.redirected])).toEqual([
      [200, false],
      [200, false],
      [200, true],
    ]);
    new Logger('CanaryProbe').log({ apiKey: keys.stored, requestKey: keys.requestOpenAi, nested: { key: keys.platform } }, 'a careless log line');

    // deletion leaves rows of its own: a record's tombstone, and the job that emptied a workspace
    expect((await api.request('DELETE', `/v1/workspaces/${good.workspace.id}/records/msg-0%40example.test`)).status).toBe(200);
    const deletion = await api.request<{ id: string }>('DELETE', `/v1/workspaces/${bad.workspace.id}`);
    expect(deletion.status).toBe(202);
    await waitForDeletion(deletion.body.id);

    // every webhook delivered: backfill.succeeded (good, twice: its stored and its request key's
    // backfill), backfill.failed and key.invalid (bad, revoked)
    const prisma = api.app.get(PrismaService);
    const deadline = Date.now() + 20_000;
    while (
      receiver.received.filter((r) => r.answeredWith === 204).length < 6 ||
      (await prisma.webhookDelivery.count({ where: { status: 'pending' } })) > 0
    ) {
      if (Date.now() > deadline) throw new Error('The webhook deliveries did not all end');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const announced = receiver.received.map((r) => `${r.path.slice(8)} ${(JSON.parse(r.body) as { type: string }).type}`);
    expect([...new Set(announced)].sort()).toEqual(
      [
        `${good.tenant.id} backfill.succeeded`,
        `${bad.tenant.id} backfill.failed`,
        `${bad.tenant.id} key.invalid`,
        `${revoked.tenant.id} backfill.failed`,
        `${revoked.tenant.id} key.invalid`,
      ].sort(),
    );
    // the revoked tenant's endpoint answered 500 once: that delivery was sent again
    expect(announced.filter((a) => a === `${good.tenant.id} backfill.succeeded`)).toHaveLength(2);
    expect(announced).toHaveLength(7);
    for (const request of receiver.received) {
      const secret = secretNeedles.find((n) => n.name.endsWith(request.path.slice(8)))!.value;
      expect(WebhookReceiver.verify(secret, request)).toBe(true);
    }

    await workerOutputArrived();
    const after = await scanEverywhere(needles);
    expect(after.report).toEqual(NOTHING);
    // the webhook secrets: nowhere but in the one answer that created each
    const secrets = await scanEverywhere(secretNeedles);
    expect({ ...secrets.report, 'response bodies': [] }).toEqual(NOTHING);
    expect(secrets.report['response bodies'].map((hit) => hit.where.replace(/^response body #\d+ /, '').replace(/ .*$/, ''))).toEqual(
      secretNeedles.map(() => 'POST'),
    );
    expect(secrets.report['response bodies'].every((hit) => /\/v1\/tenants\/[0-9a-f-]{36}\/webhooks$/.test(hit.where))).toBe(true);
    expect(after.redis.unscanned).toEqual([]);
    // every sealed request key was erased when its job ended
    expect(sealedKeysIn(after.redis)).toEqual([]);

    // and the scans read real data: every column of every table, the queues' keys of every kind, the
    // published messages, both processes' logs, every response
    const client = new pg.Client({ connectionString: api.config.databaseUrl });
    await client.connect();
    const { rows: everyColumn } = await client
      .query<{ id: string }>(
        `SELECT c.table_schema || '.' || c.table_name || '.' || c.column_name AS id FROM information_schema.columns c
           JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
          WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
      )
      .finally(() => client.end());
    const scannedColumns = after.postgres.columns.map((c) => `${c.schema}.${c.table}.${c.column}`);
    expect(everyColumn.map((c) => c.id).filter((id) => !scannedColumns.includes(id))).toEqual([]);
    const typeOf = (id: string) => after.postgres.columns.find((c) => `${c.schema}.${c.table}.${c.column}` === id)?.type;
    expect(
      ['tenant_settings.ciphertext', 'ai_jobs.input', 'backfills.failure_message', 'backfills.status', 'backfill_record_failures.reason'].map((id) =>
        typeOf(`public.${id}`),
      ),
    ).toEqual(['bytea', 'jsonb', 'text', 'backfill_status', 'text']);
    expect(['record_tombstones.external_id', 'workspace_deletions.deleted'].map((id) => typeOf(`public.${id}`))).toEqual(['text', 'jsonb']);
    // the mailboxes' sealed secrets and their verdicts are scanned, not an empty table
    expect(['imap_sources.secret_ciphertext', 'imap_sources.secret_last4', 'imap_sources.status_code'].map((id) => typeOf(`public.${id}`))).toEqual([
      'bytea',
      'text',
      'text',
    ]);
    await expect(prisma.imapSource.count()).resolves.toBe(3);
    await expect(prisma.auditEvent.count({ where: { action: 'imap_source.put' } })).resolves.toBe(3);
    expect(
      [
        'webhook_endpoints.secret_ciphertext',
        'webhook_endpoints.url',
        'webhook_events.data',
        'webhook_deliveries.last_error',
        'webhook_delivery_attempts.error_class',
      ].map((id) => typeOf(`public.${id}`)),
    ).toEqual(['bytea', 'text', 'jsonb', 'text', 'text']);
    // the webhook tables are not scanned empty: events, deliveries and their attempts (a failed one too)
    await expect(prisma.webhookEvent.count()).resolves.toBeGreaterThanOrEqual(6);
    await expect(prisma.webhookDeliveryAttempt.count({ where: { outcome: 'failed' } })).resolves.toBeGreaterThan(0);
    expect(['audit_events.details', 'audit_events.user_agent', 'audit_events.last4_after'].map((id) => typeOf(`public.${id}`))).toEqual([
      'jsonb',
      'character varying(256)',
      'text',
    ]);
    // the table of failed records is not scanned empty: the refused records are in it; nor are deletion's
    await expect(api.app.get(PrismaService).backfillRecordFailure.count()).resolves.toBeGreaterThan(0);
    await expect(api.app.get(PrismaService).recordTombstone.count()).resolves.toBeGreaterThan(0);
    await expect(api.app.get(PrismaService).workspaceDeletion.count({ where: { status: 'succeeded' } })).resolves.toBeGreaterThan(0);
    // nor are the usage tables: calls, daily rollups, budgets and thresholds (reservations were scanned mid-run)
    await expect(api.app.get(PrismaService).keyUsage.count({ where: { inputTokens: { gt: 0 } } })).resolves.toBeGreaterThan(0);
    await expect(api.app.get(PrismaService).usageDaily.count()).resolves.toBeGreaterThan(0);
    await expect(api.app.get(PrismaService).tenantBudget.count()).resolves.toBe(2);
    await expect(api.app.get(PrismaService).budgetThreshold.count()).resolves.toBe(2);
    await expect(api.app.get(PrismaService).budgetReservation.count()).resolves.toBe(0);
    // the audit log is not scanned empty either: the stored keys' changes and validations are in it
    for (const action of ['setting.put', 'setting.validate', 'token.create', 'workspace.delete']) {
      await expect(api.app.get(PrismaService).auditEvent.count({ where: { action } })).resolves.toBeGreaterThan(0);
    }
    await expect(api.app.get(PrismaService).auditEvent.count({ where: { fingerprintAfter: { not: null } } })).resolves.toBeGreaterThan(0);
    expect(after.postgres.rows).toBeGreaterThan(200);
    const ours = after.redis.entries.filter((entry) => entry.key.startsWith(`${prefix}:`));
    expect(ours.length).toBeGreaterThan(10);
    expect(['hash', 'stream', 'string', 'zset'].filter((type) => !ours.some((entry) => entry.type === type))).toEqual([]);
    expect(pubsub.messages.filter((m) => m.channel.startsWith(`${prefix}:invalidate:`)).length).toBeGreaterThan(0);
    expect(api.logs.lines.length).toBeGreaterThan(50);
    expect(api.logs.text).toContain('[REDACTED]');
    expect(worker.stdout.filter((line) => line.includes('Resolved tenant_id from workspace_id')).length).toBeGreaterThanOrEqual(3);
    expect(api.exchanges.length).toBeGreaterThan(40);
    expect(api.exchanges.filter((e) => e.status >= 300 && e.status < 400).length).toBeGreaterThan(0);
    expect(api.responses.length).toBe(api.exchanges.length);
  }, 90_000);

  it('controls: every scanner finds a canary planted where it must look', async () => {
    const owner = await api.newTenant();
    await api.request('PUT', `/v1/tenants/${owner.id}/settings/OPENAI_API_KEY`, { body: { value: keys.stored } });
    const ownerToken = await api.newTenantToken(owner.id);
    // Postgres text column and a response body (request): a workspace's name
    const workspace = await api.request<{ id: string }>('POST', `/v1/tenants/${owner.id}/workspaces`, { body: { name: `planted ${control}` } });
    // Postgres jsonb: an AI job's input, run by the worker
    const aiJob = await startAiJob(ownerToken, {}, `Alice Johnson from Acme Corp met Bob Smith about ${control}.`);
    // Postgres, a table of deletion: a deleted record's tombstone keeps its external id
    const plantedId = `planted-${control}`;
    await api.request('POST', `/v1/workspaces/${workspace.body.id}/records`, {
      body: [{ externalId: plantedId, body: 'x', sentAt: '2025-01-01T00:00:00Z' }],
    });
    expect((await api.request('DELETE', `/v1/workspaces/${workspace.body.id}/records/${plantedId}`)).status).toBe(200);
    // the API's log: a request line carries the path
    await api.request('GET', `/v1/backfills/${control}`);
    // response headers: CORS echoes an allowed origin, through request() and through fetch()
    await api.request('GET', '/v1/me', { headers: { origin: controlOrigin } });
    await api.fetch('/health', { headers: { origin: controlOrigin } });
    // a response body through fetch()
    await api.fetch(`/v1/tenants/${owner.id}/workspaces`, { headers: { authorization: `Bearer ${api.adminToken}` } });
    // Redis, under the prefix and outside it, and a published message
    const redis = api.app.get(RedisService);
    const outside = `canary-control-${randomBytes(6).toString('hex')}`;
    const raw = new Redis(redisUrl);
    try {
      await redis.client.set(redis.key('canary-control'), `x${control}x`);
      await raw.set(outside, `x${control}x`);
      await redis.client.publish(redis.key('canary-control'), `x${control}x`);
      expect((await waitForAiJob(ownerToken, aiJob)).status).toBe('succeeded');
      // the worker's stdout: its log line naming a tenant whose backfill has no key
      await workerOutputArrived(control);
      await waitForLine(worker.stderr, (line) => line.includes(control), 'the stderr control');

      // webhook deliveries: an endpoint whose URL path names the control gets a test ping
      const hook = await api.request<{ id: string }>('POST', `/v1/tenants/${owner.id}/webhooks`, {
        body: { url: receiver.url(`/control/${control}`), events: ['key.invalid'] },
      });
      await api.request('POST', `/v1/tenants/${owner.id}/webhooks/${hook.body.id}/test`);
      const deadline = Date.now() + 20_000;
      while (!receiver.received.some((r) => r.path.includes(control))) {
        if (Date.now() > deadline) throw new Error('The control ping did not arrive');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }

      // the API's metrics: a family planted in its registry, its help text naming the control
      new Gauge({ name: 'canary_control', help: `control ${control}`, registers: [api.app.get(Metrics).registry] });

      const { report } = await scanEverywhere(controlNeedle);
      // a scanner switched off, or narrowed away from where the canary is, finds nothing
      expect(SCANNERS.filter((name) => report[name].length === 0)).toEqual([]);
      const where = (name: Scanner) => report[name].map((hit) => hit.where);
      expect(where('postgres')).toEqual(
        expect.arrayContaining([
          'postgres public.workspaces.name',
          'postgres public.ai_jobs.input',
          'postgres public.tenants.subdomain',
          'postgres public.backfills.failure_message',
          'postgres public.record_tombstones.external_id',
        ]),
      );
      expect(where('redis')).toEqual(expect.arrayContaining([`redis string ${redis.key('canary-control')}`, `redis string ${outside}`]));
      expect(where('redis pubsub')).toEqual([expect.stringMatching(new RegExp(`^redis pubsub ${redis.key('canary-control')} #`))]);
      expect(where('worker stdout').length).toBeGreaterThan(0);
      expect(where('worker stderr')).toEqual(['worker stderr #0']);
      expect(where('api metrics')).toEqual(['api metrics']);
      expect(where('worker metrics')).toEqual(['worker metrics']);
      expect(where('api log').length).toBeGreaterThan(0);
      expect(where('response headers')).toEqual(
        expect.arrayContaining([expect.stringMatching(/ GET \/v1\/me$/), expect.stringMatching(/ GET \/health$/)]),
      );
      expect(where('response bodies')).toEqual(
        expect.arrayContaining([
          expect.stringMatching(new RegExp(` POST /v1/tenants/${owner.id}/workspaces$`)),
          expect.stringMatching(new RegExp(` GET /v1/tenants/${owner.id}/workspaces$`)),
        ]),
      );
      expect(where('webhook deliveries')).toEqual([expect.stringMatching(/^webhook delivery #\d+ \/control\//)]);
      expect(workspace.status).toBe(201);
    } finally {
      await raw.del(outside);
      raw.disconnect();
      await redis.client.del(redis.key('canary-control'));
    }
  }, 60_000);
});
