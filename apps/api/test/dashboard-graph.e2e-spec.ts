import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { PrismaService } from '#libs/database';
import {
  accessibilityViolations,
  dashboardSuite,
  type DashboardWindow,
  expectAttribute,
  expectText,
  expectVisible,
  type MailboxGraph,
  screenshot,
  seedMailboxGraph,
  waitForEqual,
  waitUntil,
} from './dashboard-browser.js';

/** The part of Cytoscape (`window.byokDashboard.cy`) these checks read inside the page. */
interface Cy {
  zoom(): number;
  extent(): { x1: number; y1: number; x2: number; y2: number };
  nodes(selector?: string): Collection<Node>;
  edges(selector?: string): Collection<Edge>;
  getElementById(id: string): Node;
}
interface Collection<T> {
  length: number;
  map<R>(fn: (element: T) => R): R[];
  filter(fn: (element: T) => boolean): Collection<T>;
}
interface Node {
  id(): string;
  data(key: string): string;
  degree(includeLoops: boolean): number;
  hasClass(name: string): boolean;
  visible(): boolean;
  selected(): boolean;
  position(): { x: number; y: number };
  numericStyle(name: string): number;
  closedNeighborhood(selector: string): Collection<Node>;
}
interface Edge {
  source(): Node;
  target(): Node;
}

/** What the canvas shows: nodes, visible nodes and edges, faded ones, the selected node. */
function canvasState(page: Page) {
  return page.evaluate(() => {
    const cy = ((globalThis as unknown as DashboardWindow).byokDashboard?.cy as unknown as Cy | undefined) ?? null;
    if (!cy) return null;
    return {
      nodes: cy.nodes().length,
      visible: cy.nodes(':visible').length,
      visibleEdges: cy.edges(':visible').length,
      faded: cy.nodes(':visible').filter((n) => n.hasClass('faded')).length,
      selected: cy.nodes(':selected').map((n) => n.data('name')),
    };
  });
}

/** The knowledge graph page of the dashboard at a thousand entities, in headless Chromium against the real API. */
describe('Dashboard knowledge graph in a browser (e2e)', () => {
  const suite = dashboardSuite();

  async function graphPage(count: number): Promise<{ page: Page; problems: string[]; seeded: MailboxGraph }> {
    const { api } = suite;
    const tenant = await api.newTenant({ subdomain: `graph-${randomBytes(3).toString('hex')}` });
    const token = await api.newTenantToken(tenant.id);
    const workspace = await api.newWorkspace(tenant.id, 'Support inbox');
    const seeded = await seedMailboxGraph(api.app.get(PrismaService), workspace.id, count);
    const { page, problems } = await suite.signedIn(token);
    await page.getByRole('link', { name: 'Knowledge graph' }).click();
    await expectAttribute(page.getByTestId('graph-canvas'), 'data-layout', 'forceatlas2', { timeoutMs: 30_000 });
    return { page, problems, seeded };
  }

  it('shows the 300 best-connected of 1,000 entities with labels and community colours, then more, every node laid out near the graph', async () => {
    const { page, problems, seeded } = await graphPage(1000);
    expect(seeded.entities).toBe(1000);
    expect(seeded.isolated).toBeGreaterThan(150);
    const summary = page.getByTestId('graph-summary');
    await expectText(summary, /^Showing 300 of 1,000 entities, the best connected first; [\d,]+ relationships among them\.$/);
    await waitForEqual('the nodes', async () => (await canvasState(page))?.nodes, 1000);
    expect((await canvasState(page))?.visible).toBe(300);
    await screenshot(page, 'graph-1000');

    const shown = await page.evaluate(() => {
      const cy = (globalThis as unknown as DashboardWindow).byokDashboard!.cy as unknown as Cy;
      const degree = (n: Node) => n.degree(false);
      const visible = cy.nodes(':visible');
      const hidden = cy.nodes().filter((n) => !n.visible());
      const zoom = cy.zoom();
      // a label is drawn when its font is at least min-zoomed-font-size on screen (Cytoscape's rule)
      const labelled = visible.filter((n) => n.numericStyle('font-size') * zoom >= n.numericStyle('min-zoomed-font-size'));
      const landmarks = visible.filter((n) => n.hasClass('landmark'));
      const extent = cy.extent();
      return {
        minShownDegree: Math.min(...visible.map(degree)),
        maxHiddenDegree: Math.max(...hidden.map(degree)),
        labelled: labelled.map((n) => n.data('name')),
        landmarks: landmarks.map((n) => n.data('name')),
        landmarksLabelled: landmarks.filter((n) => n.numericStyle('font-size') * zoom >= n.numericStyle('min-zoomed-font-size')).length,
        landmarkDegree: Math.min(...landmarks.map(degree)),
        inView: visible.filter((n) => {
          const p = n.position();
          return p.x >= extent.x1 && p.x <= extent.x2 && p.y >= extent.y1 && p.y <= extent.y2;
        }).length,
        colours: new Set(visible.map((n) => n.data('color'))).size,
        emails: visible.filter((n) => n.data('type') === 'email').length,
      };
    });
    // the best connected first: no hidden entity has more relationships than a shown one
    expect(shown.minShownDegree).toBeGreaterThanOrEqual(shown.maxHiddenDegree);
    expect(shown.inView).toBe(300);
    // labels at the zoom the page opens at: the organizations (hubs) at least, never the unlabelled dots of before
    expect(shown.landmarks).toHaveLength(12);
    expect(shown.landmarksLabelled).toBe(12);
    expect(shown.landmarks.every((name) => name.startsWith('Org '))).toBe(true);
    expect(shown.labelled.length).toBeGreaterThanOrEqual(12);
    // communities coloured (Louvain): many colours, a legend naming each by its best-connected entity
    expect(shown.colours).toBeGreaterThanOrEqual(8);
    await expectAttribute(page.getByTestId('graph-canvas'), 'data-colour-by', 'community');
    await expectVisible(
      page
        .getByTestId('graph-legend')
        .getByText(/^Org \d\d and \d+ others$/)
        .first(),
    );
    expect(await accessibilityViolations(page)).toEqual([]);

    // Show more adds the next 300, then the rest
    const more = page.getByTestId('graph-show-more');
    await expectText(more, 'Show 300 more');
    await more.click();
    await expectText(summary, /^Showing 600 of 1,000 entities, the best connected first; /);
    await more.click();
    await more.click();
    await expectText(summary, /^Showing 1,000 of 1,000 entities; [\d,]+ relationships among them\.$/);
    await waitForEqual('the visible nodes', async () => (await canvasState(page))?.visible, 1000);
    expect(await more.isHidden()).toBe(true);
    await screenshot(page, 'graph-1000-all');

    // the entities without relationships went through the layout: around the graph, not in a grid below it
    const placement = await page.evaluate(() => {
      const cy = (globalThis as unknown as DashboardWindow).byokDashboard!.cy as unknown as Cy;
      const lone = cy.nodes().filter((n) => n.degree(false) === 0);
      const linked = cy.nodes().filter((n) => n.degree(false) > 0);
      const ys = linked.map((n) => n.position().y);
      const xs = linked.map((n) => n.position().x);
      const box = { x1: Math.min(...xs), x2: Math.max(...xs), y1: Math.min(...ys), y2: Math.max(...ys) };
      const centre = { x: (box.x1 + box.x2) / 2, y: (box.y1 + box.y2) / 2 };
      const lonePositions = lone.map((n) => n.position());
      const rows = new Set(lonePositions.map((p) => Math.round(p.y)));
      return {
        lone: lone.length,
        below: lonePositions.filter((p) => p.y > box.y2).length,
        aboveCentre: lonePositions.filter((p) => p.y < centre.y).length,
        leftOfCentre: lonePositions.filter((p) => p.x < centre.x).length,
        distinctRows: rows.size,
        far: lonePositions.filter((p) => Math.hypot(p.x - centre.x, p.y - centre.y) > 2 * Math.max(box.x2 - box.x1, box.y2 - box.y1)).length,
      };
    });
    expect(placement.lone).toBe(seeded.isolated);
    // spread on every side of the graph's centre, none far away, not lined up in rows
    expect(placement.aboveCentre).toBeGreaterThan(placement.lone * 0.25);
    expect(placement.leftOfCentre).toBeGreaterThan(placement.lone * 0.25);
    expect(placement.below).toBeLessThan(placement.lone * 0.5);
    expect(placement.far).toBe(0);
    expect(placement.distinctRows).toBeGreaterThan(placement.lone * 0.5);

    // colour by type instead: the legend names the types
    await page.getByLabel('Colour by').selectOption('type');
    await expectAttribute(page.getByTestId('graph-canvas'), 'data-colour-by', 'type');
    await expectVisible(page.getByTestId('graph-legend').getByText('email', { exact: true }));
    expect(problems).toEqual([]);
  }, 90_000);

  it('keeps the relationships among the entities a type filter or a search shows', async () => {
    const { page, problems } = await graphPage(1000);
    const summary = page.getByTestId('graph-summary');
    await expectText(summary, /^Showing 300 of 1,000 entities/);

    await page.getByLabel('Type', { exact: true }).selectOption('person');
    await expectText(summary, /^Showing 300 of [\d,]+ entities of type person, the best connected first; [\d,]+ relationships among them\.$/);
    const people = await page.evaluate(() => {
      const cy = (globalThis as unknown as DashboardWindow).byokDashboard!.cy as unknown as Cy;
      const visible = cy.nodes(':visible');
      const shownIds = new Set(visible.map((n) => n.id()));
      return {
        types: [...new Set(visible.map((n) => n.data('type')))],
        visibleEdges: cy.edges(':visible').length,
        among: cy.edges().filter((e) => shownIds.has(e.source().id()) && shownIds.has(e.target().id())).length,
      };
    });
    expect(people.types).toEqual(['person']);
    // people who know each other stay linked: the edges among the shown entities are all drawn
    expect(people.visibleEdges).toBeGreaterThan(100);
    expect(people.visibleEdges).toBe(people.among);
    await expectText(summary, new RegExp(`; ${people.visibleEdges.toLocaleString('en-US')} relationships among them\\.$`));
    await screenshot(page, 'graph-type-person');

    await page.getByLabel('Type', { exact: true }).selectOption('');
    await page.getByLabel('Search by name').fill('Person 07-');
    await expectText(summary, /^Showing 16 of 16 entities matching “Person 07-”; 15 relationships among them\.$/);
    await waitForEqual(
      'the canvas',
      async () => {
        const state = await canvasState(page);
        return state && { visible: state.visible, visibleEdges: state.visibleEdges };
      },
      { visible: 16, visibleEdges: 15 },
    );
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'graph-search');
    expect(problems).toEqual([]);
  }, 90_000);

  it('focuses an entity’s neighbourhood when it is selected, and Escape or the button returns to the whole graph', async () => {
    const { page, problems } = await graphPage(1000);
    const summary = page.getByTestId('graph-summary');
    await expectText(summary, /^Showing 300 of 1,000 entities/);

    // an organization, from the list: its people and topics stay, the rest fades, the view fits them
    await page.getByLabel('Search by name').fill('Org 05');
    await page
      .getByTestId('entity-list')
      .getByRole('button', { name: /^Org 05/ })
      .click();
    const detail = page.getByTestId('entity-detail');
    await detail.getByRole('heading', { name: 'Org 05' }).waitFor();
    await page.getByLabel('Search by name').fill('');
    await expectText(summary, /^Showing 300 of 1,000 entities/);
    const focused = await waitUntil(
      'the focused neighbourhood',
      () =>
        page.evaluate(() => {
          const cy = (globalThis as unknown as DashboardWindow).byokDashboard!.cy as unknown as Cy;
          const node = cy.nodes(':selected');
          const around = cy.getElementById(node.map((n) => n.id())[0]).closedNeighborhood('node');
          const extent = cy.extent();
          return {
            selected: node.map((n) => n.data('name')),
            around: around.length,
            aroundVisible: around.filter((n) => n.visible() && !n.hasClass('faded')).length,
            notFaded: cy.nodes(':visible').filter((n) => !n.hasClass('faded')).length,
            inView: around.filter((n) => {
              const p = n.position();
              return p.x >= extent.x1 && p.x <= extent.x2 && p.y >= extent.y1 && p.y <= extent.y2;
            }).length,
          };
        }),
      (s) => s.selected[0] === 'Org 05' && s.inView === s.around && s.notFaded === s.around,
      'Org 05 selected, its neighbourhood unfaded and in view',
    );
    expect(focused.around).toBeGreaterThan(10);
    await screenshot(page, 'graph-focus');
    expect(await accessibilityViolations(page)).toEqual([]);

    // Escape: nothing selected, nothing faded, the best 300 again
    await page.getByTestId('graph-canvas').focus();
    await page.keyboard.press('Escape');
    await waitForEqual(
      'the canvas after Escape',
      async () => {
        const state = await canvasState(page);
        return state && { visible: state.visible, faded: state.faded, selected: state.selected };
      },
      { visible: 300, faded: 0, selected: [] },
    );
    await detail.getByRole('heading', { name: 'Entity' }).waitFor();

    // an entity outside the best 300 (an email address with one link): it and its neighbour come into view
    const email = await page.evaluate(() => {
      const cy = (globalThis as unknown as DashboardWindow).byokDashboard!.cy as unknown as Cy;
      return cy
        .nodes()
        .filter((n) => n.data('type') === 'email' && n.degree(false) === 1)
        .map((n) => n.data('name'))[0];
    });
    await page.getByLabel('Search by name').fill(email);
    // the search applies after a pause in typing and re-renders the list: a click aimed at the unfiltered
    // list's button (the fixture's 1,000 all fit in it) could land where that button no longer is
    await waitUntil(
      'the list filtered to the address',
      () => page.getByTestId('entity-list').getByRole('button').count(),
      (count) => count === 1,
      'one entity listed',
    );
    await page
      .getByTestId('entity-list')
      .getByRole('button', { name: new RegExp(email.replaceAll('.', '\\.')) })
      .click();
    await detail.getByRole('heading', { name: email }).waitFor();
    await waitUntil(
      'the canvas with the email address focused',
      () => canvasState(page),
      (state) => state !== null && state.selected[0] === email && state.visible - state.faded === 2,
      'the address and its one neighbour unfaded',
    );
    await detail.getByRole('button', { name: 'Show the whole graph' }).click();
    await page.getByLabel('Search by name').fill('');
    await waitForEqual(
      'the canvas after the button',
      async () => {
        const state = await canvasState(page);
        return state && { visible: state.visible, faded: state.faded, selected: state.selected };
      },
      { visible: 300, faded: 0, selected: [] },
    );
    expect(problems).toEqual([]);
  }, 90_000);
});
