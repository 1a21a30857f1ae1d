import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { RecordIngestService } from '#libs/records';
import { emailRecords, ProviderSimulator, simulatorEnv } from '#libs/testing';
import { ApiHarness } from './api-harness.js';
import {
  accessibilityViolations,
  type DashboardPage,
  ensureDashboardBuilt,
  expectAttribute,
  expectCount,
  expectText,
  expectVisible,
  launchBrowser,
  openDashboard,
  screenshot,
  signIn,
  waitUntil,
} from './dashboard-browser.js';

interface Totals {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  costMicroUsd: number;
}
interface UsageReport {
  items: (Totals & { key: string })[];
  totals: Totals;
}
interface Estimate {
  records: number;
  characters: number;
  estimatedInputTokens: number;
  estimatedOutputTokens: number;
  estimatedCostMicroUsd: number;
  provider: string;
  model: string;
  pricesAsOf: string;
}
interface BackfillWithUsage {
  id: string;
  status: string;
  usage: { inputTokens: number; outputTokens: number; costMicroUsd: number; model: string | null };
}

/** Numbers as the dashboard writes them (the browser's locale is en-US). */
const count = (n: number) => n.toLocaleString('en-US');
/** Costs as the dashboard writes them (apps/api/dashboard/src/money.ts): 2 decimals from $1, 4 below. */
function usd(microUsd: number): string {
  if (microUsd > 0 && microUsd < 100) return '< $0.0001';
  const value = microUsd / 1_000_000;
  return `$${value.toLocaleString('en-US', { minimumFractionDigits: value >= 1 ? 2 : 4, maximumFractionDigits: value >= 1 ? 2 : 4 })}`;
}

/** The usage page, the budget and the estimate before Start, in headless Chromium against the real API and worker. */
describe('Dashboard usage, budget and estimate in a browser (e2e)', () => {
  const key = `sk-dash-usage-${randomBytes(12).toString('hex')}-4321`;
  const simulator = new ProviderSimulator({ validKeys: { openai: [key] } });
  let api: ApiHarness;
  let browser: Browser;
  const opened: DashboardPage[] = [];

  beforeAll(async () => {
    ensureDashboardBuilt();
    const [urls, launched] = await Promise.all([simulator.start(), launchBrowser()]);
    browser = launched;
    api = await ApiHarness.start({ ...simulatorEnv(urls), SYNC_PAGE_SIZE: '5', LOG_LEVEL: 'warn' }, { worker: true });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(opened.map((o) => o.close()));
    await browser?.close();
    await api?.close();
    await simulator.stop();
  });

  async function signedIn(token: string): Promise<DashboardPage> {
    const dashboard = await openDashboard(browser, api.baseUrl);
    opened.push(dashboard);
    await signIn(dashboard.page, token);
    return dashboard;
  }

  /** The grouped table's row for `key`: its figures as shown, and its cost in micro-USD as the cell carries it. */
  async function tableRow(page: Page, rowKey: string) {
    const row = page.getByTestId('usage-table').locator(`tbody tr[data-key="${rowKey}"]`);
    const cost = row.getByTestId('cost');
    return {
      calls: (await row.getByTestId('calls').innerText()).trim(),
      inputTokens: (await row.getByTestId('input-tokens').innerText()).trim(),
      outputTokens: (await row.getByTestId('output-tokens').innerText()).trim(),
      cost: (await cost.innerText()).trim(),
      costMicroUsd: Number(await cost.getAttribute('data-micro-usd')),
    };
  }
  const shown = (totals: Totals) => ({
    calls: count(totals.calls),
    inputTokens: count(totals.inputTokens),
    outputTokens: count(totals.outputTokens),
    cost: usd(totals.costMicroUsd),
    costMicroUsd: totals.costMicroUsd,
  });

  it('shows the estimate before Start, starts from it, then charts the usage, tables it as the API does, and sets a hard budget that stops the next backfill', async () => {
    const tenant = await api.newTenant({ subdomain: `dash-usage-${randomBytes(3).toString('hex')}` });
    const workspace = await api.newWorkspace(tenant.id, 'Sales inbox');
    await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: key } });
    await api.app.get(RecordIngestService).ingest(workspace.id, JSON.stringify(emailRecords(12)), 'json');
    const token = await api.newTenantToken(tenant.id);
    const { page, problems } = await signedIn(token);

    // the estimate first, equal to the API's; the backfill starts only once confirmed
    const expected = (await api.request<Estimate>('POST', `/v1/workspaces/${workspace.id}/backfills/estimate`, { token, body: { source: 'all' } }))
      .body;
    expect(expected.records).toBe(12);
    await page.getByRole('link', { name: 'Backfills' }).click();
    await page.getByText('No backfill has run on this workspace yet.').waitFor();
    await page.getByRole('button', { name: 'Start backfill' }).click();
    const estimate = page.getByTestId('estimate');
    await expectText(estimate.getByTestId('estimate-records'), '12');
    await expectText(estimate.getByTestId('estimate-characters'), count(expected.characters));
    await expectText(
      estimate.getByTestId('estimate-tokens'),
      `${count(expected.estimatedInputTokens + expected.estimatedOutputTokens)} (${count(expected.estimatedInputTokens)} in, ${count(expected.estimatedOutputTokens)} out)`,
    );
    await expectText(estimate.getByTestId('estimate-cost'), usd(expected.estimatedCostMicroUsd));
    await expectText(estimate.getByTestId('estimate-model'), `OpenAI, ${expected.model}`);
    await expectText(estimate.getByTestId('estimate-prices-as-of'), expected.pricesAsOf);
    expect(simulator.requests).toHaveLength(0);
    const listedBefore = await api.request<{ items: unknown[] }>('GET', `/v1/workspaces/${workspace.id}/backfills`, { token });
    expect(listedBefore.body.items).toHaveLength(0);
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'backfill-estimate');

    await page.getByRole('button', { name: 'Confirm and start' }).click();
    await expectText(page.getByTestId('job-status'), 'Succeeded', { timeoutMs: 20_000 });
    await waitUntil(
      'the estimate once started',
      () => estimate.isVisible(),
      (visible) => !visible,
      'hidden',
    );
    const { items: jobs } = (await api.request<{ items: BackfillWithUsage[] }>('GET', `/v1/workspaces/${workspace.id}/backfills`, { token })).body;
    expect(jobs).toHaveLength(1);
    const job = jobs[0];
    expect(job.usage.inputTokens).toBeGreaterThan(0);
    expect(job.usage.costMicroUsd).toBeGreaterThan(0);
    const historyRow = page.locator(`[data-testid="history"] tbody tr[data-job-id="${job.id}"]`);
    await expectText(historyRow.getByTestId('history-tokens'), count(job.usage.inputTokens + job.usage.outputTokens));
    await expectText(historyRow.getByTestId('history-cost'), usd(job.usage.costMicroUsd));
    await expectText(
      page.getByTestId('job-usage'),
      `${count(job.usage.inputTokens + job.usage.outputTokens)} tokens · ${usd(job.usage.costMicroUsd)} (gpt-4o-mini)`,
    );

    // the usage page: this month by day, drawn and tabled as the API reports it
    const byDay = (await api.request<UsageReport>('GET', `/v1/tenants/${tenant.id}/usage`, { token })).body;
    expect(byDay.items).toHaveLength(1);
    expect(byDay.totals.costMicroUsd).toBe(job.usage.costMicroUsd);
    await page.getByRole('link', { name: 'Usage' }).click();
    await expectVisible(page.getByRole('heading', { name: 'Usage', level: 1 }));
    const canvas = page.getByTestId('usage-chart').locator('canvas');
    const box = await waitUntil(
      'the chart canvas',
      async () => (await canvas.boundingBox()) ?? { width: 0, height: 0 },
      (b) => b.width > 100 && b.height > 100,
      'drawn',
    );
    expect(box.width).toBeGreaterThan(100);
    await expectCount(page.getByTestId('usage-table').locator('tbody tr'), 2);
    expect(await tableRow(page, byDay.items[0].key)).toEqual(shown(byDay.items[0]));
    expect(await tableRow(page, 'total')).toEqual(shown(byDay.totals));
    await expectText(page.getByTestId('total-cost'), usd(byDay.totals.costMicroUsd));

    for (const groupBy of ['model', 'job'] as const) {
      const grouped = (await api.request<UsageReport>('GET', `/v1/tenants/${tenant.id}/usage?groupBy=${groupBy}`, { token })).body;
      await page.getByLabel('Group by').selectOption(groupBy);
      await expectText(page.getByRole('heading', { name: `By ${groupBy}` }), `By ${groupBy}`);
      const rowKey = groupBy === 'model' ? 'openai/gpt-4o-mini' : job.id;
      expect(grouped.items.map((i) => i.key)).toEqual([rowKey]);
      await page.getByTestId('usage-table').locator(`tbody tr[data-key="${rowKey}"]`).waitFor();
      expect(await tableRow(page, rowKey)).toEqual(shown(grouped.items[0]));
    }
    // the chart's figures stay readable as text when the table is grouped otherwise
    await expectVisible(page.getByText('Daily figures of the chart'));

    // the budget: none, a refusal of the API shown as it says it, then a hard budget
    const budget = page.getByTestId('budget');
    await expectVisible(budget.getByTestId('budget-none'));
    await budget.getByLabel('Monthly limit').fill('0');
    await budget.getByRole('button', { name: 'Save budget' }).click();
    await expectText(budget.locator('.message-error'), /monthlyLimitUsd must be more than 0/);
    await budget.getByLabel('Monthly limit').fill('10');
    await budget.getByLabel('Mode').selectOption('hard');
    await budget.getByLabel('Per-job cap (USD, optional)').fill('2');
    await budget.getByRole('button', { name: 'Save budget' }).click();
    await expectText(budget.locator('.message-success'), 'Budget saved.');
    await expectText(budget.getByTestId('budget-limit'), '$10.00 a month');
    await expectText(budget.getByTestId('budget-mode'), 'Hard');
    await expectText(budget.getByTestId('budget-per-job'), '$2.00');
    const stored = (
      await api.request<{ budget: Record<string, unknown>; spent: { costMicroUsd: number } }>('GET', `/v1/tenants/${tenant.id}/budget`, { token })
    ).body;
    expect(stored.budget).toMatchObject({ monthlyLimitUsd: 10, monthlyLimitTokens: null, mode: 'hard', perJobLimitUsd: 2 });
    expect(stored.spent.costMicroUsd).toBe(job.usage.costMicroUsd);
    await expectAttribute(budget.getByTestId('budget-meter'), 'value', String(stored.spent.costMicroUsd / 1_000_000 / 10));
    await expectText(budget.locator('label[for="budget-meter"]'), new RegExp(`${usd(stored.spent.costMicroUsd).replace(/[$.]/g, '\\$&')} and`));
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'usage');

    // on a phone's width nothing runs off the side, the chart included
    await page.setViewportSize({ width: 390, height: 844 });
    await waitUntil(
      'the page width at 390 px',
      () =>
        page.evaluate(
          '[document.documentElement.scrollWidth, document.querySelector("[data-testid=usage-chart] canvas").getBoundingClientRect().right]',
        ),
      (widths) => (widths as number[]).every((w) => w <= 390),
      'at most 390',
    );
    await screenshot(page, 'usage-390');
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(problems).toEqual([]);

    // a read-scope token sees the budget, and no way to change it
    const reader = await api.request<{ token: string }>('POST', `/v1/tenants/${tenant.id}/tokens`, { body: { name: 'reader', scope: 'read' } });
    const second = await signedIn(reader.body.token);
    await second.page.getByRole('link', { name: 'Usage' }).click();
    const readOnly = second.page.getByTestId('budget');
    await expectVisible(readOnly.getByTestId('budget-read-only'));
    await expectText(readOnly.getByTestId('budget-limit'), '$10.00 a month');
    await expectCount(readOnly.getByRole('button', { name: 'Save budget' }), 0);
    expect(await accessibilityViolations(second.page)).toEqual([]);
    expect(second.problems).toEqual([]);

    // removing it, after a confirmation
    await budget.getByRole('button', { name: 'Remove budget' }).click();
    await budget.getByRole('button', { name: 'Confirm: remove the budget' }).click();
    await expectVisible(budget.getByTestId('budget-none'));
    expect((await api.request<{ budget: unknown }>('GET', `/v1/tenants/${tenant.id}/budget`, { token })).body.budget).toBeNull();

    // a range the API refuses: its message, as it says it
    await page.getByLabel('From').fill('2026-11-20');
    await page.getByLabel('To (included)').fill('2026-11-10');
    await page.getByRole('button', { name: 'Show usage' }).click();
    await expectText(page.locator('.message-error').first(), /to must be a day after from/);

    // a hard budget in tokens that the month has spent: the next backfill fails at pre-flight, and the page says what to do
    await page.setViewportSize({ width: 1440, height: 900 });
    await api.request('PUT', `/v1/tenants/${tenant.id}/budget`, { token, body: { monthlyLimitTokens: 100, mode: 'hard' } });
    const callsBefore = simulator.requests.length;
    await page.getByRole('link', { name: 'Backfills' }).click();
    await page.getByRole('button', { name: 'Start backfill' }).click();
    await page.getByRole('button', { name: 'Confirm and start' }).click();
    await expectText(page.getByTestId('failure-code'), 'BUDGET_EXCEEDED', { timeoutMs: 20_000 });
    await expectText(page.getByTestId('failure-fix'), /Raise the budget/);
    await expectVisible(page.getByRole('link', { name: 'Go to Usage' }));
    expect(simulator.requests).toHaveLength(callsBefore);
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  }, 90_000);
});
