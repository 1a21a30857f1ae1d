import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { RecordIngestService } from '#libs/records';
import { emailRecords, FAULT_MARKERS, ProviderSimulator, simulatorEnv } from '#libs/testing';
import { ApiHarness } from './api-harness.js';
import {
  accessibilityViolations,
  type DashboardPage,
  ensureDashboardBuilt,
  expectCount,
  expectText,
  launchBrowser,
  openDashboard,
  screenshot,
  signIn,
} from './dashboard-browser.js';

/** The dashboard's failed-records panel: the count, the top causes with their fix, the list, and a retry that clears them. */
describe('Failed records in the dashboard (e2e)', () => {
  const key = `sk-dash-fail-${randomBytes(12).toString('hex')}-7777`;
  const simulator = new ProviderSimulator({ validKeys: { openai: [key] } });
  let api: ApiHarness;
  let browser: Browser;
  const opened: DashboardPage[] = [];

  beforeAll(async () => {
    ensureDashboardBuilt();
    const [urls, launched] = await Promise.all([simulator.start(), launchBrowser()]);
    browser = launched;
    api = await ApiHarness.start({ ...simulatorEnv(urls), SYNC_PAGE_SIZE: '10', LOG_LEVEL: 'warn' }, { worker: true });
  }, 60_000);
  afterEach(() => simulator.reset());
  afterAll(async () => {
    await Promise.all(opened.map((o) => o.close()));
    await browser?.close();
    await api?.close();
    await simulator.stop();
  });

  it('shows how many records failed and why, lists them, and retries only them', async () => {
    const tenant = await api.newTenant({ subdomain: `dash-fail-${randomBytes(3).toString('hex')}` });
    const workspace = await api.newWorkspace(tenant.id, 'Support inbox');
    await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: key } });
    const faults: Record<number, string> = { 2: FAULT_MARKERS.refusal, 5: FAULT_MARKERS.refusal, 8: FAULT_MARKERS.safety };
    const records = emailRecords(20).map((record, index) => (faults[index] ? { ...record, body: `${record.body} ${faults[index]}` } : record));
    await api.app.get(RecordIngestService).ingest(workspace.id, JSON.stringify(records), 'json');
    const token = await api.newTenantToken(tenant.id);

    const dashboard = await openDashboard(browser, api.baseUrl);
    opened.push(dashboard);
    const { page, problems } = dashboard;
    await signIn(page, token);
    await page.getByRole('link', { name: 'Backfills' }).click();
    await page.getByText('No backfill has run on this workspace yet.').waitFor();
    await page.getByRole('button', { name: 'Start backfill' }).click();
    // the estimate comes first; the backfill starts once confirmed
    await page.getByRole('button', { name: 'Confirm and start' }).click();

    await expectText(page.getByTestId('job-status'), 'Succeeded', { timeoutMs: 20_000 });
    await expectText(page.getByTestId('records-failed'), '3');
    const panel = page.getByTestId('failed-records');
    await expectText(panel.getByRole('heading', { level: 3 }), '3 records could not be extracted');
    // the most common cause first, with what to do about it
    await expectText(panel.getByTestId('failure-summary').locator('li').first(), /The model refused: 2 EXTRACTION_REFUSED/);
    await expectText(panel.getByTestId('failure-summary'), /Blocked by the provider's safety filter: 1 CONTENT_BLOCKED/);
    await expectCount(panel.getByTestId('failed-records-list').locator('tbody tr'), 3);
    await expectText(panel.getByTestId('failed-records-list'), new RegExp(records[2].externalId.replace(/[.@]/g, '\\$&')));
    await screenshot(page, 'backfill-failed-records');
    expect(await accessibilityViolations(page)).toEqual([]);

    // the provider answers now: the retry reads only the three failed records, and clears them
    simulator.setFaults(false);
    simulator.clear();
    await panel.getByRole('button', { name: 'Retry failed records' }).click();
    await expectText(page.getByTestId('job-status'), 'Succeeded', { timeoutMs: 20_000 });
    await expectText(page.getByTestId('records-processed'), '3');
    await expectText(page.getByTestId('records-failed'), '0');
    expect(simulator.requests).toHaveLength(3);
    await expectCount(page.getByTestId('failed-records'), 0);
    expect(problems).toEqual([]);
  }, 60_000);
});
