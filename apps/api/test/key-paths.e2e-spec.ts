import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyFingerprinter, type MaskedSetting, RequestKeySealer } from '#libs/byok';
import { last4Of, type SealedRequestKey } from '#libs/common';
import { AiKeyMode, PrismaService } from '#libs/database';
import { JobName, JobQueue, QueueName } from '#libs/queue';
import { RecordIngestService, StoredRecordSource } from '#libs/records';
import { RedisService } from '#libs/redis';
import { emailRecords, fingerprintForSimulator, ProviderSimulator, simulatorEnv } from '#libs/testing';
import type { AiJobView } from '../src/ai-jobs/ai-jobs.dto.js';
import type { BackfillView } from '../src/backfills/backfill.dto.js';
import { ApiHarness, type JobStarted, type Json, type ListOf, tenantOfJob } from './api-harness.js';
import { keyEchoes, redisEntries } from './key-echo.js';

const hex = () => randomBytes(12).toString('hex');
const fp = fingerprintForSimulator;
const NO_COUNTERS = { recordsFetched: 0, recordsProcessed: 0, entities: 0, relationships: 0 };
const PLACEHOLDERS = ['your-api-key', 'sk-xxxxxxxxxxxxxxxxxxxx', `mock-openai-key-${hex()}`];

/**
 * Which key a job uses, proven by the provider simulator's key log: every case is a real job,
 * started through the API (or the queue) and run by the worker, against real Postgres and Redis.
 * A refused job is proven to have fetched no record: no provider call, counters 0, and the record
 * connector never called (a spy that sees the calls of the jobs that do run).
 */
describe('Key paths, proven by the provider simulator (e2e)', () => {
  const keys = {
    platform: `sk-platform-${hex()}-plat`,
    tenant: `sk-tenant-${hex()}-ten1`,
    request: `sk-request-${hex()}-req1`,
    requestGemini: `AIza-request-${hex()}-gem1`,
    requestAnthropic: `sk-ant-api03-request-${hex()}${hex()}-ant1`,
    requestRefused: `sk-refused-${hex()}-bad1`,
    globalEnv: `sk-global-${hex()}-glob`,
    // one request key per queue-erasure case, so each starts with its own live check
    sealedBackfill: `sk-sealed-backfill-${hex()}-sb01`,
    sealedBackfillRefused: `sk-sealed-refused-${hex()}-sb02`,
    sealedBackfillCancelled: `sk-sealed-cancel-${hex()}-sb03`,
    sealedAi: `sk-sealed-ai-${hex()}-sa01`,
    sealedAiRefused: `sk-sealed-ai-refused-${hex()}-sa02`,
  };
  // the simulator accepts every key but the refused ones, placeholders included: a job that uses a
  // wrong key would succeed, so only the key log and the job's outcome tell which one it used
  const simulator = new ProviderSimulator({
    validKeys: {
      openai: [
        keys.platform,
        keys.tenant,
        keys.request,
        keys.globalEnv,
        keys.sealedBackfill,
        keys.sealedBackfillCancelled,
        keys.sealedAi,
        ...PLACEHOLDERS,
      ],
      gemini: [keys.requestGemini],
      deepseek: ['*'],
      anthropic: [keys.requestAnthropic],
    },
  });
  const savedEnv = { ...process.env };
  let api: ApiHarness;
  let fetchPage: jest.SpiedFunction<StoredRecordSource['fetchPage']>;

  beforeAll(async () => {
    // a key in the environment is never anybody's key: the SDKs must not pick it up either
    process.env.OPENAI_API_KEY = keys.globalEnv;
    fetchPage = jest.spyOn(StoredRecordSource.prototype, 'fetchPage');
    api = await ApiHarness.start(
      { ...simulatorEnv(await simulator.start()), PLATFORM_OPENAI_API_KEY: keys.platform, SYNC_PAGE_SIZE: '5', SYNC_CONCURRENCY: '2' },
      { worker: true },
    );
  });
  afterEach(() => simulator.reset());
  afterAll(async () => {
    process.env = savedEnv;
    fetchPage.mockRestore();
    await api.close();
    await simulator.stop();
  });

  /** How many pages the worker fetched from this workspace's records (the spy sees every connector). */
  const fetchesOf = (workspaceId: string) =>
    fetchPage.mock.contexts.filter((source) => (source as { workspaceId?: string } | undefined)?.workspaceId === workspaceId).length;

  async function workspaceOf(harness: ApiHarness, options: { aiKeyMode?: AiKeyMode; storedKey?: string; records?: number } = {}) {
    const tenant = await harness.newTenant({ aiKeyMode: options.aiKeyMode ?? AiKeyMode.byok });
    const workspace = await harness.newWorkspace(tenant.id);
    if (options.storedKey) {
      const put = await harness.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: options.storedKey } });
      expect(put.status).toBe(200);
    }
    const records = options.records ?? 12;
    expect((await harness.app.get(RecordIngestService).ingest(workspace.id, JSON.stringify(emailRecords(records)), 'json')).accepted).toBe(records);
    return { tenant, workspace };
  }

  async function startBackfill(harness: ApiHarness, workspaceId: string, headers: Record<string, string> = {}) {
    const res = await harness.request<JobStarted>('POST', `/v1/workspaces/${workspaceId}/backfills`, { body: {}, headers });
    expect(res.status).toBe(202);
    return res.body.jobId;
  }

  async function storedSetting(harness: ApiHarness, tenantId: string) {
    const { body } = await harness.request<ListOf<MaskedSetting>>('GET', `/v1/tenants/${tenantId}/settings`);
    return body.items.find((item) => item.key === 'OPENAI_API_KEY');
  }

  /**
   * The job failed with exactly this failure before a single record was fetched: counters 0, the
   * connector never called for its workspace, no provider request, no graph, no usage row.
   */
  async function expectRefusedBeforeAnyRecord(
    harness: ApiHarness,
    jobId: string,
    workspaceId: string,
    failure: { code: string; message: string },
  ): Promise<Json<BackfillView>> {
    const job = await harness.waitForBackfill(jobId);
    expect(job).toMatchObject({ status: 'failed', failure, counters: NO_COUNTERS, keySource: null, keyLast4: null });
    expect(fetchesOf(workspaceId)).toBe(0);
    expect(simulator.requests).toEqual([]);
    const prisma = harness.app.get(PrismaService);
    await expect(prisma.entity.count({ where: { workspaceId } })).resolves.toBe(0);
    await expect(prisma.keyUsage.count({ where: { jobId } })).resolves.toBe(0);
    return job;
  }

  describe('managed key mode', () => {
    it('uses the platform key and nothing else: not the tenant key it also stores, not a key in the environment', async () => {
      const { tenant, workspace } = await workspaceOf(api, { aiKeyMode: AiKeyMode.managed, storedKey: keys.tenant });

      const jobId = await startBackfill(api, workspace.id);
      const job = await api.waitForBackfill(jobId);

      expect(job).toMatchObject({
        status: 'succeeded',
        failure: null,
        provider: 'openai',
        keySource: 'platform',
        keyLast4: 'plat',
        counters: { recordsFetched: 12, recordsProcessed: 12 },
      });
      // every request the provider saw carried the platform key
      expect(simulator.requests.length).toBeGreaterThan(12);
      expect(new Set(simulator.requests.map((r) => r.keyFingerprint))).toEqual(new Set([fp(keys.platform)]));
      expect(simulator.keysSeen('openai')).toEqual([fp(keys.platform)]);
      expect([...simulator.requestsFor('gemini'), ...simulator.requestsFor('deepseek')]).toEqual([]);
      // the job recorded the same key: usage rows and the row's fingerprint are the platform key's
      const platformFingerprint = api.app.get(KeyFingerprinter).fingerprint(keys.platform);
      const prisma = api.app.get(PrismaService);
      await expect(prisma.backfill.findUnique({ where: { id: jobId } })).resolves.toMatchObject({ keyFingerprint: platformFingerprint });
      const usage = await prisma.keyUsage.findMany({ where: { jobId } });
      expect(usage.length).toBeGreaterThan(0);
      expect(new Set(usage.map((u) => `${u.keySource}:${u.keyFingerprint}`))).toEqual(new Set([`platform:${platformFingerprint}`]));
      expect(usage.reduce((sum, u) => sum + u.calls, 0)).toBe(simulator.requests.filter((r) => r.path.endsWith('/chat/completions')).length);
      // the tenant's own stored key was never checked nor used
      expect(await storedSetting(api, tenant.id)).toMatchObject({ validationStatus: 'unknown', validatedAt: null });
      expect(api.logs.messages()).toContain('Using platform OPENAI_API_KEY (...plat)');
      // the positive control of every "no record fetched" below: the spy sees a job that runs
      expect(fetchesOf(workspace.id)).toBeGreaterThanOrEqual(3);
    });

    describe('without a platform key configured', () => {
      let bare: ApiHarness;

      beforeAll(async () => {
        bare = await ApiHarness.start({ ...simulatorEnv(simulator.urls), SYNC_PAGE_SIZE: '5' }, { worker: true });
      });
      afterAll(() => bare.close());

      it('fails PLATFORM_KEY_MISSING before any record, and the provider sees no request at all', async () => {
        // the tenant stores a working key of its own: managed mode must not fall back to it
        const { tenant, workspace } = await workspaceOf(bare, { aiKeyMode: AiKeyMode.managed, storedKey: keys.tenant });

        await expectRefusedBeforeAnyRecord(bare, await startBackfill(bare, workspace.id), workspace.id, {
          code: 'PLATFORM_KEY_MISSING',
          message: `Tenant ${tenant.subdomain} uses managed keys, but no platform openai key is configured (PLATFORM_OPENAI_API_KEY).`,
        });
        expect(await storedSetting(bare, tenant.id)).toMatchObject({ validationStatus: 'unknown', validatedAt: null });
      });
    });
  });

  describe('request-scoped keys (X-User-Provider / X-User-Api-Key)', () => {
    it("runs the backfill with the request key only: the tenant's stored key never reaches the provider", async () => {
      const { tenant, workspace } = await workspaceOf(api, { storedKey: keys.tenant });

      const jobId = await startBackfill(api, workspace.id, { 'X-User-Provider': 'openai', 'X-User-Api-Key': keys.request });
      const job = await api.waitForBackfill(jobId);

      expect(job).toMatchObject({
        status: 'succeeded',
        provider: 'openai',
        keySource: 'request',
        keyLast4: 'req1',
        counters: { recordsFetched: 12, recordsProcessed: 12 },
      });
      expect(simulator.requests.length).toBeGreaterThan(12);
      expect(simulator.keysSeen('openai')).toEqual([fp(keys.request)]);
      expect(simulator.requests.map((r) => r.keyFingerprint)).not.toContain(fp(keys.tenant));
      const usage = await api.app.get(PrismaService).keyUsage.findMany({ where: { jobId } });
      const requestFingerprint = api.app.get(KeyFingerprinter).fingerprint(keys.request);
      expect(new Set(usage.map((u) => `${u.keySource}:${u.keyFingerprint}`))).toEqual(new Set([`request:${requestFingerprint}`]));
      // the stored key was not even validated: no verdict recorded on it
      expect(await storedSetting(api, tenant.id)).toMatchObject({ validationStatus: 'unknown', validatedAt: null });
    });

    it.each([
      ['gemini', keys.requestGemini, 'gem1'],
      ['anthropic', keys.requestAnthropic, 'ant1'],
    ] as const)('runs on the provider the headers name (%s), and calls no other one', async (provider, requestKey, last4) => {
      const { workspace } = await workspaceOf(api, { storedKey: keys.tenant });

      const job = await api.waitForBackfill(await startBackfill(api, workspace.id, { 'X-User-Provider': provider, 'X-User-Api-Key': requestKey }));

      expect(job).toMatchObject({ status: 'succeeded', provider, keySource: 'request', keyLast4: last4 });
      expect(simulator.keysSeen(provider)).toEqual([fp(requestKey)]);
      expect(simulator.requestsFor(provider).every((r) => r.keyLocation === 'header')).toBe(true);
      expect(simulator.requests.filter((r) => r.provider !== provider)).toEqual([]);
    });

    it("fails INVALID_API_KEY on a refused request key, without falling back to the tenant's working key", async () => {
      const { tenant, workspace } = await workspaceOf(api, { storedKey: keys.tenant });

      const job = await api.waitForBackfill(
        await startBackfill(api, workspace.id, { 'X-User-Provider': 'openai', 'X-User-Api-Key': keys.requestRefused }),
      );

      expect(job).toMatchObject({
        status: 'failed',
        failure: {
          code: 'INVALID_API_KEY',
          message: `Skipping backfill: tenant ${tenant.subdomain} has no valid OPENAI_API_KEY (key ...bad1: rejected by openai). Add a working key on the Provider keys page.`,
        },
        counters: NO_COUNTERS,
      });
      // one live check with the request key, and nothing after it
      expect(simulator.requests.map((r) => [r.path, r.keyFingerprint])).toEqual([['/openai/v1/models', fp(keys.requestRefused)]]);
      expect(fetchesOf(workspace.id)).toBe(0);
      // a request key's refusal says nothing about the stored key
      expect(await storedSetting(api, tenant.id)).toMatchObject({ validationStatus: 'unknown' });
    });
  });

  describe('stored keys that cannot be used', () => {
    it.each([
      [PLACEHOLDERS[0], 'placeholder key (sample value)'],
      [PLACEHOLDERS[1], 'placeholder key (sk-xxx)'],
      [PLACEHOLDERS[2], 'placeholder key (mock value)'],
    ])('refuses the placeholder %s with INVALID_API_KEY and no provider call', async (placeholder, reason) => {
      const { tenant, workspace } = await workspaceOf(api, { storedKey: placeholder });

      await expectRefusedBeforeAnyRecord(api, await startBackfill(api, workspace.id), workspace.id, {
        code: 'INVALID_API_KEY',
        message: `Skipping backfill: tenant ${tenant.subdomain} has no valid OPENAI_API_KEY (key ...${last4Of(placeholder)}: ${reason}). Add a working key on the Provider keys page.`,
      });
      // the verdict is recorded, so the keys page shows the key as invalid
      expect(await storedSetting(api, tenant.id)).toMatchObject({ validationStatus: 'invalid', validatedAt: expect.any(String) });
    });

    it('refuses a stored row whose ciphertext was altered with KEY_DECRYPTION_FAILED and no provider call', async () => {
      const { tenant, workspace } = await workspaceOf(api, { storedKey: keys.tenant });
      const prisma = api.app.get(PrismaService);
      const altered = await prisma.$executeRaw`
        UPDATE tenant_settings SET ciphertext = set_byte(ciphertext, 0, get_byte(ciphertext, 0) # 1)
        WHERE tenant_id = ${tenant.id}::uuid AND setting_key = 'OPENAI_API_KEY'`;
      expect(altered).toBe(1);

      await expectRefusedBeforeAnyRecord(api, await startBackfill(api, workspace.id), workspace.id, {
        code: 'KEY_DECRYPTION_FAILED',
        message: `Stored OPENAI_API_KEY of tenant ${tenant.id} cannot be decrypted: it was altered, moved, or sealed with an unknown master key version`,
      });
    });

    it('refuses a row copied from another tenant with KEY_DECRYPTION_FAILED, though the copy opens for its owner', async () => {
      const owner = await workspaceOf(api, { storedKey: keys.tenant });
      const { tenant, workspace } = await workspaceOf(api);
      const prisma = api.app.get(PrismaService);
      const copied = await prisma.$executeRaw`
        INSERT INTO tenant_settings (id, tenant_id, setting_key, is_secret, value, ciphertext, iv, auth_tag, key_version,
                                     fingerprint, last4, validation_status, validated_at, created_at, updated_at)
        SELECT gen_random_uuid(), ${tenant.id}::uuid, setting_key, is_secret, value, ciphertext, iv, auth_tag, key_version,
               fingerprint, last4, validation_status, validated_at, now(), now()
        FROM tenant_settings WHERE tenant_id = ${owner.tenant.id}::uuid AND setting_key = 'OPENAI_API_KEY'`;
      expect(copied).toBe(1);
      // the copy shows as a key (last4 and all), so the API would let a job try it
      expect(await storedSetting(api, tenant.id)).toMatchObject({ last4: 'ten1' });

      await expectRefusedBeforeAnyRecord(api, await startBackfill(api, workspace.id), workspace.id, {
        code: 'KEY_DECRYPTION_FAILED',
        message: `Stored OPENAI_API_KEY of tenant ${tenant.id} cannot be decrypted: it was altered, moved, or sealed with an unknown master key version`,
      });

      // control: the very same envelope is a working key for the tenant it was sealed for
      const ownerJob = await api.waitForBackfill(await startBackfill(api, owner.workspace.id));
      expect(ownerJob).toMatchObject({ status: 'succeeded', keySource: 'tenant', keyLast4: 'ten1' });
      expect(simulator.keysSeen('openai')).toEqual([fp(keys.tenant)]);
    });
  });

  describe('a request key in the queue', () => {
    const sealer = () => api.app.get(RequestKeySealer);
    const queue = (name: QueueName) => api.app.get<Queue>(getQueueToken(name));
    const opening = async (sealed: SealedRequestKey, jobId: string) => sealer().open(sealed, { jobId, tenantId: await tenantOfJob(api, jobId) });
    const allRequestKeys = () => [keys.sealedBackfill, keys.sealedBackfillRefused, keys.sealedBackfillCancelled, keys.sealedAi, keys.sealedAiRefused];
    /** Every job below that carried a sealed key, for the last check. */
    const sealedJobs: { name: QueueName; jobId: string }[] = [];

    /** The job's hash in Redis as BullMQ stores it (`data`, `opts`, `progress`, ...), read directly. */
    async function rawEntry(name: QueueName, jobId: string): Promise<Record<string, string>> {
      const redis = api.app.get(RedisService);
      return redis.client.hgetall(`${api.config.redisPrefix}:bull:${name}:${jobId}`);
    }

    /** The queue entry while the job is held mid-run: the key is there, sealed to the job, and in no readable form. */
    async function expectSealedWhileRunning(name: QueueName, jobId: string, key: string, provider = 'openai') {
      sealedJobs.push({ name, jobId });
      const raw = await rawEntry(name, jobId);
      const data = JSON.parse(raw.data) as { sealedKey?: SealedRequestKey };
      expect(data.sealedKey).toEqual({
        provider,
        ciphertext: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/),
        iv: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/),
        authTag: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/),
        keyVersion: 'v1',
      });
      // it is this job's key: it opens for this job id (and, per RequestKeySealer's spec, for no other)
      expect(await opening(data.sealedKey!, jobId)).toEqual({ provider, key });
      expect(keyEchoes('queue entry', Object.values(raw), [key])).toEqual([]);
      const everything = await redisEntries(api.config.redisUrl, api.config.redisPrefix);
      expect(
        keyEchoes(
          'redis',
          everything.map((e) => e.text),
          [key],
        ),
      ).toEqual([]);
    }

    /**
     * The entry once BullMQ has settled it (the erasure runs before that). It is kept, so what it still
     * holds can be read: its data, straight from Redis, and the whole hash for any piece of the key.
     */
    async function settledEntry(name: QueueName, jobId: string, key: string) {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const job = await queue(name).getJob(jobId);
        expect(job).toBeDefined();
        const state = await job!.getState();
        if (state === 'completed' || state === 'failed') {
          const raw = await rawEntry(name, jobId);
          expect(keyEchoes('queue entry', Object.values(raw), [key])).toEqual([]);
          return { state, data: JSON.parse(raw.data) as unknown, failedReason: raw.failedReason ?? '' };
        }
        if (Date.now() > deadline) throw new Error(`queue job ${jobId} still ${state}`);
        await sleep(25);
      }
    }

    async function aiJobEnded(token: string, jobId: string) {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const { body } = await api.request<AiJobView>('GET', `/v1/ai/jobs/${jobId}`, { token });
        if (body.status === 'succeeded' || body.status === 'failed') return body;
        if (Date.now() > deadline) throw new Error(`AI job ${jobId} still ${body.status}`);
        await sleep(25);
      }
    }

    it('backfill, succeeded: the sealed key is in the entry while it runs, and erased from the kept entry after', async () => {
      const key = keys.sealedBackfill;
      const { workspace } = await workspaceOf(api);
      const gate = simulator.gate({ keyFingerprint: fp(key) });
      gate.release(1); // the pre-flight's live check; the first extraction is held

      const jobId = await startBackfill(api, workspace.id, { 'X-User-Provider': 'openai', 'X-User-Api-Key': key });
      await gate.waitForHeld(1);
      expect((await api.request<BackfillView>('GET', `/v1/backfills/${jobId}`)).body.status).toBe('running');
      await expectSealedWhileRunning(QueueName.Backfills, jobId, key);

      gate.open();
      expect(await api.waitForBackfill(jobId)).toMatchObject({ status: 'succeeded', keySource: 'request' });
      const entry = await settledEntry(QueueName.Backfills, jobId, key);
      expect(entry).toEqual({ state: 'completed', data: { backfillId: jobId, tenantId: await tenantOfJob(api, jobId) }, failedReason: '' });
    });

    it('backfill, failed: the sealed key is erased from the kept failed entry', async () => {
      const key = keys.sealedBackfillRefused;
      const { workspace } = await workspaceOf(api);
      const gate = simulator.gate({ keyFingerprint: fp(key) });

      const jobId = await startBackfill(api, workspace.id, { 'X-User-Provider': 'openai', 'X-User-Api-Key': key });
      await gate.waitForHeld(1); // the pre-flight's live check, which the provider is about to refuse
      expect((await api.request<BackfillView>('GET', `/v1/backfills/${jobId}`)).body.status).toBe('preflight');
      await expectSealedWhileRunning(QueueName.Backfills, jobId, key);

      gate.open();
      expect(await api.waitForBackfill(jobId)).toMatchObject({ status: 'failed', failure: { code: 'INVALID_API_KEY' } });
      const entry = await settledEntry(QueueName.Backfills, jobId, key);
      expect(entry).toMatchObject({ state: 'failed', data: { backfillId: jobId } });
      expect(entry.data).toEqual({ backfillId: jobId, tenantId: await tenantOfJob(api, jobId) });
      expect(entry.failedReason).toMatch(/^INVALID_API_KEY: /);
      expect(keyEchoes('failedReason', [entry.failedReason], [key])).toEqual([]);
    });

    it('backfill, cancelled mid-run: the sealed key is erased from the kept entry', async () => {
      const key = keys.sealedBackfillCancelled;
      const { workspace } = await workspaceOf(api, { records: 20 });
      const gate = simulator.gate({ keyFingerprint: fp(key) });
      gate.release(1);

      const jobId = await startBackfill(api, workspace.id, { 'X-User-Provider': 'openai', 'X-User-Api-Key': key });
      await gate.waitForHeld(1);
      await expectSealedWhileRunning(QueueName.Backfills, jobId, key);
      expect((await api.request('POST', `/v1/backfills/${jobId}/cancel`)).status).toBe(202);

      gate.open();
      const job = await api.waitForBackfill(jobId);
      expect(job).toMatchObject({ status: 'cancelled', keySource: 'request' });
      expect(job.counters.recordsProcessed).toBeLessThan(20);
      const entry = await settledEntry(QueueName.Backfills, jobId, key);
      expect(entry).toEqual({ state: 'completed', data: { backfillId: jobId, tenantId: await tenantOfJob(api, jobId) }, failedReason: '' });
    });

    it('AI job, succeeded: the sealed key is erased from the kept entry', async () => {
      const key = keys.sealedAi;
      const tenant = await api.newTenant();
      const token = await api.newTenantToken(tenant.id);
      // held at the completion (the text), past the pre-flight's key check
      const gate = simulator.gate({ keyFingerprint: fp(key), marker: 'Alice Johnson' });

      const res = await api.request<JobStarted>('POST', '/v1/ai/jobs/extract', {
        token,
        headers: { 'X-User-Provider': 'openai', 'X-User-Api-Key': key },
        body: { text: 'Alice Johnson from Acme Corp met Bob Smith.' },
      });
      expect(res.status).toBe(202);
      const jobId = res.body.jobId;
      await gate.waitForHeld(1);
      expect((await api.request<AiJobView>('GET', `/v1/ai/jobs/${jobId}`, { token })).body.status).toBe('running');
      await expectSealedWhileRunning(QueueName.AiJobs, jobId, key);

      gate.open();
      expect(await aiJobEnded(token, jobId)).toMatchObject({ status: 'succeeded', keySource: 'request' });
      const entry = await settledEntry(QueueName.AiJobs, jobId, key);
      expect(entry).toEqual({ state: 'completed', data: { aiJobId: jobId }, failedReason: '' });
    });

    it('AI job, failed: the sealed key is erased from the kept failed entry', async () => {
      const key = keys.sealedAiRefused;
      const tenant = await api.newTenant();
      const token = await api.newTenantToken(tenant.id);
      const gate = simulator.gate({ keyFingerprint: fp(key) });

      const res = await api.request<JobStarted>('POST', '/v1/ai/jobs/extract', {
        token,
        headers: { 'X-User-Provider': 'openai', 'X-User-Api-Key': key },
        body: { text: 'Alice Johnson from Acme Corp met Bob Smith.' },
      });
      const jobId = res.body.jobId;
      await gate.waitForHeld(1);
      await expectSealedWhileRunning(QueueName.AiJobs, jobId, key);

      gate.open();
      expect(await aiJobEnded(token, jobId)).toMatchObject({ status: 'failed', error: { code: 'INVALID_API_KEY' } });
      const entry = await settledEntry(QueueName.AiJobs, jobId, key);
      expect(entry.state).toBe('failed');
      expect(entry.data).toEqual({ aiJobId: jobId });
      expect(keyEchoes('failedReason', [entry.failedReason], [key])).toEqual([]);
    });

    it('leaves no sealed key, and no piece of a request key, anywhere under the Redis prefix once the jobs ended', async () => {
      const everything = await redisEntries(api.config.redisUrl, api.config.redisPrefix);
      const texts = everything.map((entry) => entry.text);

      expect(keyEchoes('redis', texts, allRequestKeys())).toEqual([]);
      expect(texts.filter((text) => text.includes('sealedKey'))).toEqual([]);
      // every entry that carried a sealed key is still there: the absence above is an erasure, not a removal
      expect(sealedJobs).toHaveLength(5);
      for (const { name, jobId } of sealedJobs) {
        const raw = await rawEntry(name, jobId);
        // a backfill's entry names its tenant too (fair scheduling reads it); neither kind keeps a key
        expect(Object.keys(JSON.parse(raw.data) as object)).toEqual(name === QueueName.Backfills ? ['backfillId', 'tenantId'] : ['aiJobId']);
      }
    });
  });

  describe('an unknown workspace', () => {
    it('is refused by the worker with WORKSPACE_NOT_FOUND, before any record and without a provider call', async () => {
      // the API refuses unknown workspaces itself and a backfill row references its workspace: in this
      // file's own database the reference is dropped, so a queued job meets a workspace that does not exist
      const prisma = api.app.get(PrismaService);
      const tenant = await api.newTenant();
      expect((await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: keys.tenant } })).status).toBe(200);
      const ghost = randomUUID();
      await prisma.$executeRawUnsafe('ALTER TABLE backfills DROP CONSTRAINT backfills_workspace_id_fkey');
      const row = await prisma.backfill.create({ data: { workspaceId: ghost, tenantId: tenant.id, source: 'api' } });
      try {
        expect((await api.request('GET', `/v1/workspaces/${ghost}/backfills`)).status).toBe(404);

        await api.app.get(JobQueue).enqueue(JobName.Backfill, { backfillId: row.id });

        await expectRefusedBeforeAnyRecord(api, row.id, ghost, { code: 'WORKSPACE_NOT_FOUND', message: `Workspace ${ghost} not found` });
        const resolvedGhost = api.logs.lines.filter((line) => line.includes(ghost) && line.includes('Resolved tenant_id from workspace_id'));
        expect(resolvedGhost).toEqual([]);
      } finally {
        await prisma.backfill.delete({ where: { id: row.id } });
        await prisma.$executeRawUnsafe(
          'ALTER TABLE backfills ADD CONSTRAINT backfills_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id) ON DELETE CASCADE ON UPDATE CASCADE',
        );
      }
    });
  });

  it('never shows a key, or any piece of one, in a log line or an HTTP response', () => {
    const every = Object.values(keys).filter((key) => key.length > 12);

    expect(keyEchoes('log', api.logs.lines, every)).toEqual([]);
    expect(keyEchoes('response', api.responses, every)).toEqual([]);
    // the scan read real output
    expect(api.logs.lines.length).toBeGreaterThan(50);
    expect(api.responses.length).toBeGreaterThan(20);
  });
});
