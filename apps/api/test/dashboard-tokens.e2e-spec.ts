import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { accessibilityViolations, dashboardSuite, expectCount, expectText, expectVisible, screenshot } from './dashboard-browser.js';

/** The dashboard's tokens page, in headless Chromium against the real API. */
describe('Dashboard tokens in a browser (e2e)', () => {
  const suite = dashboardSuite();

  it('creates a read token shown once, lists tokens by prefix, revokes one, and rotates its own token without being signed out', async () => {
    const { api } = suite;
    const tenant = await api.newTenant({ subdomain: `tokens-${randomBytes(3).toString('hex')}` });
    const token = await api.newTenantToken(tenant.id);

    const dashboard = await suite.signedIn(token);
    const { page } = dashboard;
    await page.getByRole('link', { name: 'Tokens' }).click();
    await expectVisible(page.getByRole('heading', { name: 'Tokens', level: 1 }));
    const rows = page.getByTestId('tokens').locator('tbody tr');
    await expectCount(rows, 1);
    await expectText(rows.nth(0), /this session/);

    await page.getByLabel('Name').fill('Reporting');
    await page.getByLabel('Scope').selectOption('read');
    await page.getByLabel('Expires in (days)').fill('30');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = page.getByTestId('token-secret');
    await expectVisible(secret);
    const created = await secret.inputValue();
    expect(created).toMatch(/^tt_/);
    await expectCount(rows, 2);
    await expectText(rows.nth(0), /Reporting/);
    await expectText(rows.nth(0), /Read only/);
    await expectText(rows.nth(0), new RegExp(`${created.slice(0, 11)}…`));
    // the secret is in the one-time box only, never in the list
    expect(await page.getByTestId('tokens').innerText()).not.toContain(created);
    expect((await api.request('GET', '/v1/me', { token: created })).status).toBe(200);

    await page.getByRole('button', { name: 'Revoke token Reporting' }).click();
    await page.getByRole('button', { name: 'Confirm: revoke Reporting' }).click();
    await expectText(rows.nth(0), /Revoked/);
    expect((await api.request('GET', '/v1/me', { token: created })).status).toBe(401);

    // rotating the token this tab signed in with: the tab carries on with the new one
    await page.getByRole('button', { name: 'Rotate token token' }).click();
    await expectVisible(page.getByRole('heading', { name: 'Token "token" rotated' }));
    const replacement = await page.getByTestId('token-secret').inputValue();
    await expectCount(rows, 3);
    expect((await api.request('GET', '/v1/me', { token })).status).toBe(401);
    expect((await api.request('GET', '/v1/me', { token: replacement })).status).toBe(200);
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'tokens');
    await page.getByRole('link', { name: 'Audit log' }).click();
    await expectVisible(page.getByRole('heading', { name: 'Audit log', level: 1 }));
    await expectText(page.getByTestId('audit-events').locator('tbody tr').nth(0), /Token rotated/);

    expect(dashboard.problems).toEqual([]);
  });
});
