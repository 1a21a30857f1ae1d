import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { BackfillStatus, PrismaService } from '#libs/database';
import { PrivatePostgres, PrivateRedis } from '#libs/testing';
import type { BackfillView } from '../src/backfills/backfill.dto.js';
import { ApiHarness, type JobStarted, type Json } from './api-harness.js';

/** Far above the API's own deadlines (1.5 s): an answer later than this is a hang, not a 503. */
const CLIENT_PATIENCE_MS = 4_000;

interface Answer {
  status: number | 'aborted';
  retryAfter: string | null;
  body: unknown;
}

interface HealthBody {
  status: string;
  info?: Record<string, unknown>;
  error?: Record<string, unknown>;
}

/**
 * Postgres and Redis stopped under a running API (each a private server of this test, never the shared
 * ones): routes that need the missing one answer 503 with its code instead of hanging or answering 500,
 * /health names it, and the same API process serves again once it is back.
 */
describe('outages of Postgres and Redis (e2e)', () => {
  let postgres: PrivatePostgres;
  let redis: PrivateRedis;
  let api: ApiHarness;
  let token: string;
  let tenantId: string;
  let workspaceId: string;
  let cancelledJobId: string;
  const byokHeaders = { 'X-User-Provider': 'openai', 'X-User-Api-Key': `sk-outage-${randomBytes(12).toString('hex')}` };

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([PrivatePostgres.create(), PrivateRedis.start()]);
    api = await ApiHarness.start({ REDIS_URL: redis.url }, { databaseUrl: await postgres.migratedDatabase('outages') });
    const tenant = await api.newTenant();
    tenantId = tenant.id;
    workspaceId = (await api.newWorkspace(tenantId)).id;
    token = await api.newTenantToken(tenantId);
    const started = await api.request<JobStarted>('POST', `/v1/workspaces/${workspaceId}/backfills`, { token, body: {} });
    expect(started.status).toBe(202);
    cancelledJobId = started.body.jobId;
    expect((await api.request('POST', `/v1/backfills/${cancelledJobId}/cancel`, { token })).status).toBe(202);
  }, 90_000);

  afterAll(async () => {
    // bring both back, so the API closes (and cleans its Redis prefix) as usual, then remove them
    await Promise.allSettled([postgres?.start(), redis?.running === false ? redis.restart() : undefined]);
    await api?.close();
    await Promise.allSettled([postgres?.destroy(), redis?.destroy()]);
  }, 60_000);

  /** One request that gives up after CLIENT_PATIENCE_MS: a hang shows as 'aborted', never as a pass. */
  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const patience = new AbortController();
    const timer = setTimeout(() => patience.abort(), CLIENT_PATIENCE_MS);
    try {
      const response = await api.fetch(path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: patience.signal,
      });
      const text = await response.text();
      return { status: response.status, retryAfter: response.headers.get('retry-after'), body: text ? JSON.parse(text) : undefined };
    } catch (error) {
      if (patience.signal.aborted) return { status: 'aborted', retryAfter: null, body: undefined };
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Polls until the answer is no longer 503 (a client reconnects on its own schedule), and returns it. */
  async function onceBack(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const answer = await call(method, path, body, headers);
      if (answer.status !== 503 || Date.now() > deadline) return answer;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  function unavailable(code: string) {
    return { status: 503, retryAfter: '2', body: { error: expect.objectContaining({ code, message: expect.any(String) }) } };
  }

  describe('Postgres stopped', () => {
    beforeAll(() => postgres.stop(), 60_000);

    it('a workspace read answers 503 DATABASE_UNAVAILABLE', async () => {
      expect(await call('GET', `/v1/tenants/${tenantId}/workspaces`)).toEqual(unavailable('DATABASE_UNAVAILABLE'));
    });

    it('a backfill start answers 503 DATABASE_UNAVAILABLE', async () => {
      expect(await call('POST', `/v1/workspaces/${workspaceId}/backfills`, {})).toEqual(unavailable('DATABASE_UNAVAILABLE'));
    });

    it('a job status read answers 503 DATABASE_UNAVAILABLE', async () => {
      expect(await call('GET', `/v1/backfills/${cancelledJobId}`)).toEqual(unavailable('DATABASE_UNAVAILABLE'));
    });

    it('an AI job create answers 503 DATABASE_UNAVAILABLE', async () => {
      expect(await call('POST', '/v1/ai/jobs/extract', { text: 'Alice met Bob.' }, byokHeaders)).toEqual(unavailable('DATABASE_UNAVAILABLE'));
    });

    it('/health answers 503 and names postgres, with redis up', async () => {
      const health = await call('GET', '/health');
      expect(health.status).toBe(503);
      const body = health.body as HealthBody;
      // anyone but the platform admin sees each component's status only, never the driver's text
      expect(body.error).toEqual({ postgres: { status: 'down' } });
      expect(body.info).toEqual({ redis: { status: 'up' } });
      const asAdmin = await call('GET', '/health', undefined, { authorization: `Bearer ${api.adminToken}` });
      expect(asAdmin.status).toBe(503);
      expect((asAdmin.body as HealthBody).error).toEqual({ postgres: expect.objectContaining({ status: 'down', message: expect.any(String) }) });
    });

    it('once Postgres is back, the same API process answers 200 and 202 again', async () => {
      await postgres.start();
      expect((await onceBack('GET', '/health')).status).toBe(200);
      expect((await call('GET', `/v1/tenants/${tenantId}/workspaces`)).status).toBe(200);
      const status = await call('GET', `/v1/backfills/${cancelledJobId}`);
      expect(status.status).toBe(200);
      expect((status.body as Json<BackfillView>).status).toBe('cancelled');
      const started = await call('POST', `/v1/workspaces/${workspaceId}/backfills`, {});
      expect(started.status).toBe(202);
      const jobId = (started.body as JobStarted).jobId;
      // clears the way for the Redis tests, which start backfills of the same workspace
      expect((await call('POST', `/v1/backfills/${jobId}/cancel`)).status).toBe(202);
    });
  });

  describe('Redis stopped (no persistence)', () => {
    beforeAll(() => redis.stop(), 30_000);

    it('a backfill start answers 503 QUEUE_UNAVAILABLE and leaves no queued row behind', async () => {
      expect(await call('POST', `/v1/workspaces/${workspaceId}/backfills`, {})).toEqual(unavailable('QUEUE_UNAVAILABLE'));
      const rows = await api.app.get(PrismaService).backfill.findMany({ where: { workspaceId } });
      expect(rows.filter((row) => row.status === BackfillStatus.queued || row.status === BackfillStatus.running)).toEqual([]);
      expect(rows.map((row) => row.status).sort()).toEqual(['cancelled', 'cancelled']);
    });

    it('an AI job create with BYOK headers answers 503 QUEUE_UNAVAILABLE and leaves no job row behind', async () => {
      expect(await call('POST', '/v1/ai/jobs/extract', { text: 'Alice met Bob.' }, byokHeaders)).toEqual(unavailable('QUEUE_UNAVAILABLE'));
      expect(await api.app.get(PrismaService).aiJob.count({ where: { tenantId } })).toBe(0);
    });

    it('routes that only need Postgres still answer', async () => {
      expect((await call('GET', `/v1/backfills/${cancelledJobId}`)).status).toBe(200);
      expect((await call('GET', `/v1/tenants/${tenantId}/workspaces`)).status).toBe(200);
    });

    it('/health answers 503 and names redis, with postgres up', async () => {
      const health = await call('GET', '/health');
      expect(health.status).toBe(503);
      const body = health.body as HealthBody;
      expect(Object.keys(body.error ?? {})).toEqual(['redis']);
      expect(body.info).toEqual({ postgres: expect.objectContaining({ status: 'up' }) });
    });

    it('once Redis is back (empty), the same API process queues work again', async () => {
      await redis.restart();
      expect((await onceBack('GET', '/health')).status).toBe(200);
      const started = await onceBack('POST', `/v1/workspaces/${workspaceId}/backfills`, {});
      expect(started.status).toBe(202);
      const row = await api.app.get(PrismaService).backfill.findUniqueOrThrow({ where: { id: (started.body as JobStarted).jobId } });
      expect(row.status).toBe(BackfillStatus.queued);
      const job = await onceBack('POST', '/v1/ai/jobs/extract', { text: 'Alice met Bob.' }, byokHeaders);
      expect(job.status).toBe(202);
    });
  });

  it('answered every outage with a typed 503, never a 500', () => {
    expect(api.exchanges.filter((exchange) => exchange.status >= 500 && exchange.status !== 503)).toEqual([]);
  });
});
