import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll } from '@jest/globals';
import type { Browser, Locator, Page } from 'playwright-core';
import { dashboardDir } from '../src/bootstrap.js';
import { ApiHarness } from './api-harness.js';
import { type DashboardPage, launchBrowser, openDashboard, signIn } from './dashboard-chromium.js';

// the browser and the graph fixtures live apart, free of Jest, so benchmarks can use them too
export { CHROMIUM_PATH, type DashboardPage, launchBrowser, openDashboard, signIn } from './dashboard-chromium.js';
export { type MailboxGraph, seedMailboxGraph, seedSyntheticGraph } from './graph-fixtures.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SOURCE_DIR = join(ROOT, 'apps', 'api', 'dashboard');
export const SCREENSHOT_DIR = join(ROOT, 'test-artifacts', 'screenshots');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * The API serves dist/dashboard: `npm test` builds it first; a test run on its own builds it when it is
 * missing or older than its source (esbuild only, well under a second).
 */
export function ensureDashboardBuilt(): void {
  const index = join(dashboardDir(), 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newestMtime(SOURCE_DIR)) return;
  execFileSync(process.execPath, [join(SOURCE_DIR, 'build.mjs')], { cwd: ROOT, stdio: 'pipe' });
}

/** The part of a cytoscape graph (`window.byokDashboard.cy`) the tests call. */
export interface GraphCanvas {
  nodes(selector?: string): { length: number };
  edges(): { length: number };
  zoom(): number;
  zoom(level: number): unknown;
  pan(): { x: number; y: number };
  center(element: GraphElement): unknown;
  getElementById(id: string): GraphElement;
  container(): { getBoundingClientRect(): { left: number; top: number } };
}
interface GraphElement {
  renderedPosition(): { x: number; y: number };
}

interface BrowserStorage {
  readonly length: number;
  getItem(key: string): string | null;
}

/** One WCAG problem as axe-core reports it, as far as it is read here. */
interface AxeViolation {
  id: string;
  impact?: string | null;
  help: string;
  nodes: { target: (string | string[])[] }[];
}

/**
 * The browser globals the tests read inside `page.evaluate`, and only the parts they read: the tests
 * compile without the DOM library. Inside an evaluated function (it runs in the page, so it can call no
 * helper of this file) cast `globalThis as unknown as DashboardWindow`.
 */
export interface DashboardWindow {
  document: { cookie: string; activeElement: { dataset?: Record<string, string | undefined> } | null };
  sessionStorage: BrowserStorage;
  localStorage: BrowserStorage;
  /** Set by the graph page while it shows a graph. */
  byokDashboard?: { cy: GraphCanvas };
  /** Set once accessibilityViolations injected axe-core. */
  axe?: { run(context: unknown, options: { runOnly: { type: 'tag'; values: string[] } }): Promise<{ violations: AxeViolation[] }> };
}

/** What a dashboard suite shares: an API, Chromium, and pages opened signed in (all closed after the suite). */
export interface DashboardSuite {
  readonly api: ApiHarness;
  /** A fresh page of the dashboard, signed in with `token`. */
  signedIn(token: string): Promise<DashboardPage>;
}

/**
 * Registers the set-up of a dashboard suite in the calling `describe`: the bundle built, Chromium
 * launched, an API started (with `env`; with `worker`, the job runtime in the same process), and
 * everything closed after its tests. `env` may be a function, read when the API starts: an
 * environment naming a server an earlier `beforeAll` started (a provider simulator's URLs).
 */
export function dashboardSuite(
  env: Record<string, string> | (() => Record<string, string>) = { LOG_LEVEL: 'warn' },
  options: { worker?: boolean } = {},
): DashboardSuite {
  let api: ApiHarness | undefined;
  let browser: Browser | undefined;
  const opened: DashboardPage[] = [];
  beforeAll(async () => {
    ensureDashboardBuilt();
    browser = await launchBrowser();
    api = await ApiHarness.start(typeof env === 'function' ? env() : env, { worker: options.worker });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(opened.map((o) => o.close()));
    await browser?.close();
    await api?.close();
  });
  return {
    get api() {
      if (!api) throw new Error('the dashboard suite has not started');
      return api;
    },
    async signedIn(token) {
      if (!browser || !api) throw new Error('the dashboard suite has not started');
      const dashboard = await openDashboard(browser, api.baseUrl);
      opened.push(dashboard);
      await signIn(dashboard.page, token);
      return dashboard;
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

let axeSource: string | undefined;

/**
 * WCAG 2 A/AA problems axe-core finds on the page as it is now, as readable lines (empty: none).
 * Injected through the DevTools protocol, which the page's Content-Security-Policy does not apply to.
 */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as DashboardWindow).axe!;
    const result = await axe.run((globalThis as unknown as DashboardWindow).document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  return violations;
}

/** How long the waiting assertions below wait by default: the UI polls the API every second. */
const WAIT_MS = 10_000;
const POLL_MS = 50;

interface WaitOptions {
  timeoutMs?: number;
}

/**
 * Reads `read` until `accept` takes its value, and returns that value. A read that throws (the
 * element is not there yet, or is being re-rendered) counts as "not yet". Fails after `timeoutMs`
 * with `what`, what was expected and the last value (or error) read. Playwright-core has no
 * `expect` of its own: this is what waits in its place, so no assertion reads a page only once.
 */
export async function waitUntil<T>(
  what: string,
  read: (remainingMs: number) => Promise<T>,
  accept: (value: T) => boolean,
  expected: string,
  { timeoutMs = WAIT_MS }: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    try {
      const value = await read(Math.max(1, deadline - Date.now()));
      if (accept(value)) return value;
      last = JSON.stringify(value);
    } catch (error) {
      last = `an error: ${(error as Error).message.split('\n')[0]}`;
    }
    if (Date.now() > deadline) throw new Error(`Expected ${what} to be ${expected}, but it was ${last} after ${timeoutMs} ms`);
    await sleep(POLL_MS);
  }
}

/** Waits until `read` gives a value deeply equal to `expected`. */
export function waitForEqual<T>(what: string, read: (remainingMs: number) => Promise<T>, expected: T, options?: WaitOptions): Promise<T> {
  return waitUntil(what, read, (value) => isDeepStrictEqual(value, expected), JSON.stringify(expected), options);
}

const matches = (expected: string | RegExp) => (text: string) => (typeof expected === 'string' ? text === expected : expected.test(text));

/** Waits until the element is visible and its text (innerText, trimmed) is `expected` or matches it. */
export async function expectText(locator: Locator, expected: string | RegExp, options?: WaitOptions): Promise<string> {
  return waitUntil(
    `the text of ${locator.toString()}`,
    async (timeout) => (await locator.innerText({ timeout })).trim(),
    matches(expected),
    String(expected),
    options,
  );
}

/** Waits until the element is visible. */
export async function expectVisible(locator: Locator, { timeoutMs = WAIT_MS }: WaitOptions = {}): Promise<void> {
  try {
    await locator.waitFor({ state: 'visible', timeout: timeoutMs });
  } catch (error) {
    throw new Error(`Expected ${locator.toString()} to be visible: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
}

/** Waits until the element is visible and enabled. */
export async function expectEnabled(locator: Locator, options?: WaitOptions): Promise<void> {
  await waitUntil(
    `${locator.toString()} enabled`,
    (timeout) => locator.isEnabled({ timeout }),
    (enabled) => enabled,
    'true',
    options,
  );
}

/** Waits until the element is disabled. */
export async function expectDisabled(locator: Locator, options?: WaitOptions): Promise<void> {
  await waitUntil(
    `${locator.toString()} disabled`,
    (timeout) => locator.isDisabled({ timeout }),
    (disabled) => disabled,
    'true',
    options,
  );
}

/** Waits until an input's value is `expected`. */
export async function expectValue(locator: Locator, expected: string, options?: WaitOptions): Promise<void> {
  await waitUntil(
    `the value of ${locator.toString()}`,
    (timeout) => locator.inputValue({ timeout }),
    matches(expected),
    JSON.stringify(expected),
    options,
  );
}

/** Waits until the element's attribute `name` is `expected`. */
export async function expectAttribute(locator: Locator, name: string, expected: string, options?: WaitOptions): Promise<void> {
  await waitUntil(
    `${name} of ${locator.toString()}`,
    (timeout) => locator.getAttribute(name, { timeout }),
    (value) => value === expected,
    JSON.stringify(expected),
    options,
  );
}

/** Waits until exactly `expected` elements match. */
export async function expectCount(locator: Locator, expected: number, options?: WaitOptions): Promise<void> {
  await waitUntil(
    `the number of ${locator.toString()}`,
    () => locator.count(),
    (count) => count === expected,
    String(expected),
    options,
  );
}
