import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import type { MaskedSetting } from '#libs/byok';
import { PrismaService } from '#libs/database';
import type { EntityDetail, GraphPage } from '#libs/graphrag';
import { RecordIngestService } from '#libs/records';
import { emailRecords, ProviderSimulator, simulatorEnv } from '#libs/testing';
import { ApiHarness, type JobStarted, type ListOf } from './api-harness.js';
import {
  accessibilityViolations,
  type DashboardPage,
  type DashboardWindow,
  ensureDashboardBuilt,
  expectAttribute,
  expectCount,
  expectDisabled,
  expectEnabled,
  expectText,
  expectValue,
  expectVisible,
  launchBrowser,
  openDashboard,
  screenshot,
  seedSyntheticGraph,
  signIn,
  waitForEqual,
  waitUntil,
} from './dashboard-browser.js';

/** The tenant dashboard at /dashboard, driven in headless Chromium against the real API, worker and simulator. */
describe('Tenant dashboard in a browser (e2e)', () => {
  const openaiKey = `sk-dash-${randomBytes(12).toString('hex')}-4207`;
  const deepseekKey = `sk-dash-ds-${randomBytes(12).toString('hex')}-5150`;
  const anthropicKey = `sk-ant-api03-dash-${randomBytes(16).toString('hex')}-6b1d`;
  const simulator = new ProviderSimulator({ validKeys: { openai: [openaiKey], deepseek: [deepseekKey], anthropic: [anthropicKey] } });
  let api: ApiHarness;
  let browser: Browser;
  const opened: DashboardPage[] = [];

  beforeAll(async () => {
    ensureDashboardBuilt();
    const [urls, launched] = await Promise.all([simulator.start(), launchBrowser()]);
    browser = launched;
    api = await ApiHarness.start({ ...simulatorEnv(urls), SYNC_PAGE_SIZE: '5', SYNC_CONCURRENCY: '1', LOG_LEVEL: 'warn' }, { worker: true });
  }, 60_000);

  // a test that held requests at a gate or scripted failures leaves the simulator as it found it
  afterEach(() => simulator.reset());

  afterAll(async () => {
    await Promise.all(opened.map((o) => o.close()));
    await browser?.close();
    await api?.close();
    await simulator.stop();
  });

  async function open(): Promise<DashboardPage> {
    const dashboard = await openDashboard(browser, api.baseUrl);
    opened.push(dashboard);
    return dashboard;
  }

  /**
   * A tenant with a tenant admin token, and optionally a workspace with `records` emails and a stored
   * OpenAI key. Each record's subject carries `marker(index)`, so a gate can hold a backfill at it.
   */
  async function tenantWith(options: { records?: number; openaiKey?: string } = {}) {
    const tenant = await api.newTenant({ subdomain: `dash-${randomBytes(3).toString('hex')}` });
    const token = await api.newTenantToken(tenant.id);
    const marker = (index: number) => `[[${tenant.subdomain} r${index}]]`;
    let workspaceId: string | undefined;
    if (options.records !== undefined) {
      const workspace = await api.newWorkspace(tenant.id, 'Support inbox');
      workspaceId = workspace.id;
      const records = emailRecords(options.records).map((record, index) => ({ ...record, subject: `${record.subject} ${marker(index)}` }));
      const ingest = await api.app.get(RecordIngestService).ingest(workspace.id, JSON.stringify(records), 'json');
      expect(ingest.accepted).toBe(options.records);
    }
    if (options.openaiKey) {
      expect((await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: options.openaiKey } })).status).toBe(200);
    }
    return { tenant, token, workspaceId: workspaceId!, marker };
  }

  const graphCounts = (page: Page) =>
    page.evaluate(() => {
      const cy = (globalThis as unknown as DashboardWindow).byokDashboard?.cy;
      if (!cy) return null;
      return { nodes: cy.nodes().length, edges: cy.edges().length, visible: cy.nodes(':visible').length };
    });

  it('renders the API docs (Swagger UI) under their own Content-Security-Policy, never framed, with no violation', async () => {
    const context = await browser.newContext({ baseURL: api.baseUrl });
    const problems: string[] = [];
    try {
      const page = await context.newPage();
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      const response = await page.goto('/docs');
      const csp = response?.headers()['content-security-policy'] ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-eval');
      expect(response?.headers()['x-frame-options']).toBe('DENY');
      await expectVisible(page.locator('.opblock-summary').first());
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('is served at /dashboard without a token, with a self-only Content-Security-Policy', async () => {
    const redirect = await fetch(`${api.baseUrl}/dashboard`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/dashboard/');
    const index = await fetch(`${api.baseUrl}/dashboard/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const csp = index.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe');
    expect(index.headers.get('x-frame-options')).toBe('DENY');
    const html = await index.text();
    // everything from this origin: no CDN, no external font
    expect(html).not.toMatch(/https?:\/\//);
    const script = /src="(\/dashboard\/main-[A-Z0-9]+\.js)"/.exec(html)![1];
    const asset = await fetch(`${api.baseUrl}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    // the API itself still wants a token
    expect((await fetch(`${api.baseUrl}/v1/me`)).status).toBe(401);
    expect((await fetch(`${api.baseUrl}/dashboard/missing.js`)).status).toBe(404);
  });

  it('signs in with a tenant token only, keeps it in sessionStorage, and signs out', async () => {
    const { tenant, token } = await tenantWith();
    const { page, problems } = await open();

    await expectVisible(page.getByRole('heading', { name: 'Sign in to the dashboard' }));
    await page.getByLabel('Tenant admin token').fill('not-a-real-token-000000000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('This token was not accepted').waitFor();

    await page.getByLabel('Tenant admin token').fill(api.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('This is the platform admin token').waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(await page.evaluate(() => (globalThis as unknown as DashboardWindow).sessionStorage.length)).toBe(0);

    await signIn(page, token);
    await expectText(page.locator('.tenant-name'), tenant.subdomain);
    await expectText(page.getByTestId('key-mode'), 'Key mode: BYOK');
    expect(new URL(page.url()).hash).toBe('#/keys');
    const stored = await page.evaluate(() => {
      const s = (globalThis as unknown as DashboardWindow).sessionStorage;
      const l = (globalThis as unknown as DashboardWindow).localStorage;
      return {
        session: Object.keys(s).map((k) => s.getItem(k)),
        local: l.length,
        cookies: (globalThis as unknown as DashboardWindow).document.cookie,
      };
    });
    expect(stored).toEqual({ session: [token], local: 0, cookies: '' });
    // a reload keeps the session (the token is verified again)
    await page.reload();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await screenshot(page, 'signed-in');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are signed out').waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as DashboardWindow).sessionStorage.length)).toBe(0);
    expect(problems).toEqual([]);
  }, 30_000);

  it('adds, validates and removes provider keys, and sets the graph provider', async () => {
    const { tenant, token } = await tenantWith();
    const { page, problems } = await open();
    await signIn(page, token);
    const openai = page.locator('article[data-provider="openai"]');
    const deepseek = page.locator('article[data-provider="deepseek"]');
    await expectText(page.getByTestId('key-mode-value'), 'BYOK');
    // each badge reads "…" until the settings have loaded
    for (const provider of ['openai', 'gemini', 'deepseek', 'anthropic']) {
      await expectText(page.locator(`article[data-provider="${provider}"] .badge`), 'Not set');
    }

    const input = page.getByLabel('OpenAI API key', { exact: true });
    await expectAttribute(input, 'type', 'password');
    await input.fill(openaiKey);
    await openai.getByRole('button', { name: 'Save key' }).click();
    await openai.getByText('OpenAI key saved (…4207)').waitFor();
    await expectText(openai.locator('.badge'), 'Unknown');
    // the field is cleared, relabelled, and the key is nowhere on the page
    await expectValue(page.getByLabel('Replace the OpenAI API key'), '');
    expect(await page.content()).not.toContain(openaiKey);
    await expectVisible(openai.locator('dd', { hasText: '…4207' }));

    await openai.getByRole('button', { name: 'Validate now' }).click();
    await openai.getByText('The OpenAI key is valid').waitFor();
    await openai.locator('.badge[data-status="valid"]').waitFor();
    await expectText(openai.locator('.badge'), 'Valid');
    // validated just now: a date, no longer "Never"
    await expectText(openai.locator('dd').nth(2), /^(?!Never$)\S/);

    // a rate-limited check is no verdict: the API's message is shown and the status stays as it was
    await page.getByLabel('DeepSeek API key', { exact: true }).fill(deepseekKey);
    await deepseek.getByRole('button', { name: 'Save key' }).click();
    await deepseek.getByText('DeepSeek key saved (…5150)').waitFor();
    simulator.failNext('deepseek', { status: 429, retryAfterSeconds: 3 });
    await deepseek.getByRole('button', { name: 'Validate now' }).click();
    await deepseek.getByText('No verdict, the status is unchanged.').waitFor();
    await expectText(deepseek.locator('.key-messages'), /deepseek/i);
    await expectText(deepseek.locator('.badge'), 'Unknown');

    // a key the provider refuses is invalid
    await page.getByLabel('Replace the DeepSeek API key').fill(`sk-revoked-${randomBytes(12).toString('hex')}-9999`);
    await deepseek.getByRole('button', { name: 'Replace key' }).click();
    await deepseek.getByText('DeepSeek key saved (…9999)').waitFor();
    await deepseek.getByRole('button', { name: 'Validate now' }).click();
    await deepseek.getByText('The DeepSeek key is invalid').waitFor();
    await deepseek.locator('.badge[data-status="invalid"]').waitFor();

    // the graph provider setting
    await page.getByLabel('Provider (GRAPHRAG_PROVIDER)').selectOption('deepseek');
    await page.getByRole('button', { name: 'Save provider' }).click();
    await page.getByText('Backfills now extract the graph with DeepSeek.').waitFor();
    const settings = await api.request<ListOf<MaskedSetting>>('GET', `/v1/tenants/${tenant.id}/settings`);
    expect(settings.body.items.find((s: { key: string }) => s.key === 'GRAPHRAG_PROVIDER')).toMatchObject({ value: 'deepseek' });
    await screenshot(page, 'keys');
    expect(await accessibilityViolations(page)).toEqual([]);

    // removing asks for confirmation, then the key is gone
    await deepseek.getByRole('button', { name: 'Remove key' }).click();
    await deepseek.getByRole('button', { name: 'Confirm: remove the DeepSeek key' }).click();
    await deepseek.getByText('The DeepSeek key was removed.').waitFor();
    await expectText(deepseek.locator('.badge'), 'Not set');
    const after = await api.request<ListOf<MaskedSetting>>('GET', `/v1/tenants/${tenant.id}/settings`);
    expect(after.body.items.map((s: { key: string }) => s.key).sort()).toEqual(['GRAPHRAG_PROVIDER', 'OPENAI_API_KEY']);
    expect(problems).toEqual([]);
  }, 30_000);

  it('adds and validates an Anthropic key, and makes Anthropic the graph provider', async () => {
    const { tenant, token } = await tenantWith();
    const { page, problems } = await open();
    await signIn(page, token);
    const anthropic = page.locator('article[data-provider="anthropic"]');
    await expectText(anthropic.locator('.badge'), 'Not set');

    await page.getByLabel('Anthropic API key', { exact: true }).fill(anthropicKey);
    await anthropic.getByRole('button', { name: 'Save key' }).click();
    await anthropic.getByText('Anthropic key saved (…6b1d)').waitFor();
    expect(await page.content()).not.toContain(anthropicKey);
    await anthropic.getByRole('button', { name: 'Validate now' }).click();
    await anthropic.getByText('The Anthropic key is valid').waitFor();
    await expectText(anthropic.locator('.badge'), 'Valid');
    expect(simulator.requestsFor('anthropic').map((r) => r.path)).toEqual(['/anthropic/v1/models/claude-haiku-4-5']);

    await page.getByLabel('Provider (GRAPHRAG_PROVIDER)').selectOption('anthropic');
    await page.getByRole('button', { name: 'Save provider' }).click();
    await page.getByText('Backfills now extract the graph with Anthropic.').waitFor();
    const settings = await api.request<ListOf<MaskedSetting>>('GET', `/v1/tenants/${tenant.id}/settings`);
    expect(settings.body.items.find((s: { key: string }) => s.key === 'GRAPHRAG_PROVIDER')).toMatchObject({ value: 'anthropic' });
    expect(problems).toEqual([]);
  }, 30_000);

  it('starts a backfill, shows its progress live until 30 records, then its history; a second start answers 409', async () => {
    const { token, workspaceId, marker } = await tenantWith({ records: 30, openaiKey });
    const { page, problems } = await open();
    await signIn(page, token);
    await page.getByRole('link', { name: 'Backfills' }).click();
    await page.getByText('No backfill has run on this workspace yet.').waitFor();
    await expectValue(page.getByLabel('Workspace'), workspaceId);
    const startButton = page.getByRole('button', { name: 'Start backfill' });
    await expectEnabled(startButton);

    // pages of 5 records, one call at a time: the job is held at the first record of page 3 (pages
    // 1 and 2 committed), then at the first of page 5 (pages 1 to 4), so the panel must show each
    // count while the job runs, from its own polls
    const atPage3 = simulator.gate({ marker: marker(10) });
    const atPage5 = simulator.gate({ marker: marker(20) });
    await startButton.click();
    // the estimate comes first; the backfill starts once confirmed
    await page.getByRole('button', { name: 'Confirm and start' }).click();
    const status = page.getByTestId('job-status');
    const processed = page.getByTestId('records-processed');
    await atPage3.waitForHeld(1);
    await expectText(status, 'Running');
    await expectText(processed, '10');
    await expectDisabled(startButton);
    atPage3.open();
    await atPage5.waitForHeld(1);
    await expectText(processed, '20');
    await expectText(status, 'Running');
    atPage5.open();

    await expectText(status, 'Succeeded', { timeoutMs: 20_000 });
    await expectText(processed, '30');
    await expectText(page.getByTestId('records-fetched'), '30');
    await waitUntil(
      'the entities of the panel',
      async () => Number(await page.getByTestId('entities').innerText()),
      (n) => n > 5,
      'more than 5',
    );
    await page.getByTestId('job-panel').getByText("OpenAI, tenant's key …4207").waitFor();
    await page.locator('[data-testid="history"] tbody tr').first().getByText('Succeeded').waitFor();
    await screenshot(page, 'backfill-succeeded');

    // another client starts a backfill, held at its first record so it stays active: this page's
    // Start answers 409, shows the message and follows that job
    const otherHeld = simulator.gate({ marker: marker(0) });
    const other = await api.request<JobStarted>('POST', `/v1/workspaces/${workspaceId}/backfills`, { token, body: {} });
    expect(other.status).toBe(202);
    await otherHeld.waitForHeld(1);
    await expectEnabled(startButton);
    await startButton.click();
    // the estimate comes first; the backfill starts once confirmed
    await page.getByRole('button', { name: 'Confirm and start' }).click();
    await page.getByText('A backfill is already active for this workspace').waitFor();
    await page.locator('[data-testid="history"] tbody tr').nth(1).waitFor();
    await page.locator(`[data-testid="history"] tbody tr[data-job-id="${other.body.jobId}"]`).waitFor();
    await expectText(status, 'Running');
    await expectDisabled(startButton);

    otherHeld.open();
    await expectText(status, 'Succeeded', { timeoutMs: 20_000 });
    await page.locator(`[data-testid="history"] tbody tr[data-job-id="${other.body.jobId}"]`).getByText('Succeeded').waitFor();
    await expectEnabled(startButton);
    expect(problems).toEqual([]);
  }, 45_000);

  it("chooses the source of a backfill (every source by default, or one) and shows each job's source in the panel and the history", async () => {
    const { token, workspaceId } = await tenantWith({ records: 4, openaiKey });
    const mbox = [
      'From mallory@example.test Mon Jan  6 09:00:00 2025',
      'Message-ID: <dash-mbox-1@example.test>',
      'Date: Mon, 06 Jan 2025 09:00:00 +0000',
      'From: mallory@example.test',
      'Subject: note',
      '',
      'Mallory Keane met Trent Oduya at Vector Labs.',
      '',
    ].join('\n');
    const imported = await api.request('POST', `/v1/workspaces/${workspaceId}/imports/mbox`, {
      token,
      raw: { data: mbox, contentType: 'application/mbox' },
    });
    expect(imported.body).toMatchObject({ accepted: 1 });
    const { page, problems } = await open();
    await signIn(page, token);
    await page.getByRole('link', { name: 'Backfills' }).click();
    await page.getByText('No backfill has run on this workspace yet.').waitFor();
    const source = page.getByLabel('Source');
    await expectValue(source, 'all');
    const startButton = page.getByRole('button', { name: 'Start backfill' });
    const status = page.getByTestId('job-status');

    // the default reads the API's 4 records and the mbox message
    await startButton.click();
    // the estimate comes first; the backfill starts once confirmed
    await page.getByRole('button', { name: 'Confirm and start' }).click();
    await expectText(status, 'Succeeded', { timeoutMs: 20_000 });
    await expectText(page.getByTestId('records-processed'), '5');
    await expectText(page.getByTestId('job-source'), 'All sources');
    await expectText(page.locator('[data-testid="history"] tbody tr').first().getByTestId('history-source'), 'All sources');

    // one source, chosen before Start
    await source.selectOption('mbox');
    await startButton.click();
    // the estimate comes first; the backfill starts once confirmed
    await page.getByRole('button', { name: 'Confirm and start' }).click();
    await expectText(page.getByTestId('job-source'), 'mbox imports');
    await expectText(status, 'Succeeded', { timeoutMs: 20_000 });
    await expectText(page.getByTestId('records-processed'), '1');
    await expectCount(page.locator('[data-testid="history"] tbody tr'), 2);
    expect(await page.getByTestId('history-source').allInnerTexts()).toEqual(['mbox imports', 'All sources']);
    const listed = await api.request<ListOf<{ source: string }>>('GET', `/v1/workspaces/${workspaceId}/backfills`, { token });
    expect(listed.body.items.map((b) => b.source)).toEqual(['mbox', 'all']);
    await screenshot(page, 'backfill-sources');
    expect(problems).toEqual([]);
  }, 45_000);

  it('draws the knowledge graph: filter by type, search by name, an entity with its mentions', async () => {
    const { token, workspaceId } = await tenantWith({ records: 30, openaiKey });
    const started = await api.request<JobStarted>('POST', `/v1/workspaces/${workspaceId}/backfills`, { token, body: {} });
    const job = await api.waitForBackfill(started.body.jobId);
    expect(job.status).toBe('succeeded');
    const all = await api.request<GraphPage>('GET', `/v1/workspaces/${workspaceId}/graph?limit=500`, { token });
    const entities = all.body.entities as { id: string; name: string; type: string }[];
    const organizations = entities.filter((e) => e.type === 'organization');
    expect(organizations.length).toBeGreaterThan(0);

    const { page, problems } = await open();
    await signIn(page, token);
    await page.getByRole('link', { name: 'Knowledge graph' }).click();
    await page.getByText(`Showing ${entities.length} of ${entities.length} entities;`).waitFor();
    await waitForEqual('the graph on the canvas', () => graphCounts(page), {
      nodes: entities.length,
      edges: all.body.relationships.length,
      visible: entities.length,
    });
    await expectCount(page.getByTestId('entity-list').getByRole('button'), entities.length);
    // positions came from the ForceAtlas2 worker (allowed by the CSP), not the fallback
    await expectAttribute(page.getByTestId('graph-canvas'), 'data-layout', 'forceatlas2');
    await screenshot(page, 'graph');

    // filter by type: the canvas and the list keep only organizations
    await page.getByLabel('Type', { exact: true }).selectOption('organization');
    await page
      .getByText(
        `Showing ${organizations.length} of ${organizations.length} ${organizations.length === 1 ? 'entity' : 'entities'} of type organization;`,
      )
      .waitFor();
    await waitForEqual('the visible nodes', async () => (await graphCounts(page))?.visible, organizations.length);
    await expectCount(page.getByTestId('entity-list').getByRole('button'), organizations.length);
    await page.getByLabel('Type', { exact: true }).selectOption('');

    // search by name
    await page.getByLabel('Search by name').fill('acme');
    await page.getByText('matching “acme”').waitFor();
    const acme = page.getByTestId('entity-list').getByRole('button', { name: /Acme Corp/ });
    await expectCount(acme, 1);
    await acme.click();
    const detail = page.getByTestId('entity-detail');
    await detail.getByRole('heading', { name: 'Acme Corp' }).waitFor();
    await detail.getByTestId('mentions').locator('li').first().waitFor();
    const acmeId = entities.find((e) => e.name === 'Acme Corp')!.id;
    const acmeDetail = await api.request<EntityDetail>('GET', `/v1/workspaces/${workspaceId}/graph/entities/${acmeId}`, { token });
    await expectCount(detail.getByTestId('mentions').locator('li'), acmeDetail.body.mentions.length);
    await expectVisible(detail.getByText(acmeDetail.body.mentions[0].subject).first());
    await expectText(detail.getByTestId('entity-description'), acmeDetail.body.description || 'No description.');
    await screenshot(page, 'graph-entity');
    expect(await accessibilityViolations(page)).toEqual([]);

    // a real click on the canvas, on another entity's node
    await page.getByLabel('Search by name').fill('');
    await page.keyboard.press('Escape');
    await page.getByText(`Showing ${entities.length} of ${entities.length} entities;`).waitFor();
    const target = entities.find((e) => e.type === 'person')!;
    const point = await page.evaluate((id) => {
      const cy = (globalThis as unknown as DashboardWindow).byokDashboard!.cy;
      cy.zoom(1.5);
      cy.center(cy.getElementById(id));
      const p = cy.getElementById(id).renderedPosition();
      const box = cy.container().getBoundingClientRect();
      return { x: box.left + p.x, y: box.top + p.y };
    }, target.id);
    await page.mouse.click(point.x, point.y);
    await detail.getByRole('heading', { name: target.name }).waitFor();
    await detail.getByTestId('mentions').locator('li').first().waitFor();

    // and the same without a mouse: Tab into the list, Enter on an entity
    await page.getByTestId('entity-list').getByRole('button').first().focus();
    await page.keyboard.press('Tab');
    await waitForEqual(
      'the focused entity',
      () => page.evaluate(() => (globalThis as unknown as DashboardWindow).document.activeElement?.dataset?.entityId),
      entities[1].id,
    );
    await page.keyboard.press('Enter');
    await detail.getByRole('heading', { name: entities[1].name }).waitFor();
    expect(problems).toEqual([]);
  }, 45_000);

  it('a backfill without a key fails with NO_API_KEY, its reason, the fix and a link to the keys page', async () => {
    const { tenant, token } = await tenantWith({ records: 5 });
    const { page, problems } = await open();
    await signIn(page, token);
    await page.getByRole('link', { name: 'Backfills' }).click();
    await page.getByText('No backfill has run on this workspace yet.').waitFor();
    await page.getByRole('button', { name: 'Start backfill' }).click();
    // the estimate comes first; the backfill starts once confirmed
    await page.getByRole('button', { name: 'Confirm and start' }).click();

    const failure = page.getByTestId('failure');
    await failure.waitFor({ timeout: 15_000 });
    await expectText(failure.getByTestId('failure-code'), 'NO_API_KEY');
    await expectText(
      failure.getByTestId('failure-reason'),
      `Skipping backfill: tenant ${tenant.subdomain} has no valid OPENAI_API_KEY. Add the key on the Provider keys page.`,
    );
    await expectText(failure.getByTestId('failure-fix'), /Add OPENAI_API_KEY on the Provider keys page/);
    await expectText(page.getByTestId('job-status'), 'Failed');
    await page.locator('[data-testid="history"] tbody tr').first().getByText('NO_API_KEY').waitFor();
    await screenshot(page, 'backfill-no-api-key');
    expect(await accessibilityViolations(page)).toEqual([]);

    await failure.getByRole('link', { name: 'Go to Provider keys' }).click();
    await page.getByRole('heading', { name: 'Provider keys', level: 1 }).waitFor();
    expect(page.url()).toContain('#/keys');
    await expectVisible(page.getByLabel('OpenAI API key', { exact: true }));

    // no graph was extracted: the graph page says so and points back to backfills
    await page.getByRole('link', { name: 'Knowledge graph' }).click();
    await page.getByTestId('graph-empty').getByText('This workspace has no graph yet').waitFor();
    await expectVisible(page.getByTestId('graph-empty').getByRole('link', { name: 'Go to Backfills' }));
    expect(problems).toEqual([]);
  }, 30_000);

  it('stays usable with a few thousand entities', async () => {
    // how fast it renders is measured by `npm run bench:dashboard`; this checks that it works
    const { token, workspaceId } = await tenantWith({ records: 0 });
    const n = 3000;
    const edgeCount = await seedSyntheticGraph(api.app.get(PrismaService), workspaceId, n);

    const { page, problems } = await open();
    await signIn(page, token);
    await page.getByRole('link', { name: 'Knowledge graph' }).click();
    // the 300 best-connected first
    await page.getByText('Showing 300 of 3,000 entities, the best connected first;').waitFor({ timeout: 30_000 });
    await waitForEqual('the graph on the canvas', () => graphCounts(page), { nodes: n, edges: edgeCount, visible: 300 });
    await expectAttribute(page.getByTestId('graph-canvas'), 'data-layout', 'forceatlas2');
    await screenshot(page, 'graph-3000');

    // the page still answers: search, then open an entity from the list
    await page.getByLabel('Search by name').fill('Entity 1234');
    await page.getByText('Showing 1 of 1 entity matching “Entity 1234”').waitFor();
    await page
      .getByTestId('entity-list')
      .getByRole('button', { name: /Entity 1234/ })
      .press('Enter');
    await page.getByTestId('entity-detail').getByRole('heading', { name: 'Entity 1234' }).waitFor();
    await page.getByTestId('entity-detail').getByText('Mentioned in 0 records').waitFor();
    // pan and zoom from the keyboard
    const zoom = () => page.evaluate(() => (globalThis as unknown as DashboardWindow).byokDashboard!.cy.zoom());
    const panX = () => page.evaluate(() => (globalThis as unknown as DashboardWindow).byokDashboard!.cy.pan().x);
    const before = await zoom();
    await page.getByTestId('graph-canvas').focus();
    await page.keyboard.press('+');
    await waitUntil('the zoom', zoom, (level) => level > before, `more than ${before}`);
    const panBefore = await panX();
    await page.keyboard.press('ArrowLeft');
    await waitUntil('the horizontal pan', panX, (x) => x > panBefore, `more than ${panBefore}`);
    expect(problems).toEqual([]);
  }, 60_000);
});
