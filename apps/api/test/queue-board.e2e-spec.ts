import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getQueueToken } from '@nestjs/bullmq';
import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import type { Queue } from 'bullmq';
import { QueueName, SEALED_KEY_SHOWN_AS } from '#libs/queue';
import { ProviderSimulator, simulatorEnv } from '#libs/testing';
import { ApiHarness, type JobStarted } from './api-harness.js';
import { launchBrowser, screenshot } from './dashboard-browser.js';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

interface BoardJob {
  id: string;
  data: Record<string, unknown>;
}
interface BoardQueues {
  queues: { name: QueueName; readOnlyMode: boolean; counts: Record<string, number>; jobs: BoardJob[] }[];
}

/**
 * The queue board (bull-board) at /admin/queues: the platform admin only (Basic with the admin token
 * as password, or bearer), read-only, sealed request keys never shown, its own page policy. No worker
 * runs, so the jobs started here wait in their queues with their sealed keys.
 */
describe('Queue board at /admin/queues (e2e)', () => {
  const simulator = new ProviderSimulator();
  const requestKey = `sk-${randomBytes(24).toString('hex')}`;
  let api: ApiHarness;
  let tenantToken: string;
  let jobId: string;

  beforeAll(async () => {
    api = await ApiHarness.start(simulatorEnv(await simulator.start()));
    const tenant = await api.newTenant();
    tenantToken = await api.newTenantToken(tenant.id);
    const started = await api.request<JobStarted>('POST', '/v1/ai/jobs/extract', {
      token: tenantToken,
      headers: { 'X-User-Provider': 'openai', 'X-User-Api-Key': requestKey },
      body: { text: 'Alice Johnson from Acme Corp met Bob Smith.' },
    });
    expect(started.status).toBe(202);
    jobId = started.body.jobId;
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    await simulator.stop();
  });

  const board = (path: string, authorization: string | null, init: RequestInit = {}) =>
    api.fetch(`/admin/queues${path}`, { ...init, headers: authorization === null ? {} : { authorization } });

  it('asks for credentials without any, refuses a wrong token 401 and a tenant token 403, and opens for the admin', async () => {
    const none = await board('', null);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm="[^"]+", charset="UTF-8"$/);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
    expect((await board('', basic('admin', `admin-${randomBytes(24).toString('base64url')}`))).status).toBe(401);
    expect((await board('', 'Basic not-base64!')).status).toBe(401);
    expect((await board('', basic('admin', tenantToken))).status).toBe(403);
    expect((await board('', `Bearer ${tenantToken}`)).status).toBe(403);
    expect((await board('/api/queues', basic('admin', tenantToken))).status).toBe(403);

    const page = await board('', basic('any-user', api.adminToken));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(await page.text()).toContain('<title>BYOK queues</title>');
    expect((await board('/api/queues', `Bearer ${api.adminToken}`)).status).toBe(200);
  });

  it('lists the queues with their jobs, and never shows a sealed request key', async () => {
    const answer = await board(`/api/queues?activeQueue=${QueueName.AiJobs}&status=latest&page=1&jobsPerPage=20`, basic('admin', api.adminToken));
    const text = await answer.text();
    const { queues } = JSON.parse(text) as BoardQueues;
    expect(queues.map((q) => [q.name, q.readOnlyMode]).sort()).toEqual([
      ['ai-jobs', true],
      ['backfills', true],
      ['deletions', true],
      ['webhooks', true],
    ]);
    const listed = queues.find((q) => q.name === QueueName.AiJobs)!.jobs.find((job) => job.id === jobId);
    expect(listed?.data).toEqual({ aiJobId: jobId, sealedKey: SEALED_KEY_SHOWN_AS });
    const one = await board(`/api/queues/${QueueName.AiJobs}/${jobId}`, basic('admin', api.adminToken));
    const oneText = await one.text();
    expect((JSON.parse(oneText) as { job: BoardJob }).job.data.sealedKey).toBe(SEALED_KEY_SHOWN_AS);

    // the queue does hold the sealed key: the board left it out
    const queued = await api.app.get<Queue>(getQueueToken(QueueName.AiJobs)).getJob(jobId);
    const sealed = (queued?.data as { sealedKey?: { ciphertext: string } }).sealedKey;
    expect(sealed?.ciphertext.length).toBeGreaterThan(10);
    for (const shown of [text, oneText]) {
      expect(shown).not.toContain(sealed!.ciphertext);
      expect(shown).not.toContain(requestKey.slice(3, 19));
    }
  });

  it('changes nothing: retries, removals, added or edited jobs and pauses are refused or ignored', async () => {
    const admin = basic('admin', api.adminToken);
    const json = { 'content-type': 'application/json', authorization: admin };
    const attempts = [
      await api.fetch(`/admin/queues/api/queues/${QueueName.AiJobs}/${jobId}/clean`, { method: 'PUT', headers: { authorization: admin } }),
      await api.fetch(`/admin/queues/api/queues/${QueueName.AiJobs}/retry/failed`, { method: 'PUT', headers: { authorization: admin } }),
      await api.fetch(`/admin/queues/api/queues/${QueueName.AiJobs}/pause`, { method: 'PUT', headers: { authorization: admin } }),
      await api.fetch(`/admin/queues/api/queues/${QueueName.AiJobs}/empty`, { method: 'PUT', headers: { authorization: admin } }),
      await api.fetch(`/admin/queues/api/queues/${QueueName.AiJobs}/add`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ name: 'ai-extract', data: { aiJobId: jobId }, options: {} }),
      }),
      await api.fetch(`/admin/queues/api/queues/${QueueName.AiJobs}/${jobId}/update-data`, {
        method: 'PATCH',
        headers: json,
        body: JSON.stringify({ jobData: { aiJobId: 'x' } }),
      }),
    ];
    expect(attempts.map((a) => a.status)).toEqual([405, 405, 405, 405, 405, 405]);
    expect((await api.fetch('/admin/queues/api/queues/pause', { method: 'PUT', headers: { authorization: admin } })).status).toBe(200);
    const queue = api.app.get<Queue>(getQueueToken(QueueName.AiJobs));
    expect(await queue.isPaused()).toBe(false);
    expect((await queue.getJob(jobId))?.data).toEqual(expect.objectContaining({ aiJobId: jobId }));
    expect(await queue.getJobCountByTypes('waiting', 'prioritized')).toBe(1);
  });

  it('has its own page policy, and the dashboard keeps its stricter one', async () => {
    const page = await board('', basic('admin', api.adminToken));
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("base-uri 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const dashboard = await api.fetch('/dashboard/');
    const dashboardCsp = dashboard.headers.get('content-security-policy') ?? '';
    expect(dashboardCsp).toContain("base-uri 'none'");
    expect(dashboardCsp).toContain("style-src 'self'");
    expect(dashboardCsp).not.toContain('unsafe-inline');
  });

  describe('in a browser', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchBrowser();
    }, 30_000);
    afterAll(() => browser?.close());

    it('renders the queues for the admin, within its page policy', async () => {
      const context = await browser.newContext({
        baseURL: api.baseUrl,
        viewport: { width: 1440, height: 900 },
        httpCredentials: { username: 'admin', password: api.adminToken },
      });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (message) => {
        // the board's page links a web font from Google; the policy keeps the admin's browser from fetching it
        if (message.type() === 'error' && !message.text().includes('fonts.googleapis.com')) problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      try {
        await page.goto('/admin/queues');
        for (const name of Object.values(QueueName)) await page.getByText(name, { exact: true }).first().waitFor();
        await page.goto(`/admin/queues/queue/${QueueName.AiJobs}?status=waiting`);
        await page.getByText(SEALED_KEY_SHOWN_AS).first().waitFor({ timeout: 10_000 });
        await screenshot(page, 'queue-board');
        expect(problems).toEqual([]);
        expect(await page.content()).not.toContain(requestKey.slice(3, 19));
      } finally {
        await context.close();
      }
    }, 60_000);
  });
});
