import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { accessibilityViolations, dashboardSuite, expectCount, expectText, expectVisible, screenshot } from './dashboard-browser.js';

/** The dashboard's audit log page, in headless Chromium against the real API. */
describe('Dashboard audit log in a browser (e2e)', () => {
  const suite = dashboardSuite();

  it('lists the changes newest first with actor, key last4 and address, filters by action, and never shows a key', async () => {
    const { api } = suite;
    const tenant = await api.newTenant({ subdomain: `audit-${randomBytes(3).toString('hex')}` });
    const token = await api.newTenantToken(tenant.id);
    const first = `sk-audit-${randomBytes(12).toString('hex')}-1111`;
    const second = `sk-audit-${randomBytes(12).toString('hex')}-2222`;
    for (const value of [first, second]) {
      const put = await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { token, body: { value } });
      expect(put.status).toBe(200);
    }

    const dashboard = await suite.signedIn(token);
    const { page } = dashboard;
    await page.getByRole('link', { name: 'Audit log' }).click();
    await expectVisible(page.getByRole('heading', { name: 'Audit log', level: 1 }));
    const rows = page.getByTestId('audit-events').locator('tbody tr');
    await expectCount(rows, 3);
    await expectText(rows.nth(0), /Setting saved/);
    await expectText(rows.nth(0).getByTestId('key-before'), /…1111/);
    await expectText(rows.nth(0).getByTestId('key-after'), /…2222/);
    await expectText(rows.nth(0), /Tenant token/);
    await expectText(rows.nth(0), /127\.0\.0\.1/);
    await expectText(rows.nth(2), /Token created/);
    await expectText(rows.nth(2), /Platform admin/);

    await page.getByLabel('Action').selectOption('token.create');
    await expectCount(rows, 1);
    await expectText(rows.nth(0), /Token created/);

    const text = await page.locator('body').innerText();
    expect([first, second].filter((key) => text.includes(key.slice(0, 20)))).toEqual([]);
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(dashboard.problems).toEqual([]);
    await screenshot(page, 'audit-log');
  });
});
