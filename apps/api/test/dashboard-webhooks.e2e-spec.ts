import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { WebhookReceiver } from '#libs/testing';
import { accessibilityViolations, dashboardSuite, expectCount, expectText, expectVisible, screenshot, waitUntil } from './dashboard-browser.js';

/** The dashboard's webhooks page, in headless Chromium against the real API and an in-process worker. */
describe('Dashboard webhooks in a browser (e2e)', () => {
  const receiver = new WebhookReceiver();
  beforeAll(() => receiver.start('127.0.0.2'));
  afterAll(() => receiver.stop());
  const suite = dashboardSuite(
    { LOG_LEVEL: 'warn', EGRESS_ALLOW_HTTP: 'true', EGRESS_ALLOWED_CIDRS: '127.0.0.2/32', WEBHOOK_DISPATCH_INTERVAL_MS: '100' },
    { worker: true },
  );

  it('creates a webhook (secret shown once), sends a test the receiver verifies, shows the log, disables, rotates and deletes it', async () => {
    const { api } = suite;
    const tenant = await api.newTenant({ subdomain: `hooks-${randomBytes(3).toString('hex')}` });
    const dashboard = await suite.signedIn(await api.newTenantToken(tenant.id));
    const { page } = dashboard;
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await expectVisible(page.getByRole('heading', { name: 'Webhooks', level: 1 }));

    // a refused URL: the API's reason, nothing created
    await page.getByLabel('Endpoint URL').fill('http://169.254.169.254/latest/meta-data');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await expectText(page.locator('.message-error'), /Error: 169.254.169.254 is a link-local address/);

    await page.getByLabel('Endpoint URL').fill(receiver.url('/dashboard'));
    await page.getByLabel('Description (optional)').fill('Ops alerts');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    const secretBox = page.getByTestId('webhook-secret');
    await expectVisible(secretBox);
    const secret = await secretBox.inputValue();
    expect(secret).toMatch(/^whsec_/);
    const rows = page.getByTestId('webhooks').locator('tbody tr');
    await expectCount(rows, 1);
    await expectText(rows.nth(0), new RegExp(`whsec_…${secret.slice(-4).replace(/[+/]/g, '\\$&')}`));
    await expectText(rows.nth(0), /backfill\.succeeded, backfill\.failed, key\.invalid/);
    expect(await page.getByTestId('webhooks').innerText()).not.toContain(secret);

    await page.getByRole('button', { name: 'Send test to Ops alerts' }).click();
    await expectText(page.locator('.message-success'), /Test event queued/);
    const log = page.getByTestId('delivery-log');
    await expectVisible(log);
    // the ping is sent by the worker: refresh until the log shows it delivered
    await waitUntil(
      'the delivery log',
      async () => {
        await log.getByRole('button', { name: 'Refresh' }).click();
        return log.innerText();
      },
      (text) => text.includes('Delivered'),
      'showing the ping delivered',
    );
    await expectText(log.locator('tbody tr').nth(0), /webhook\.test.*1.*Delivered.*204/s);
    const [ping] = receiver.to('/dashboard');
    expect(WebhookReceiver.verify(secret, ping)).toBe(true);

    await page.getByRole('button', { name: 'Disable webhook Ops alerts' }).click();
    await expectText(rows.nth(0), /Disabled/);
    await page.getByRole('button', { name: 'Rotate secret of Ops alerts' }).click();
    await expectVisible(page.getByRole('heading', { name: 'Signing secret rotated' }));
    expect(await page.getByTestId('webhook-secret').inputValue()).not.toBe(secret);
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'webhooks');

    await page.getByRole('button', { name: 'Delete webhook Ops alerts' }).click();
    await page.getByRole('button', { name: 'Confirm: delete Ops alerts' }).click();
    await expectCount(rows, 0);
    expect((await api.request<{ items: unknown[] }>('GET', `/v1/tenants/${tenant.id}/webhooks`)).body.items).toEqual([]);
    expect(dashboard.problems).toEqual([]);
  });
});
