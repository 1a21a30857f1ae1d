import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { BackfillView } from '../src/backfills/backfill.dto.js';
import { type ApiErrorBody, ApiHarness, type JobStarted } from './api-harness.js';

/** Transfers next to backfills that no worker runs yet (queued), so nothing moves on its own. */
describe('Workspace transfer and the backfills of its owners (e2e)', () => {
  let api: ApiHarness;

  beforeAll(async () => {
    api = await ApiHarness.start();
  });
  afterAll(async () => {
    await api?.close();
  });

  async function owned() {
    const tenant = await api.newTenant();
    const workspace = await api.newWorkspace(tenant.id);
    return { tenantId: tenant.id, workspaceId: workspace.id, token: await api.newTenantToken(tenant.id) };
  }
  const view = async (jobId: string) => (await api.request<BackfillView>('GET', `/v1/backfills/${jobId}`)).body;
  const transfer = (workspaceId: string, tenantId: string, query = '') =>
    api.request<ApiErrorBody>('POST', `/v1/workspaces/${workspaceId}/transfer${query}`, { body: { tenantId } });

  it('a transfer that is refused cancels nothing, even with cancelActive', async () => {
    const a = await owned();
    const jobId = (await api.request<JobStarted>('POST', `/v1/workspaces/${a.workspaceId}/backfills`, { token: a.token, body: {} })).body.jobId;

    const unknownTenant = await transfer(a.workspaceId, randomUUID(), '?cancelActive=true');
    expect(unknownTenant.status).toBe(404);
    expect(unknownTenant.body.error.code).toBe('TENANT_NOT_FOUND');
    expect((await view(jobId)).status).toBe('queued');

    const unknownWorkspace = await transfer(randomUUID(), a.tenantId, '?cancelActive=true');
    expect(unknownWorkspace.status).toBe(404);

    // to its own owner: nothing to move, nothing to cancel
    expect((await transfer(a.workspaceId, a.tenantId, '?cancelActive=true')).status).toBe(200);
    expect((await view(jobId)).status).toBe('queued');

    const blocked = await transfer(a.workspaceId, (await owned()).tenantId);
    expect(blocked.status).toBe(409);
    expect(blocked.body.error.code).toBe('TRANSFER_BLOCKED_BY_ACTIVE_JOB');
    expect((await view(jobId)).status).toBe('queued');
  });

  it("the old owner cannot retry its backfills on a workspace that moved, nor hold the new owner's slot", async () => {
    const a = await owned();
    const b = await owned();
    const jobId = (await api.request<JobStarted>('POST', `/v1/workspaces/${a.workspaceId}/backfills`, { token: a.token, body: {} })).body.jobId;
    expect((await api.request('POST', `/v1/backfills/${jobId}/cancel`, { token: a.token })).status).toBe(202);
    expect((await view(jobId)).status).toBe('cancelled');
    expect((await transfer(a.workspaceId, b.tenantId)).status).toBe(200);

    for (const token of [a.token, undefined]) {
      const retry = await api.request<ApiErrorBody>('POST', `/v1/backfills/${jobId}/retry-failed`, { token });
      expect(retry.status).toBe(409);
      expect(retry.body.error.code).toBe('WORKSPACE_TRANSFERRED');
    }
    const own = await api.request<JobStarted>('POST', `/v1/workspaces/${a.workspaceId}/backfills`, { token: b.token, body: {} });
    expect(own.status).toBe(202);
    expect(own.body.resumedFrom).toBeNull();
    expect((await view(own.body.jobId)).tenantId).toBe(b.tenantId);
  });
});
