import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AiKeyMode } from '#libs/database';
import { RecordIngestService } from '#libs/records';
import { emailRecords, ProviderSimulator, scanPostgres, scanRedis, scanTexts, simulatorEnv } from '#libs/testing';
import type { AiJobView } from '../src/ai-jobs/ai-jobs.dto.js';
import { ApiHarness, type JobStarted } from './api-harness.js';

/**
 * Runs backfills and AI jobs with distinctive keys (stored and per request, succeeding and
 * failing, revoked mid-run), then looks for the keys everywhere the system writes: every Postgres
 * table and column, every Redis key and value under the deployment's prefix, every log line of the
 * API and the worker, and every HTTP response body. The canary must appear nowhere.
 */
describe('Canary scan: no key anywhere (e2e)', () => {
  const canary = `CANARY${randomBytes(8).toString('hex')}`;
  const keys = {
    stored: `sk-${canary}-stored-valid-0001`,
    storedInvalid: `sk-${canary}-stored-invalid-0002`,
    revoked: `sk-${canary}-revoked-midrun-0003`,
    requestOpenAi: `sk-${canary}-request-openai-0004`,
    requestGemini: `AIza${canary}-request-gemini-00000005`,
    requestRefused: `sk-${canary}-request-refused-0006`,
    platform: `sk-${canary}-platform-0007`,
  };
  const simulator = new ProviderSimulator({
    validKeys: { openai: [keys.stored, keys.revoked, keys.requestOpenAi, keys.platform], gemini: [keys.requestGemini] },
  });
  let api: ApiHarness;

  beforeAll(async () => {
    api = await ApiHarness.start(
      {
        ...simulatorEnv(await simulator.start()),
        PLATFORM_OPENAI_API_KEY: keys.platform,
        SYNC_PAGE_SIZE: '5',
        SYNC_CONCURRENCY: '2',
        LOG_LEVEL: 'trace',
      },
      { worker: true },
    );
  });
  afterAll(async () => {
    await api.close();
    await simulator.stop();
  });

  async function tenantWithWorkspace(storedKey?: string, aiKeyMode: AiKeyMode = AiKeyMode.byok) {
    const tenant = await api.newTenant({ aiKeyMode });
    const workspace = await api.newWorkspace(tenant.id);
    if (storedKey) await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: storedKey } });
    await api.app.get(RecordIngestService).ingest(workspace.id, JSON.stringify(emailRecords(30)), 'json');
    return { tenant, workspace, token: await api.newTenantToken(tenant.id) };
  }

  const backfill = async (workspaceId: string, headers: Record<string, string> = {}) =>
    (await api.request<JobStarted>('POST', `/v1/workspaces/${workspaceId}/backfills`, { body: {}, headers })).body.jobId;

  async function aiJob(token: string, headers: Record<string, string> = {}) {
    const { body } = await api.request<JobStarted>('POST', '/v1/ai/jobs/extract', {
      token,
      headers,
      body: { text: 'Alice Johnson from Acme Corp met Bob Smith.' },
    });
    const deadline = Date.now() + 15_000;
    for (;;) {
      const job = (await api.request<AiJobView>('GET', `/v1/ai/jobs/${body.jobId}`, { token })).body;
      if (job.status === 'succeeded' || job.status === 'failed') return job;
      if (Date.now() > deadline) throw new Error('AI job did not end');
      await new Promise((r) => setTimeout(r, 30));
    }
  }

  it('finds the canary nowhere after every kind of job ran', async () => {
    const good = await tenantWithWorkspace(keys.stored);
    const bad = await tenantWithWorkspace(keys.storedInvalid);
    const revoked = await tenantWithWorkspace(keys.revoked);
    const managed = await tenantWithWorkspace(undefined, AiKeyMode.managed);
    const viaHeaders = await api.newWorkspace(good.tenant.id);
    await api.app.get(RecordIngestService).ingest(viaHeaders.id, JSON.stringify(emailRecords(10)), 'json');
    const openaiHeaders = { 'X-User-Provider': 'openai', 'X-User-Api-Key': keys.requestOpenAi };

    // stored keys: a success, a refusal at pre-flight, a revocation mid-run
    simulator.setLatency(15);
    const succeeded = await backfill(good.workspace.id);
    const refused = await backfill(bad.workspace.id);
    const revokedJob = await backfill(revoked.workspace.id);
    await api.waitForBackfill(revokedJob, (v) => v.counters.recordsProcessed >= 5);
    simulator.setValidKeys('openai', [keys.stored, keys.requestOpenAi, keys.platform]);
    const withHeaders = await backfill(viaHeaders.id, openaiHeaders);
    const outcomes = await Promise.all([succeeded, refused, revokedJob, withHeaders].map((id) => api.waitForBackfill(id)));
    expect(outcomes.map((o) => [o.status, o.failure?.code ?? null, o.keySource])).toEqual([
      ['succeeded', null, 'tenant'],
      ['failed', 'INVALID_API_KEY', null],
      ['failed', 'INVALID_API_KEY', 'tenant'],
      ['succeeded', null, 'request'],
    ]);

    // AI jobs: request keys (OpenAI, Gemini, refused), stored key, platform key
    simulator.setLatency(0);
    const ai = [
      await aiJob(good.token, openaiHeaders),
      await aiJob(good.token, { 'X-User-Provider': 'gemini', 'X-User-Api-Key': keys.requestGemini }),
      await aiJob(good.token, { 'X-User-Provider': 'openai', 'X-User-Api-Key': keys.requestRefused }),
      await aiJob(good.token),
      await aiJob(managed.token),
    ];
    expect(ai.map((j) => [j.status, j.keySource])).toEqual([
      ['succeeded', 'request'],
      ['succeeded', 'request'],
      ['failed', 'request'],
      ['succeeded', 'tenant'],
      ['succeeded', 'platform'],
    ]);

    // reads and refusals that handle keys
    await api.request('GET', `/v1/tenants/${good.tenant.id}/settings`);
    await api.request('POST', `/v1/tenants/${good.tenant.id}/settings/OPENAI_API_KEY/validate`);
    await api.request('POST', `/v1/tenants/${bad.tenant.id}/settings/OPENAI_API_KEY/validate`);
    await api.request('PUT', `/v1/tenants/${good.tenant.id}/settings/OPENAI_API_KEY`, { body: { value: `${keys.stored} with spaces` } });
    await api.request('POST', '/v1/ai/jobs/extract', { token: good.token, headers: { 'X-User-Api-Key': keys.requestOpenAi }, body: { text: 'x' } });
    new Logger('CanaryProbe').log({ apiKey: keys.stored, requestKey: keys.requestOpenAi, nested: { key: keys.platform } }, 'a careless log line');

    const needles = [canary];
    const postgres = await scanPostgres(api.config.databaseUrl, needles);
    const redis = await scanRedis(api.config.redisUrl, api.config.redisPrefix, needles);
    const logs = scanTexts('log', api.logs.lines, needles);
    const responses = scanTexts('response', api.responses, needles);

    expect({ postgres, redis: redis.hits, logs, responses }).toEqual({ postgres: [], redis: [], logs: [], responses: [] });
    // the scans looked at real data, and every sealed request key was erased when its job ended
    expect(redis.keys).toBeGreaterThan(5);
    expect(redis.values.join('\n')).not.toContain('sealedKey');
    expect(api.logs.lines.length).toBeGreaterThan(50);
    expect(api.logs.text).toContain('[REDACTED]');
    expect(api.responses.length).toBeGreaterThan(20);

    // and the scanners do find a canary where one is planted
    await api.newWorkspace(good.tenant.id, `planted ${canary}`);
    expect((await scanPostgres(api.config.databaseUrl, needles)).map((h) => h.where)).toEqual(['postgres workspaces.name']);
    const { RedisService } = await import('#libs/redis');
    const redisService = api.app.get(RedisService);
    await redisService.client.hset(redisService.key('probe'), 'field', `x${canary}x`);
    expect((await scanRedis(api.config.redisUrl, api.config.redisPrefix, needles)).hits.map((h) => h.where)).toEqual([
      `redis ${redisService.key('probe')}`,
    ]);
    await redisService.client.del(redisService.key('probe'));
  }, 60_000);

  it('carries a request key through Redis only sealed, and never in the job row', async () => {
    const { workspace } = await tenantWithWorkspace(keys.stored);
    simulator.setLatency(25);
    const jobId = await backfill(workspace.id, { 'X-User-Provider': 'openai', 'X-User-Api-Key': keys.requestOpenAi });
    await api.waitForBackfill(jobId, (v) => v.status === 'running');

    const inFlight = await scanRedis(api.config.redisUrl, api.config.redisPrefix, [canary]);
    expect(inFlight.hits).toEqual([]);
    expect(inFlight.values.join('\n')).toContain('sealedKey');

    await api.waitForBackfill(jobId);
    expect((await scanRedis(api.config.redisUrl, api.config.redisPrefix, [canary])).values.join('\n')).not.toContain('sealedKey');
    simulator.setLatency(0);
  }, 30_000);
});
