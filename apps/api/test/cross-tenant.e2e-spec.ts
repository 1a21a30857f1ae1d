import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MaskedSetting } from '#libs/byok';
import { PrismaService } from '#libs/database';
import { KeyValidator } from '#libs/llm';
import { RecordIngestService } from '#libs/records';
import { emailRecords, fingerprintForSimulator, ProviderSimulator, simulatorEnv } from '#libs/testing';
import type { AiJobView } from '../src/ai-jobs/ai-jobs.dto.js';
import type { BackfillView } from '../src/backfills/backfill.dto.js';
import type { WorkspaceView } from '../src/tenants/tenant.dto.js';
import { type ApiErrorBody, ApiHarness, type JobStarted, type ListOf } from './api-harness.js';
import { keyEchoes } from './key-echo.js';

const fp = fingerprintForSimulator;
const TEXT = 'Alice Johnson from Acme Corp met Bob Smith about the renewal.';

/**
 * What one tenant's token can do to another tenant's workspace, job and key: nothing, whatever it
 * names in the path or the body. Moving a workspace between tenants is the platform admin's, and
 * after a move the workspace answers to its new tenant only and runs with the new tenant's key.
 */
describe('Cross-tenant access (e2e)', () => {
  const keyA = `sk-tenant-a-${randomBytes(12).toString('hex')}-aaa1`;
  const keyB = `sk-tenant-b-${randomBytes(12).toString('hex')}-bbb2`;
  const simulator = new ProviderSimulator({ validKeys: { openai: [keyA, keyB] } });
  let api: ApiHarness;

  beforeAll(async () => {
    api = await ApiHarness.start(simulatorEnv(await simulator.start()), { worker: true });
  });
  afterEach(() => {
    simulator.reset();
    simulator.setValidKeys('openai', [keyA, keyB]);
  });
  afterAll(async () => {
    await api.close();
    await simulator.stop();
  });

  /** A tenant with its own working OpenAI key and an admin token. */
  async function tenantWithKey(key: string) {
    const tenant = await api.newTenant();
    expect((await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: key } })).status).toBe(200);
    return { tenant, token: await api.newTenantToken(tenant.id) };
  }

  async function backfillWith(token: string, workspaceId: string) {
    const res = await api.request<JobStarted>('POST', `/v1/workspaces/${workspaceId}/backfills`, { token, body: {} });
    expect(res.status).toBe(202);
    return api.waitForBackfill(res.body.jobId);
  }

  describe('POST /v1/workspaces/:workspaceId/transfer', () => {
    it('is refused to tenant tokens; the platform admin moves the workspace, which then answers to its new tenant only', async () => {
      const a = await tenantWithKey(keyA);
      const b = await tenantWithKey(keyB);
      const workspace = await api.newWorkspace(a.tenant.id, 'Shared inbox');
      await api.app.get(RecordIngestService).ingest(workspace.id, JSON.stringify(emailRecords(8)), 'json');
      const path = `/v1/workspaces/${workspace.id}/transfer`;

      // before the move: A's backfill runs with A's key (and every process now caches workspace -> A)
      const before = await backfillWith(a.token, workspace.id);
      expect(before).toMatchObject({ status: 'succeeded', keySource: 'tenant', keyLast4: 'aaa1' });
      expect(simulator.keysSeen('openai')).toEqual([fp(keyA)]);

      // a tenant token may not move a workspace: neither its owner's nor the receiver's
      for (const token of [a.token, b.token]) {
        const refused = await api.request<ApiErrorBody>('POST', path, { token, body: { tenantId: b.tenant.id } });
        expect(refused.status).toBe(403);
        expect(refused.body.error.code).toBe('FORBIDDEN');
      }
      const stillA = await api.request<ListOf<WorkspaceView>>('GET', `/v1/tenants/${a.tenant.id}/workspaces`, { token: a.token });
      expect(stillA.body.items.map((w) => w.id)).toEqual([workspace.id]);
      expect((await api.request('GET', `/v1/workspaces/${workspace.id}/graph`, { token: b.token })).status).toBe(404);

      // the platform admin moves it
      const moved = await api.request<WorkspaceView>('POST', path, { body: { tenantId: b.tenant.id } });
      expect(moved.status).toBe(200);
      expect(moved.body).toMatchObject({ id: workspace.id, tenantId: b.tenant.id, name: 'Shared inbox' });

      // the old tenant's token no longer reaches it, by any route; the new tenant's does
      for (const [method, route] of [
        ['GET', `/v1/workspaces/${workspace.id}/backfills`],
        ['GET', `/v1/workspaces/${workspace.id}/graph`],
        ['POST', `/v1/workspaces/${workspace.id}/backfills`],
      ] as const) {
        const res = await api.request<ApiErrorBody>(method, route, { token: a.token, body: method === 'POST' ? {} : undefined });
        expect({ method, route, status: res.status, code: res.body.error.code }).toEqual({ method, route, status: 404, code: 'WORKSPACE_NOT_FOUND' });
      }
      expect((await api.request<ListOf<WorkspaceView>>('GET', `/v1/tenants/${a.tenant.id}/workspaces`, { token: a.token })).body.items).toEqual([]);
      const ofB = await api.request<ListOf<WorkspaceView>>('GET', `/v1/tenants/${b.tenant.id}/workspaces`, { token: b.token });
      expect(ofB.body.items.map((w) => w.id)).toEqual([workspace.id]);
      expect((await api.request('GET', `/v1/workspaces/${workspace.id}/graph`, { token: b.token })).status).toBe(200);

      // a backfill started after the move runs with the NEW tenant's key, in the worker too
      simulator.clear();
      const after = await backfillWith(b.token, workspace.id);
      expect(after).toMatchObject({ status: 'succeeded', keySource: 'tenant', keyLast4: 'bbb2', counters: { recordsProcessed: 8 } });
      expect(simulator.keysSeen('openai')).toEqual([fp(keyB)]);
      expect(simulator.requests.length).toBeGreaterThan(0);
      await expect(api.app.get(PrismaService).backfill.findUnique({ where: { id: after.id } })).resolves.toMatchObject({ tenantId: b.tenant.id });
      // and the new job is B's alone
      expect((await api.request('GET', `/v1/backfills/${after.id}`, { token: a.token })).status).toBe(404);
      expect((await api.request('GET', `/v1/backfills/${after.id}`, { token: b.token })).status).toBe(200);
    });

    it('answers 404 for an unknown tenant or workspace, and moves nothing', async () => {
      const a = await tenantWithKey(keyA);
      const workspace = await api.newWorkspace(a.tenant.id);
      const unknown = '00000000-0000-4000-8000-000000000000';

      const toNobody = await api.request<ApiErrorBody>('POST', `/v1/workspaces/${workspace.id}/transfer`, { body: { tenantId: unknown } });
      expect(toNobody.status).toBe(404);
      expect(toNobody.body.error.code).toBe('TENANT_NOT_FOUND');
      const nothing = await api.request<ApiErrorBody>('POST', `/v1/workspaces/${unknown}/transfer`, { body: { tenantId: a.tenant.id } });
      expect(nothing.status).toBe(404);
      expect(nothing.body.error.code).toBe('WORKSPACE_NOT_FOUND');
      await expect(api.app.get(PrismaService).workspace.findUnique({ where: { id: workspace.id } })).resolves.toMatchObject({
        tenantId: a.tenant.id,
      });
    });
  });

  describe("POST /v1/ai/jobs/extract naming another tenant's tenantId", () => {
    async function aiJobEnded(token: string, jobId: string) {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const { body } = await api.request<AiJobView>('GET', `/v1/ai/jobs/${jobId}`, { token });
        if (body.status === 'succeeded' || body.status === 'failed') return body;
        if (Date.now() > deadline) throw new Error(`AI job ${jobId} still ${body.status}`);
        await sleep(25);
      }
    }

    it('is refused with 404 like anything of another tenant: no job row, no provider call', async () => {
      const a = await tenantWithKey(keyA);
      const b = await tenantWithKey(keyB);
      const prisma = api.app.get(PrismaService);
      const jobsBefore = await prisma.aiJob.findMany({ orderBy: { id: 'asc' } });

      const res = await api.request<ApiErrorBody>('POST', '/v1/ai/jobs/extract', { token: a.token, body: { text: TEXT, tenantId: b.tenant.id } });

      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('TENANT_NOT_FOUND');
      await expect(prisma.aiJob.findMany({ orderBy: { id: 'asc' } })).resolves.toEqual(jobsBefore);
      // give a wrongly queued job the time to reach the provider: nothing does (a job through the same queue is the yardstick)
      const own = await api.request<JobStarted>('POST', '/v1/ai/jobs/extract', { token: a.token, body: { text: TEXT } });
      await aiJobEnded(a.token, own.body.jobId);
      expect(simulator.keysSeen('openai')).toEqual([fp(keyA)]);
      await expect(prisma.aiJob.count({ where: { tenantId: b.tenant.id } })).resolves.toBe(0);
    });

    it("creates the job for the token's own tenant, with that tenant's key, whether the body names it or not", async () => {
      const a = await tenantWithKey(keyA);
      await tenantWithKey(keyB);
      const prisma = api.app.get(PrismaService);

      for (const body of [{ text: TEXT }, { text: TEXT, tenantId: a.tenant.id }]) {
        simulator.clear();
        const res = await api.request<JobStarted>('POST', '/v1/ai/jobs/extract', { token: a.token, body });
        expect(res.status).toBe(202);

        const job = await aiJobEnded(a.token, res.body.jobId);

        expect(job).toMatchObject({ status: 'succeeded', keySource: 'tenant', provider: 'openai' });
        await expect(prisma.aiJob.findUnique({ where: { id: res.body.jobId } })).resolves.toMatchObject({ tenantId: a.tenant.id });
        expect(simulator.keysSeen('openai')).toEqual([fp(keyA)]);
      }
    });
  });

  it("leaves another tenant's key, validation and jobs exactly as they were after every refused request", async () => {
    const a = await tenantWithKey(keyA);
    const b = await tenantWithKey(keyB);
    const workspaceB = await api.newWorkspace(b.tenant.id);
    await api.app.get(RecordIngestService).ingest(workspaceB.id, JSON.stringify(emailRecords(3)), 'json');
    // B's key is validated and B has a finished backfill: both have state that a write would change
    expect((await api.request('POST', `/v1/tenants/${b.tenant.id}/settings/OPENAI_API_KEY/validate`, { token: b.token })).status).toBe(200);
    const jobB = await backfillWith(b.token, workspaceB.id);
    const snapshot = async () => ({
      setting: (await api.request<ListOf<MaskedSetting>>('GET', `/v1/tenants/${b.tenant.id}/settings`)).body.items,
      job: (await api.request<BackfillView>('GET', `/v1/backfills/${jobB.id}`)).body,
      workspaces: (await api.request<ListOf<WorkspaceView>>('GET', `/v1/tenants/${b.tenant.id}/workspaces`)).body.items,
    });
    const before = await snapshot();
    expect(before.setting).toEqual([
      expect.objectContaining({ key: 'OPENAI_API_KEY', last4: 'bbb2', validationStatus: 'valid', validatedAt: expect.any(String) }),
    ]);
    // from now on the provider refuses B's key and no verdict is cached: a validation or a backfill
    // that went through would call the provider and change the verdict
    api.app.get(KeyValidator).forget('openai', before.setting[0].fingerprint!);
    simulator.setValidKeys('openai', [keyA]);
    simulator.clear();

    const attempts = [
      ['PUT', `/v1/tenants/${b.tenant.id}/settings/OPENAI_API_KEY`, { value: keyA }],
      ['DELETE', `/v1/tenants/${b.tenant.id}/settings/OPENAI_API_KEY`, undefined],
      ['POST', `/v1/tenants/${b.tenant.id}/settings/OPENAI_API_KEY/validate`, undefined],
      ['POST', `/v1/backfills/${jobB.id}/cancel`, undefined],
      ['POST', `/v1/workspaces/${workspaceB.id}/backfills`, {}],
      ['POST', `/v1/workspaces/${workspaceB.id}/transfer`, { tenantId: a.tenant.id }],
    ] as const;
    for (const [method, path, body] of attempts) {
      const res = await api.request<ApiErrorBody>(method, path, { token: a.token, body });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: path.endsWith('/transfer') ? 403 : 404 });
    }

    expect(await snapshot()).toEqual(before);
    expect(simulator.requests).toEqual([]);
    expect(keyEchoes('response', api.responses, [keyA, keyB])).toEqual([]);
    expect(keyEchoes('log', api.logs.lines, [keyA, keyB])).toEqual([]);
  });
});
