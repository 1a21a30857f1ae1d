import { describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { PrismaService } from '#libs/database';
import { RecordIngestService } from '#libs/records';
import { emailRecords } from '#libs/testing';
import { accessibilityViolations, dashboardSuite, expectVisible, screenshot, seedMailboxGraph, waitUntil } from './dashboard-browser.js';

/** Every page of the dashboard, as its navigation names it, and something each shows once its data has loaded. */
const PAGES: { hash: string; heading: string; loaded: (page: Page) => Promise<void> }[] = [
  { hash: '#/keys', heading: 'Provider keys', loaded: (page) => expectVisible(page.getByLabel('Replace the OpenAI API key')) },
  {
    hash: '#/backfills',
    heading: 'Backfills',
    loaded: async (page) => {
      await expectVisible(page.getByTestId('history').locator('tbody tr').nth(1));
      // the newest backfill failed: the panel lists its failed records, a table of its own
      await expectVisible(page.getByTestId('failed-records-list').locator('tbody tr').first());
    },
  },
  { hash: '#/mailbox', heading: 'Mailbox', loaded: (page) => expectVisible(page.getByRole('button', { name: /Connect|Save/ }).first()) },
  { hash: '#/graph', heading: 'Knowledge graph', loaded: (page) => expectVisible(page.locator('[data-testid="graph-canvas"][data-layout]')) },
  { hash: '#/usage', heading: 'Usage', loaded: (page) => expectVisible(page.getByTestId('usage-table').locator('tbody tr').first()) },
  { hash: '#/tokens', heading: 'Tokens', loaded: (page) => expectVisible(page.getByTestId('tokens').locator('tbody tr').first()) },
  { hash: '#/webhooks', heading: 'Webhooks', loaded: (page) => expectVisible(page.getByTestId('webhooks').locator('tbody tr').first()) },
  { hash: '#/audit', heading: 'Audit log', loaded: (page) => expectVisible(page.getByTestId('audit-events').locator('tbody tr').first()) },
];

/** The document's scroll width, and the outermost elements whose right edge passes `width` (runs in the page). */
function pageWidth(width: number): { scrollWidth: number; past: string[] } {
  const { document } = globalThis as unknown as {
    document: { documentElement: { scrollWidth: number }; querySelectorAll(s: string): Iterable<PageElement> };
  };
  const past = [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > width + 0.5);
  const outermost = past.filter((e) => !past.some((other) => other !== e && other.contains(e)));
  return {
    scrollWidth: document.documentElement.scrollWidth,
    past: outermost.slice(0, 5).map((e) => `${e.tagName.toLowerCase()}.${e.className} (${Math.round(e.getBoundingClientRect().right)})`),
  };
}
interface PageElement {
  tagName: string;
  className: string;
  getBoundingClientRect(): { right: number };
  contains(other: PageElement): boolean;
}

/** The dashboard as a whole: every page at a laptop's width and a phone's, in headless Chromium against the real API. */
describe('Dashboard pages at desktop and phone widths (e2e)', () => {
  const suite = dashboardSuite({ LOG_LEVEL: 'warn', EGRESS_ALLOW_HTTP: 'true', EGRESS_ALLOWED_CIDRS: '127.0.0.2/32' });

  /** A tenant with something on every page: keys, backfills (one failed, with failed records), usage, tokens, a webhook, a graph. */
  async function busyTenant(): Promise<string> {
    const { api } = suite;
    const prisma = api.app.get(PrismaService);
    const tenant = await api.newTenant({ subdomain: `pages-${randomBytes(3).toString('hex')}` });
    const token = await api.newTenantToken(tenant.id);
    await api.newTenantToken(tenant.id);
    const key = `sk-pages-${randomBytes(12).toString('hex')}-7f3a`;
    expect((await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { token, body: { value: key } })).status).toBe(200);
    const workspace = await api.newWorkspace(tenant.id, 'Support inbox with a rather long name for a narrow screen');
    const ingest = await api.app.get(RecordIngestService).ingest(workspace.id, JSON.stringify(emailRecords(3)), 'json');
    expect(ingest.accepted).toBe(3);
    const records = await prisma.sourceRecord.findMany({ where: { workspaceId: workspace.id }, orderBy: { seq: 'asc' } });
    const finished = new Date();
    const failedId = randomUUID();
    await prisma.backfill.createMany({
      data: [
        {
          workspaceId: workspace.id,
          tenantId: tenant.id,
          source: 'all',
          status: 'succeeded',
          createdAt: new Date(finished.getTime() - 60_000),
          recordsFetched: 1200,
          recordsProcessed: 1200,
          entities: 1067,
          relationships: 2345,
          provider: 'openai',
          keySource: 'tenant',
          keyFingerprint: 'f'.repeat(64),
          keyLast4: '7f3a',
          startedAt: finished,
          finishedAt: finished,
        },
        {
          id: failedId,
          workspaceId: workspace.id,
          tenantId: tenant.id,
          source: 'mbox',
          status: 'failed',
          createdAt: finished,
          failureCode: 'EXTRACTION_FAILURE_BUDGET',
          failureMessage: 'Too many records could not be extracted: 3 of the first 3 records failed (the budget allows 20%).',
          recordsFetched: 3,
          recordsFailed: 3,
          provider: 'openai',
          keySource: 'tenant',
          keyFingerprint: 'f'.repeat(64),
          keyLast4: '7f3a',
          startedAt: finished,
          finishedAt: finished,
        },
      ],
    });
    await prisma.backfillRecordFailure.createMany({
      data: records.map((record) => ({
        backfillId: failedId,
        workspaceId: workspace.id,
        recordId: record.id,
        recordSeq: record.seq,
        code: 'EXTRACTION_INVALID_JSON',
        reason: 'The answer was not valid JSON after a repair attempt: Unexpected token at position 4,096 of the completion',
        finishReason: 'length',
        attempts: 3,
      })),
    });
    const today = new Date(Date.UTC(finished.getUTCFullYear(), finished.getUTCMonth(), finished.getUTCDate()));
    await prisma.usageDaily.createMany({
      data: [
        {
          tenantId: tenant.id,
          day: today,
          provider: 'openai',
          model: 'gpt-4o-mini-2024-07-18',
          keySource: 'tenant',
          calls: 1200n,
          inputTokens: 2_400_000n,
          outputTokens: 360_000n,
          costMicroUsd: 576_000n,
        },
        {
          tenantId: tenant.id,
          day: today,
          provider: 'anthropic',
          model: 'claude-3-5-haiku-20241022',
          keySource: 'request',
          calls: 12n,
          inputTokens: 24_000n,
          outputTokens: 3_600n,
          costMicroUsd: 33_600n,
        },
      ],
    });
    const hook = await api.request('POST', `/v1/tenants/${tenant.id}/webhooks`, {
      token,
      body: {
        url: 'http://127.0.0.2:9/hooks/byok/backfills-and-keys-with-a-long-path-that-does-not-wrap',
        description: 'The operations team’s incident channel',
        events: ['backfill.succeeded', 'backfill.failed', 'key.invalid', 'budget.threshold'],
      },
    });
    expect(hook.status).toBe(201);
    await seedMailboxGraph(prisma, workspace.id, 120);
    return token;
  }

  it('shows every page at 1440 and 390 px wide with no accessibility violation, no horizontal page scroll and the favicon', async () => {
    const token = await busyTenant();
    const { page, problems } = await suite.signedIn(token);

    // the favicon: an SVG of the bundle, named by the page and served with its type under the page's CSP
    const href = await page.locator('link[rel="icon"]').getAttribute('href');
    expect(href).toMatch(/^\/dashboard\/favicon-[A-Z0-9]{8}\.svg$/);
    const icon = await suite.api.fetch(href!);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    expect(await icon.text()).toContain('<svg');
    expect(await page.evaluate(`fetch(${JSON.stringify(href)}).then((r) => r.status)`)).toBe(200);

    for (const width of [1440, 390]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
      for (const { hash, heading, loaded } of PAGES) {
        await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
        await expectVisible(page.getByRole('heading', { name: heading, level: 1 }));
        await loaded(page);
        // pages are named as the navigation names them: no message sends anyone to a "Settings" page
        expect(await page.locator('main').innerText()).not.toMatch(/\bSettings\b/);
        const name = `page-${hash.slice(2)}-${width}`;
        await screenshot(page, name);
        // the page's width, and the outermost elements reaching past the screen (which the failure names)
        await waitUntil(
          `the page width of ${hash} at ${width} px`,
          () => page.evaluate(pageWidth, width),
          (seen) => seen.scrollWidth <= width,
          `at most ${width}`,
        );
        expect({ page: name, violations: await accessibilityViolations(page) }).toEqual({ page: name, violations: [] });
      }
    }

    // and the page before all of them: signing in
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expectVisible(page.getByRole('heading', { name: 'Sign in to the dashboard', level: 1 }));
    for (const width of [1440, 390]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
      await screenshot(page, `page-sign-in-${width}`);
      await waitUntil(
        `the page width of the sign-in page at ${width} px`,
        () => page.evaluate(pageWidth, width),
        (seen) => seen.scrollWidth <= width,
        `at most ${width}`,
      );
      expect(await accessibilityViolations(page)).toEqual([]);
    }
    expect(problems).toEqual([]);
  }, 120_000);
});
