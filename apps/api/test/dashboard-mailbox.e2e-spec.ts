import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { ProviderSimulator, simulatorEnv, type SimulatorUrls } from '#libs/testing';
import type { ApiErrorBody, ListOf } from './api-harness.js';
import type { MailboxView } from '../src/mailbox/mailbox.dto.js';
import {
  accessibilityViolations,
  dashboardSuite,
  type DashboardWindow,
  expectAttribute,
  expectCount,
  expectText,
  expectValue,
  screenshot,
  waitUntil,
} from './dashboard-browser.js';

/** A name that never resolves (RFC 2606): accepted when saved, judged when the worker or a test connects. */
const UNRESOLVABLE_HOST = 'imap.example.invalid';

/**
 * The Mailbox page and a backfill from a mailbox, in headless Chromium against the real API, worker
 * and provider simulator. No IMAP server is needed: the mailbox names a host that does not resolve,
 * so a test connection and a backfill end IMAP_UNAVAILABLE (one try, IMAP_MAX_ATTEMPTS=1), and a
 * private address is refused when saved (EGRESS_REFUSED). The secret is never in the page.
 */
describe('Dashboard mailbox in a browser (e2e)', () => {
  const providerKey = `sk-dash-imap-${randomBytes(12).toString('hex')}-4242`;
  const simulator = new ProviderSimulator({ validKeys: { openai: [providerKey] } });
  let urls: SimulatorUrls;
  // registered before the suite's: the simulator is up when the API starts with its URLs
  beforeAll(async () => {
    urls = await simulator.start();
  });
  afterAll(() => simulator.stop());
  afterEach(() => simulator.reset());
  const suite = dashboardSuite(
    () => ({ ...simulatorEnv(urls), IMAP_MAX_ATTEMPTS: '1', IMAP_RETRY_BASE_MS: '0', IMAP_TIMEOUT_MS: '2000', LOG_LEVEL: 'warn' }),
    { worker: true },
  );

  async function signedInTenant(workspaceName: string) {
    const tenant = await suite.api.newTenant({ subdomain: `dash-imap-${randomBytes(3).toString('hex')}` });
    const workspace = await suite.api.newWorkspace(tenant.id, workspaceName);
    const token = await suite.api.newTenantToken(tenant.id);
    const dashboard = await suite.signedIn(token);
    return { tenant, workspace, ...dashboard };
  }

  function storedMailbox(workspaceId: string) {
    return suite.api.request<MailboxView>('GET', `/v1/workspaces/${workspaceId}/imap-source`);
  }

  /** Everything the page holds that could carry a secret: its markup, every field's value, and both storages. */
  async function everythingInPage(page: Page): Promise<string> {
    const values = await page.evaluate(() => {
      const win = globalThis as unknown as DashboardWindow & {
        document: { querySelectorAll(selector: string): Iterable<{ value: string; placeholder?: string }> };
      };
      const fields = [...win.document.querySelectorAll('input, textarea, select')].map((f) => `${f.value} ${f.placeholder ?? ''}`);
      // a Storage's items are its own enumerable properties
      return [...fields, JSON.stringify({ ...win.sessionStorage }), JSON.stringify({ ...win.localStorage })];
    });
    return `${await page.content()}\n${values.join('\n')}`;
  }

  it('connects a mailbox and shows it masked, tests it (unreachable), refuses a private host at its field, and removes it; works at 390 px', async () => {
    const secret = `imap-pass-${randomBytes(10).toString('hex')}-9876`;
    const { workspace, page, problems } = await signedInTenant('Support mailbox');
    await page.getByRole('link', { name: 'Mailbox' }).click();
    await expectText(page.getByRole('heading', { level: 1 }), 'Mailbox');
    await expectText(page.getByTestId('mailbox-status'), 'Not connected');
    await expectText(page.getByTestId('mailbox-summary'), /^No mailbox is connected to this workspace/);
    await expectCount(page.getByRole('button', { name: 'Test connection', disabled: true }), 1);
    await expectValue(page.getByLabel('Folders'), 'INBOX');

    // a new mailbox without its password: the API says it is required, at the password's field
    await page.getByLabel('Host').fill(UNRESOLVABLE_HOST);
    await page.getByLabel('User name').fill('support@example.com');
    await page.getByRole('button', { name: 'Save mailbox' }).click();
    await expectText(page.locator('.mailbox-messages .message-error'), 'Error: secret is required when the workspace has no mailbox yet');
    await expectAttribute(page.getByLabel('Password', { exact: true }), 'aria-invalid', 'true');
    await expectAttribute(page.getByLabel('Password', { exact: true }), 'aria-describedby', 'mailbox-secret-hint mailbox-message');

    // a port typo reaches the API as typed, and its refusal lands at the port's field (the other field is cleared)
    await page.getByLabel('Port (optional)').fill('99x');
    await page.getByRole('button', { name: 'Save mailbox' }).click();
    await expectText(page.locator('.mailbox-messages .message-error'), 'Error: port must be a number');
    await expectAttribute(page.getByLabel('Port (optional)'), 'aria-invalid', 'true');
    await expectCount(page.locator('[aria-invalid="true"]'), 1);
    await page.getByLabel('Port (optional)').fill('');

    await page.getByLabel('Password', { exact: true }).fill(secret);
    await page.getByLabel('Folders').fill('INBOX, Archive\nSent');
    await page.getByLabel('Messages since (optional)').fill('2024-01-01');
    await page.getByRole('button', { name: 'Save mailbox' }).click();
    await expectText(page.locator('.mailbox-messages .message-success'), /^Mailbox saved \(imap\.example\.invalid\)/);
    await expectCount(page.locator('[aria-invalid="true"]'), 0);
    // the masked view: last four characters only; the field is emptied and says one is stored
    await expectText(page.getByTestId('mailbox-status'), 'Not tested');
    await expectText(page.getByTestId('mailbox-server'), `${UNRESOLVABLE_HOST}:993, Implicit TLS, support@example.com`);
    await expectText(page.getByTestId('mailbox-secret'), 'Password, ends in …9876');
    await expectValue(page.getByLabel('Password', { exact: true }), '');
    await expectAttribute(page.getByLabel('Password', { exact: true }), 'placeholder', 'stored, ends in …9876');
    const { body: stored } = await storedMailbox(workspace.id);
    expect(stored).toMatchObject({
      host: UNRESOLVABLE_HOST,
      port: 993,
      tlsMode: 'implicit',
      username: 'support@example.com',
      authMethod: 'password',
      secretLast4: '9876',
      folders: ['INBOX', 'Archive', 'Sent'],
      since: '2024-01-01',
      status: 'unknown',
    });
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(await everythingInPage(page)).not.toContain(secret);

    // a fresh page fills the form from the API, never the secret
    await page.reload();
    await expectValue(page.getByLabel('Host'), UNRESOLVABLE_HOST);
    await expectValue(page.getByLabel('Folders'), 'INBOX\nArchive\nSent');
    await expectValue(page.getByLabel('Messages since (optional)'), '2024-01-01');
    await expectValue(page.getByLabel('Port (optional)'), '993');
    await expectValue(page.getByLabel('Password', { exact: true }), '');
    await expectAttribute(page.getByLabel('Password', { exact: true }), 'placeholder', 'stored, ends in …9876');

    // the name does not resolve: IMAP_UNAVAILABLE with what to do; no verdict on the password
    await page.getByRole('button', { name: 'Test connection' }).click();
    await expectText(
      page.locator('.mailbox-messages .message-error'),
      /^Error: Mailbox unreachable: The mailbox at imap\.example\.invalid is unavailable: the host name could not be resolved\. The mail server could not be reached/,
    );
    await expectText(page.getByTestId('mailbox-status'), 'Not tested');
    await expectCount(page.getByTestId('mailbox-test-result').locator('li'), 0);

    // the sign-in method relabels the secret's field; saving without a secret keeps the stored one
    await page.getByLabel('Sign-in method').selectOption('xoauth2');
    await expectAttribute(page.getByLabel('OAuth2 access token', { exact: true }), 'placeholder', 'stored, ends in …9876');
    await page.getByLabel('Sign-in method').selectOption('password');

    // a private address is refused when saved, at the host's field; the stored mailbox is unchanged
    await page.getByLabel('Host').fill('10.0.0.1');
    await page.getByRole('button', { name: 'Save mailbox' }).click();
    await expectText(
      page.locator('.mailbox-messages .message-error'),
      'Error: The platform will not connect to this host: 10.0.0.1 is a private address (RFC 1918), which EGRESS_ALLOWED_CIDRS does not allow.',
    );
    await expectAttribute(page.getByLabel('Host'), 'aria-invalid', 'true');
    await expectValue(page.getByLabel('Host'), '10.0.0.1');
    await expectText(page.getByTestId('mailbox-server'), `${UNRESOLVABLE_HOST}:993, Implicit TLS, support@example.com`);
    expect((await storedMailbox(workspace.id)).body.host).toBe(UNRESOLVABLE_HOST);
    expect(await accessibilityViolations(page)).toEqual([]);

    // on a phone's width nothing runs off the side
    await page.setViewportSize({ width: 390, height: 844 });
    await waitUntil(
      'the page width at 390 px',
      () =>
        page.evaluate(
          '[document.documentElement.scrollWidth, ...[...document.querySelectorAll("main .card, main input, main select, main textarea, main button")].map((e) => e.getBoundingClientRect().right)]',
        ),
      (widths) => (widths as number[]).every((w) => w <= 390),
      'at most 390',
    );
    await screenshot(page, 'mailbox-390');
    expect(await accessibilityViolations(page)).toEqual([]);

    // removing asks to confirm, then the mailbox and its secret are gone
    await page.getByRole('button', { name: 'Remove mailbox' }).click();
    await page.getByRole('button', { name: 'Confirm: remove the mailbox' }).click();
    await expectText(page.locator('.mailbox-messages .message-success'), /^Mailbox removed/);
    await expectText(page.getByTestId('mailbox-status'), 'Not connected');
    await expectCount(page.getByRole('button', { name: 'Test connection', disabled: true }), 1);
    await expectAttribute(page.getByLabel('Password', { exact: true }), 'placeholder', '');
    const gone = await suite.api.request<ApiErrorBody>('GET', `/v1/workspaces/${workspace.id}/imap-source`);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('IMAP_SOURCE_NOT_FOUND');
    expect(await everythingInPage(page)).not.toContain(secret);

    // the audit log names both changes, the secret only by its last four
    await page.getByRole('link', { name: 'Audit log' }).click();
    const rows = page.getByTestId('audit-events').locator('tbody tr');
    await expectText(rows.nth(0).locator('td').nth(1), 'Mailbox removed');
    await expectText(rows.nth(0).getByTestId('key-before'), /…9876/);
    await expectText(rows.nth(1).locator('td').nth(1), 'Mailbox saved');
    await expectText(rows.nth(1).getByTestId('key-after'), /…9876/);
    expect(await everythingInPage(page)).not.toContain(secret);
    expect(problems).toEqual([]);
  }, 60_000);

  it('offers the mailbox as a backfill source once connected; a backfill from an unreachable mailbox fails IMAP_UNAVAILABLE with the fix', async () => {
    const { tenant, workspace, page, problems } = await signedInTenant('Sales mailbox');
    await suite.api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: providerKey } });
    await page.getByRole('link', { name: 'Backfills' }).click();
    await page.getByText('No backfill has run on this workspace yet.').waitFor();
    // no mailbox: no such source, and a pointer to where one is connected
    await expectCount(page.getByLabel('Source').locator('option[value="imap"]'), 0);
    await expectText(page.locator('#backfill-mailbox-hint'), 'To backfill from a mailbox, connect one on the Mailbox page.');

    const put = await suite.api.request<MailboxView>('PUT', `/v1/workspaces/${workspace.id}/imap-source`, {
      body: { host: UNRESOLVABLE_HOST, username: 'sales@example.com', secret: 'app-password-5555', folders: ['INBOX', 'Sent'] },
    });
    expect(put.status).toBe(200);
    await page.reload();
    await expectText(page.getByLabel('Source').locator('option[value="imap"]'), 'Mailbox (IMAP)');
    await page.getByLabel('Source').selectOption('imap');
    await page.getByRole('button', { name: 'Start backfill' }).click();
    // what it reads, before it starts (its cost is not known before the fetch)
    await expectText(page.getByTestId('mailbox-server'), `${UNRESOLVABLE_HOST}:993`);
    await expectText(page.getByTestId('mailbox-folders'), 'INBOX, Sent');
    await page.getByRole('button', { name: 'Confirm and start' }).click();

    await expectText(page.getByTestId('job-status'), 'Failed', { timeoutMs: 20_000 });
    await expectText(page.getByTestId('job-source'), 'Mailbox (IMAP)');
    await expectText(page.getByTestId('failure-code'), 'IMAP_UNAVAILABLE');
    await expectText(
      page.getByTestId('failure-reason'),
      /^The mailbox at imap\.example\.invalid is unavailable: the host name could not be resolved\./,
    );
    await expectText(page.getByTestId('failure-fix'), /^How to fix:\s+The mail server could not be reached.*Check the host and port/);
    await expectText(page.getByTestId('records-fetched'), '0');
    // the key was checked before the mailbox: the provider saw the pre-flight only, no extraction
    expect(simulator.requests.length).toBeGreaterThan(0);
    expect(simulator.requests.filter((r) => r.path.endsWith('/chat/completions'))).toEqual([]);
    const { body: history } = await suite.api.request<ListOf<{ source: string; failure: { code: string } | null }>>(
      'GET',
      `/v1/workspaces/${workspace.id}/backfills`,
    );
    expect(history.items.map((b) => [b.source, b.failure?.code])).toEqual([['imap', 'IMAP_UNAVAILABLE']]);
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'backfill-imap-unavailable');

    // the fix is on the mailbox page
    await page.getByTestId('failure-fix').getByRole('link', { name: 'Go to Mailbox' }).click();
    await expectText(page.getByRole('heading', { level: 1 }), 'Mailbox');
    await expectText(page.getByTestId('mailbox-server'), `${UNRESOLVABLE_HOST}:993, Implicit TLS, sales@example.com`);
    expect(await everythingInPage(page)).not.toContain('app-password-5555');
    expect(problems).toEqual([]);
  }, 60_000);
});
