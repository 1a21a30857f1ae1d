import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { PrismaService } from '#libs/database';
import { emailRecords, eventually, fingerprintForSimulator, ProviderSimulator, simulatorEnv } from '#libs/testing';
import type { BackfillView } from '../src/backfills/backfill.dto.js';
import { ApiHarness, type JobStarted } from './api-harness.js';

const PAGE = 5;

/**
 * Every provider call a tenant's job made is in its usage, whatever ended the job: the provider bills
 * a call whose page is then thrown away all the same, and a budget that does not see it is spent
 * without knowing. Here a backfill is cancelled while its next page's calls are under way.
 */
/** Waits as this file's cases need: see eventually. */
const eventuallyIn = <T>(what: string, probe: () => Promise<T> | T) => eventually(what, probe, { intervalMs: 25 });

describe('Usage of a backfill cancelled with pages in flight (e2e, in-process worker)', () => {
  const simulator = new ProviderSimulator({ validKeys: { openai: ['*'] } });
  let api: ApiHarness;
  let prisma: PrismaService;

  beforeAll(async () => {
    api = await ApiHarness.start({ ...simulatorEnv(await simulator.start()), SYNC_PAGE_SIZE: String(PAGE), SYNC_CONCURRENCY: '2' }, { worker: true });
    prisma = api.app.get(PrismaService);
  });
  afterAll(async () => {
    await api?.close();
    await simulator.stop();
  });

  /**
   * Starts a backfill of 4 pages whose pages 2 to 4 are held at the provider, calls `stop` once page 1
   * committed and pages 2 and 3 are in flight, lets the provider answer, and returns what the provider
   * answered and what the tenant's usage says.
   */
  async function stoppedMidRun(stop: (ids: { jobId: string; workspaceId: string }) => Promise<() => Promise<string>>) {
    const key = `sk-cancel-${randomBytes(12).toString('hex')}-cncl`;
    const fingerprint = fingerprintForSimulator(key);
    const tenant = await api.newTenant();
    await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: key } });
    // a hard budget far away: each page in flight then shows as a hold in budget_reservations
    await api.request('PUT', `/v1/tenants/${tenant.id}/budget`, { body: { monthlyLimitTokens: 1e12, mode: 'hard' } });
    const workspace = await api.newWorkspace(tenant.id);
    // pages 2 to 4 carry a marker the simulator holds them by; page 1 goes through
    const records = emailRecords(4 * PAGE).map((r, i) => (i < PAGE ? r : { ...r, body: `${r.body}\nHOLD-AFTER-PAGE-1` }));
    expect((await api.request('POST', `/v1/workspaces/${workspace.id}/records`, { body: records })).status).toBe(200);
    const gate = simulator.gate({ keyFingerprint: fingerprint, marker: 'HOLD-AFTER-PAGE-1' });

    const started = await api.request<JobStarted>('POST', `/v1/workspaces/${workspace.id}/backfills`, { body: {} });
    const jobId = started.body.jobId;
    let ended: () => Promise<string>;
    try {
      await eventuallyIn('page 1 committed', async () => (await prisma.keyUsage.count({ where: { jobId } })) === 1);
      await eventuallyIn('pages 2 and 3 in flight', async () => (await prisma.budgetReservation.count({ where: { jobId } })) === 2);
      await gate.waitForHeld(1);
      ended = await stop({ jobId, workspaceId: workspace.id });
    } finally {
      gate.open();
    }
    const status = await ended();
    const usage = await eventuallyIn('the usage settled', async () => {
      const res = await api.request<{ totals: { calls: number; inputTokens: number; outputTokens: number } }>(
        'GET',
        `/v1/tenants/${tenant.id}/usage`,
      );
      return (await prisma.budgetReservation.count({ where: { jobId } })) === 0 ? res.body.totals : null;
    });
    // read once the run settled its holds: every call it made has been answered by then
    const made = simulator.usageReported(fingerprint);
    const provider = {
      calls: made.length,
      inputTokens: made.reduce((sum, answer) => sum + answer.inputTokens, 0),
      outputTokens: made.reduce((sum, answer) => sum + answer.outputTokens, 0),
    };
    return { status, jobId, provider, usage };
  }

  it('counts the calls of the pages a cancel threw away', async () => {
    const { status, jobId, provider, usage } = await stoppedMidRun(async ({ jobId }) => {
      expect((await api.request('POST', `/v1/backfills/${jobId}/cancel`)).status).toBe(202);
      return async () => (await api.waitForBackfill(jobId)).status;
    });
    expect(status).toBe('cancelled');
    expect(provider.calls).toBeGreaterThan(2 * PAGE); // page 3's calls were made
    expect(usage).toEqual(expect.objectContaining(provider));
    const view = await api.request<BackfillView>('GET', `/v1/backfills/${jobId}`);
    expect(view.body.usage?.inputTokens).toBe(provider.inputTokens);
  });

  it('counts the calls of the pages whose commit a transfer of the workspace (cancelActive) fenced off', async () => {
    const newOwner = await api.newTenant();
    const { status, provider, usage } = await stoppedMidRun(async ({ jobId, workspaceId }) => {
      const moved = await api.request('POST', `/v1/workspaces/${workspaceId}/transfer?cancelActive=true`, { body: { tenantId: newOwner.id } });
      expect(moved.status).toBe(200);
      return async () => (await api.waitForBackfill(jobId)).status;
    });
    expect(status).toBe('cancelled');
    expect(provider.calls).toBeGreaterThan(PAGE); // page 2's calls were made
    // the calls were made with the first owner's key: its usage has them
    expect(usage).toEqual(expect.objectContaining(provider));
  });

  it('counts the calls of the pages in flight when a workspace deletion (cancelActive) emptied the workspace first', async () => {
    const { provider, usage } = await stoppedMidRun(async ({ jobId, workspaceId }) => {
      const deletion = await api.request<{ id: string }>('DELETE', `/v1/workspaces/${workspaceId}?cancelActive=true`);
      expect(deletion.status).toBe(202);
      // the deletion job empties the workspace while pages 2 and 3 still wait for their answers
      await eventuallyIn('the workspace emptied', async () => {
        const job = await api.request<{ status: string }>('GET', `/v1/workspace-deletions/${deletion.body.id}`);
        return job.body.status === 'succeeded';
      });
      return async () => {
        await eventuallyIn('the backfill ended or gone', async () => {
          const row = await prisma.backfill.findUnique({ where: { id: jobId } });
          return !row || ['cancelled', 'failed', 'succeeded'].includes(row.status);
        });
        return 'ended';
      };
    });
    expect(provider.calls).toBeGreaterThan(PAGE); // page 2's calls were made
    expect(usage).toEqual(expect.objectContaining(provider));
  });
});
