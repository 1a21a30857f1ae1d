import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll } from '@jest/globals';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import type { PrismaService } from '#libs/database';
import { dashboardDir } from '../src/bootstrap.js';
import { ApiHarness } from './api-harness.js';

/** Browser tests of the dashboard: Debian's Chromium, headless, never a downloaded browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';
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

export async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel('Tenant admin token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
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

/**
 * A synthetic graph of `count` entities of six types in communities of 25 chained together, plus
 * long-range links (about 1.5 relationships per entity), written straight to the database.
 * @returns how many relationships were written
 */
export async function seedSyntheticGraph(prisma: PrismaService, workspaceId: string, count: number): Promise<number> {
  const types = ['person', 'organization', 'location', 'product', 'event', 'topic'];
  const ids = Array.from({ length: count }, () => randomUUID());
  await prisma.entity.createMany({
    data: ids.map((id, i) => ({
      id,
      workspaceId,
      name: `Entity ${String(i).padStart(4, '0')}`,
      normalizedName: `entity ${String(i).padStart(4, '0')}`,
      type: types[i % types.length],
      description: `Synthetic entity ${i}`,
    })),
  });
  const pairs = new Set<string>();
  for (let i = 0; i < count; i++) {
    if (i % 25 !== 0) pairs.add(`${i - 1}:${i}`);
    if (i % 2 === 0) pairs.add(`${i}:${(i * 7919 + 13) % count}`);
  }
  const relationships = [...pairs]
    .map((p) => p.split(':').map(Number))
    .filter(([a, b]) => a !== b)
    .map(([a, b]) => ({
      id: randomUUID(),
      workspaceId,
      sourceEntityId: ids[a],
      targetEntityId: ids[b],
      description: 'linked',
      strength: 1 + ((a + b) % 10),
    }));
  await prisma.relationship.createMany({ data: relationships, skipDuplicates: true });
  return prisma.relationship.count({ where: { workspaceId } });
}

/** What seedMailboxGraph wrote. */
export interface MailboxGraph {
  entities: number;
  relationships: number;
  /** Entities without any relationship (most of the email addresses). */
  isolated: number;
  /** Communities seeded: an organization each, with its people and topics. */
  communities: number;
}

/**
 * A graph shaped like one extracted from a mailbox, written straight to the database: communities of
 * about 20 (an organization "Org NN", people "Person NN-k" who work there and know the next one,
 * topics "Topic NN-k"), the organizations linked in a ring, and a quarter of the entities email
 * addresses ("user-N@mail.example.test"), most of them linked to nothing, a fifth to a person.
 * Deterministic: the same count gives the same names, types and links.
 */
export async function seedMailboxGraph(prisma: PrismaService, workspaceId: string, count: number): Promise<MailboxGraph> {
  const emails = Math.round(count * 0.25);
  const communities = Math.max(1, Math.round((count - emails) / 20));
  const entities: { id: string; name: string; type: string }[] = [];
  const add = (name: string, type: string) => {
    entities.push({ id: randomUUID(), name, type });
    return entities.length - 1;
  };
  const hubs: number[] = [];
  const people: number[][] = [];
  const pairs: [number, number, number][] = [];
  for (let c = 0; c < communities && entities.length < count - emails; c++) {
    const tag = String(c).padStart(2, '0');
    const hub = add(`Org ${tag}`, 'organization');
    hubs.push(hub);
    people.push([]);
    for (let k = 0; k < 19 && entities.length < count - emails; k++) {
      if (k % 5 === 4) {
        const topic = add(`Topic ${tag}-${k}`, 'topic');
        pairs.push([topic, hub, 3], [topic, people[c][people[c].length - 1] ?? hub, 2]);
      } else {
        const person = add(`Person ${tag}-${k}`, 'person');
        pairs.push([person, hub, 6 + (k % 4)]);
        const previous = people[c][people[c].length - 1];
        if (previous !== undefined) pairs.push([previous, person, 4]);
        people[c].push(person);
      }
    }
  }
  hubs.forEach((hub, c) => {
    if (hubs.length > 1) pairs.push([hub, hubs[(c + 1) % hubs.length], 5]);
  });
  while (entities.length < count) {
    const n = entities.length;
    const email = add(`user-${n}@mail.example.test`, 'email');
    const owners = people[n % people.length];
    if (n % 5 === 0 && owners.length > 0) {
      pairs.push([email, owners[n % owners.length], 1]);
    }
  }
  await prisma.entity.createMany({
    data: entities.map((e) => ({
      ...e,
      workspaceId,
      normalizedName: e.name.toLowerCase(),
      description: `An entity of type ${e.type} from the mailbox`,
    })),
  });
  const relationships = pairs
    .filter(([a, b]) => a !== b)
    .map(([a, b, strength]) => ({
      id: randomUUID(),
      workspaceId,
      sourceEntityId: entities[a].id,
      targetEntityId: entities[b].id,
      description: 'linked',
      strength,
    }));
  await prisma.relationship.createMany({ data: relationships, skipDuplicates: true });
  const linked = new Set(pairs.flatMap(([a, b]) => [a, b]));
  return {
    entities: entities.length,
    relationships: await prisma.relationship.count({ where: { workspaceId } }),
    isolated: entities.length - linked.size,
    communities: hubs.length,
  };
}
