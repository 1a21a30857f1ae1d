/** The dashboard in Chromium, free of Jest: the browser tests (through dashboard-browser.ts) and bench:dashboard share it. */
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Browser tests of the dashboard: Debian's Chromium, headless, never a downloaded browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Debian's Chromium, headless. @throws Error naming the package to install when it is missing */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`The dashboard tests need Debian's Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface DashboardPage {
  page: Page;
  /** Console errors, uncaught exceptions and Content-Security-Policy violations seen so far. */
  problems: string[];
  close(): Promise<void>;
}

/** A fresh browser context (no storage shared with other tests) on a laptop-sized viewport. */
export async function openDashboard(browser: Browser, baseUrl: string): Promise<DashboardPage> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, baseURL: baseUrl });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    // an API answer of 4xx/5xx is logged by Chromium as a failed resource: the tests cause those on purpose
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource: the server responded with a status of')) {
      problems.push(`console: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  await page.goto('/dashboard');
  return { page, problems, close: () => context.close() };
}

/** Signs the dashboard in with a tenant token and waits until it shows the signed-in header. */
export async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel('Tenant admin token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}
