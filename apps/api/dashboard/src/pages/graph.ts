import cytoscape, { type Core, type ElementDefinition, type NodeSingular } from 'cytoscape';
import { isAbort, messageOf } from '../api.js';
import type { AppContext, Page } from '../context.js';
import { formatCount, formatDate, h, MessageArea, plural, replaceChildren } from '../dom.js';
import { COLOURED_COMMUNITIES, OTHER_COMMUNITY_COLOUR } from '../graph/communities.js';
import { computeLayout } from '../graph/layout.js';
import { type LoadedGraph, loadGraph } from '../graph/model.js';
import { colorOfType } from '../graph/palette.js';
import { GRAPH_STYLE } from '../graph/style.js';
import type { EntityDetail, GraphEntity, Workspace } from '../types.js';
import { workspacePicker } from '../workspace-picker.js';

/** The list view shows at most this many entities; search or filter narrows it. */
const LIST_LIMIT = 1000;
/** Entities the canvas shows at first, the best connected ones; "Show more" adds as many again. */
export const SHOW_STEP = 300;
/** The best-connected entities on screen whose labels show at any readable zoom. */
const LANDMARKS = 12;
/** On-screen size (px) of the landmarks' labels at any zoom below their own size: the overview names its hubs. */
const LANDMARK_LABEL_PX = 13;
const PAN_STEP = 60;
const reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)');

type ColourBy = 'community' | 'type';

/** Node diameter in model units: larger for entities mentioned more often and for better-connected ones. */
function nodeSize(mentions: number, degree: number): number {
  return Math.min(48, 8 + 4 * Math.log2(1 + mentions) + 5 * Math.log2(1 + degree));
}

/**
 * Label size in model units, by relationships: a hub's label is larger, so it is still at least
 * `min-zoomed-font-size` on screen when zoomed out far enough to hide a leaf's (best connected first).
 */
function labelSize(degree: number): number {
  return Math.min(26, 10 + 3.2 * Math.log2(1 + degree));
}

/**
 * The knowledge graph: an interactive canvas (Cytoscape) with a keyboard-usable list of the same entities
 * beside it. A large graph shows its SHOW_STEP best-connected entities first ("Show more" adds more);
 * filters keep the relationships among what they show; selecting an entity focuses its neighbourhood.
 */
export function graphPage(context: AppContext): Page {
  let loadController: AbortController | undefined;
  let detailController: AbortController | undefined;
  const pageController = new AbortController();
  let workspace: Workspace | null = null;
  let graph: LoadedGraph | null = null;
  let cy: Core | null = null;
  let selectedId: string | null = null;
  let searchTimer: number | undefined;
  let resizeObserver: ResizeObserver | undefined;
  /** How many of the entities the filters leave the canvas shows, best connected first. */
  let shownLimit = SHOW_STEP;

  const messages = new MessageArea();
  const emptyState = h(
    'div',
    { class: 'card empty-state', hidden: true, 'data-testid': 'graph-empty' },
    h('p', null, 'This workspace has no graph yet: run a backfill to extract one. ', h('a', { href: '#/backfills' }, 'Go to Backfills')),
  );
  const summary = h('p', { class: 'graph-summary', role: 'status', 'aria-live': 'polite', 'data-testid': 'graph-summary' });
  const showMore = h('button', { type: 'button', class: 'button button-secondary', hidden: true, 'data-testid': 'graph-show-more' }, 'Show more');
  const picker = workspacePicker(context, 'graph-workspace', (w) => void selectWorkspace(w));
  const typeSelect = h('select', { id: 'graph-type', name: 'type', disabled: true }, h('option', { value: '' }, 'All types'));
  const colourSelect = h(
    'select',
    { id: 'graph-colour', name: 'colour', disabled: true },
    h('option', { value: 'community' }, 'Community'),
    h('option', { value: 'type' }, 'Type'),
  );
  const search = h('input', { id: 'graph-search', name: 'q', type: 'search', placeholder: 'e.g. Acme', autocomplete: 'off', disabled: true });
  const zoomIn = h(
    'button',
    { type: 'button', class: 'button button-secondary button-icon', 'aria-label': 'Zoom in', title: 'Zoom in (+)', disabled: true },
    '+',
  );
  const zoomOut = h(
    'button',
    { type: 'button', class: 'button button-secondary button-icon', 'aria-label': 'Zoom out', title: 'Zoom out (−)', disabled: true },
    '−',
  );
  const fit = h('button', { type: 'button', class: 'button button-secondary', title: 'Fit the visible entities (0)', disabled: true }, 'Fit');
  const canvas = h('div', {
    class: 'graph-canvas',
    id: 'graph-canvas',
    tabindex: '0',
    role: 'region',
    'aria-roledescription': 'graph',
    'aria-label': 'Graph view. Arrow keys pan, plus and minus zoom, 0 fits, Escape clears the selection. The entity list has the same entities.',
    'data-testid': 'graph-canvas',
  });
  const legend = h('figcaption', { class: 'legend', 'data-testid': 'graph-legend' });
  const canvasWrap = h('figure', { class: 'graph-figure' }, canvas, legend);
  const list = h('ul', { class: 'entity-list', id: 'entity-list', 'aria-label': 'Entities', 'data-testid': 'entity-list' });
  const listNote = h('p', { class: 'hint' });
  const detail = h('section', { class: 'card entity-detail', 'aria-labelledby': 'entity-title', tabindex: '-1', 'data-testid': 'entity-detail' });

  typeSelect.addEventListener('change', () => applyFilters({ fit: true, resetLimit: true }));
  colourSelect.addEventListener('change', () => applyColours());
  search.addEventListener('input', () => {
    window.clearTimeout(searchTimer);
    searchTimer = window.setTimeout(() => applyFilters({ fit: true, resetLimit: true }), 150);
  });
  search.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      window.clearTimeout(searchTimer);
      applyFilters({ fit: true, resetLimit: true });
    }
  });
  showMore.addEventListener('click', () => {
    shownLimit += SHOW_STEP;
    applyFilters({ fit: true, resetLimit: false });
  });
  zoomIn.addEventListener('click', () => zoomBy(1.3));
  zoomOut.addEventListener('click', () => zoomBy(1 / 1.3));
  fit.addEventListener('click', () => fitVisible());
  canvas.addEventListener('keydown', onCanvasKey);

  const layout = h(
    'div',
    { class: 'graph-layout' },
    canvasWrap,
    h(
      'aside',
      { class: 'graph-side', 'aria-label': 'Entities and details' },
      h('div', { class: 'card list-card' }, h('h2', { id: 'entity-list-title' }, 'Entities'), listNote, list),
      detail,
    ),
  );
  const element = h(
    'div',
    { class: 'page stack' },
    h(
      'div',
      { class: 'page-header' },
      h('h1', null, 'Knowledge graph'),
      h(
        'p',
        { class: 'lede' },
        'Entities and relationships extracted from the workspace’s records, the best connected first. Select an entity to focus on its neighbourhood and see the records that mention it.',
      ),
    ),
    h(
      'div',
      { class: 'card toolbar graph-toolbar', role: 'search', 'aria-label': 'Graph filters' },
      picker.element,
      h('div', { class: 'field field-inline' }, h('label', { for: 'graph-type' }, 'Type'), typeSelect),
      h('div', { class: 'field field-inline field-grow' }, h('label', { for: 'graph-search' }, 'Search by name'), search),
      h('div', { class: 'field field-inline' }, h('label', { for: 'graph-colour' }, 'Colour by'), colourSelect),
      h('div', { class: 'button-group', role: 'group', 'aria-label': 'Zoom' }, zoomOut, zoomIn, fit),
    ),
    messages.element,
    emptyState,
    h('div', { class: 'graph-status' }, summary, showMore),
    layout,
  );
  // Escape anywhere on the page (the canvas, the list, the detail) leaves the focused neighbourhood
  element.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && selectedId) {
      event.preventDefault();
      clearSelection();
    }
  });
  renderDetailPlaceholder();

  async function selectWorkspace(next: Workspace): Promise<void> {
    workspace = next;
    loadController?.abort();
    detailController?.abort();
    const controller = (loadController = new AbortController());
    teardownGraph();
    setControlsEnabled(false);
    messages.clear();
    emptyState.hidden = true;
    layout.hidden = false;
    showMore.hidden = true;
    shownLimit = SHOW_STEP;
    renderDetailPlaceholder();
    replaceChildren(list);
    listNote.textContent = '';
    summary.textContent = 'Loading the graph…';
    try {
      const loaded = await loadGraph(
        context,
        next.id,
        controller.signal,
        (n) => (summary.textContent = `Loading the graph: ${plural(n, 'entity', 'entities')} so far…`),
      );
      if (controller.signal.aborted) return;
      graph = loaded;
      if (loaded.entities.length === 0) {
        summary.textContent = '';
        emptyState.hidden = false;
        layout.hidden = true;
        return;
      }
      summary.textContent = `Laying out ${plural(loaded.entities.length, 'entity', 'entities')}…`;
      await draw(loaded, controller.signal);
      if (controller.signal.aborted) return;
      fillTypes(loaded);
      setControlsEnabled(true);
      applyColours();
      applyFilters({ fit: true, resetLimit: true });
    } catch (error) {
      if (isAbort(error) || controller.signal.aborted) return;
      summary.textContent = '';
      messages.error(`The graph could not be loaded: ${messageOf(error)}`);
    }
  }

  async function draw(loaded: LoadedGraph, signal: AbortSignal): Promise<void> {
    const { positions, refined } = await computeLayout({ groups: loaded.communities.of, edges: loaded.edges }, signal);
    if (signal.aborted) return;
    const large = loaded.entities.length > 800;
    // least connected first: Cytoscape draws in element order, so hubs and their labels come out on top
    const elements: ElementDefinition[] = [...loaded.ranked].reverse().map((i) => {
      const e = loaded.entities[i];
      return {
        group: 'nodes',
        data: {
          id: e.id,
          name: e.name,
          type: e.type,
          color: colorOfType(e.type),
          size: nodeSize(e.mentionCount, loaded.degree[i]),
          labelSize: labelSize(loaded.degree[i]),
        },
        position: { x: positions[i * 2], y: positions[i * 2 + 1] },
        classes: 'hidden',
      };
    });
    for (const r of loaded.relationships) {
      elements.push({ group: 'edges', data: { id: `r-${r.id}`, source: r.sourceId, target: r.targetId, width: 0.6 + r.strength / 5 } });
    }
    cy = cytoscape({
      container: canvas,
      elements,
      layout: { name: 'preset', fit: false },
      minZoom: 0.02,
      maxZoom: 6,
      boxSelectionEnabled: false,
      autoungrabify: true,
      selectionType: 'single',
      // cheaper redraws while panning and zooming big graphs
      textureOnViewport: large,
      hideEdgesOnViewport: large,
      motionBlur: false,
      style: GRAPH_STYLE,
    });
    cy.on('tap', 'node', (event) => void selectEntity((event.target as NodeSingular).id(), { center: true, focusDetail: false }));
    // a tap on the empty canvas leaves the focused neighbourhood, as Escape does
    cy.on('tap', (event) => {
      if (event.target === cy && selectedId) clearSelection();
    });
    let labelFrame = 0;
    cy.on('zoom', () => {
      cancelAnimationFrame(labelFrame);
      labelFrame = requestAnimationFrame(sizeLandmarkLabels);
    });
    resizeObserver = new ResizeObserver(() => cy?.resize());
    resizeObserver.observe(canvas);
    canvas.dataset.layout = refined ? 'forceatlas2' : 'seed';
    canvas.dataset.nodeCount = String(loaded.entities.length);
    canvas.dataset.edgeCount = String(loaded.relationships.length);
    // for scripted checks (and the browser tests): the Cytoscape instance of the graph on screen
    (window as unknown as { byokDashboard?: { cy: Core } }).byokDashboard = { cy };
  }

  /** The landmarks' labels at least LANDMARK_LABEL_PX on screen (a bypass of their font size, in model units). */
  function sizeLandmarkLabels(): void {
    if (!cy) return;
    const zoom = cy.zoom();
    cy.batch(() =>
      cy!.nodes('.landmark').forEach((node) => {
        node.style('font-size', Math.max(node.data('labelSize') as number, LANDMARK_LABEL_PX / zoom));
      }),
    );
  }

  function teardownGraph(): void {
    resizeObserver?.disconnect();
    resizeObserver = undefined;
    cy?.destroy();
    cy = null;
    graph = null;
    selectedId = null;
    delete (window as unknown as { byokDashboard?: unknown }).byokDashboard;
    for (const key of ['layout', 'nodeCount', 'edgeCount', 'visibleCount', 'matchCount', 'shownEdgeCount', 'focus', 'colourBy'])
      delete canvas.dataset[key];
    replaceChildren(legend);
  }

  function setControlsEnabled(enabled: boolean): void {
    for (const control of [typeSelect, colourSelect, search, zoomIn, zoomOut, fit]) control.disabled = !enabled;
  }

  function fillTypes(loaded: LoadedGraph): void {
    replaceChildren(
      typeSelect,
      h('option', { value: '' }, `All types (${formatCount(loaded.entities.length)})`),
      typeCounts(loaded).map(([type, n]) => h('option', { value: type }, `${type} (${formatCount(n)})`)),
    );
  }

  function typeCounts(loaded: LoadedGraph): [string, number][] {
    const counts = new Map<string, number>();
    for (const e of loaded.entities) counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  }

  /** The colour of entity `index` as the "Colour by" choice has it. */
  function colourOf(loaded: LoadedGraph, index: number): string {
    if ((colourSelect.value as ColourBy) === 'type') return colorOfType(loaded.entities[index].type);
    return loaded.communityColours[loaded.communities.of[index]];
  }

  /** Colours nodes, list swatches and the legend by community (Louvain) or by type. */
  function applyColours(): void {
    if (!graph || !cy) return;
    const loaded = graph;
    const core = cy;
    core.batch(() => loaded.entities.forEach((e, i) => core.getElementById(e.id).data('color', colourOf(loaded, i))));
    canvas.dataset.colourBy = colourSelect.value;
    const items: [string | null, string][] =
      colourSelect.value === 'type' ? typeCounts(loaded).map(([type]) => [colorOfType(type), type]) : communityLegend(loaded);
    legend.setAttribute('aria-label', colourSelect.value === 'type' ? 'Entity types' : 'Communities');
    replaceChildren(
      legend,
      items.map(([colour, label]) =>
        h('span', { class: 'legend-item' }, colour ? h('span', { class: 'swatch', dataset: { color: colour } }) : null, label),
      ),
    );
    // swatch colours through the CSSOM: the Content-Security-Policy allows no inline style attributes
    for (const swatch of legend.querySelectorAll<HTMLElement>('.swatch')) swatch.style.backgroundColor = swatch.dataset.color!;
    if (selectedId !== null || list.childElementCount > 0) renderList(currentCandidates().map((i) => loaded.entities[i]));
  }

  /** The largest communities, each named after its best-connected entity, then how many more, then the entities alone. */
  function communityLegend(loaded: LoadedGraph): [string | null, string][] {
    const hubs = new Map<number, number>();
    for (const index of loaded.ranked) {
      const community = loaded.communities.of[index];
      if (!hubs.has(community)) hubs.set(community, index);
    }
    const { sizes } = loaded.communities;
    const groups = sizes.filter((size) => size > 1).length;
    const items: [string | null, string][] = [];
    for (let c = 0; c < Math.min(COLOURED_COMMUNITIES, groups); c++) {
      items.push([loaded.communityColours[c], `${loaded.entities[hubs.get(c)!].name} and ${plural(sizes[c] - 1, 'other')}`]);
    }
    if (groups > COLOURED_COMMUNITIES) items.push([null, `and ${formatCount(groups - COLOURED_COMMUNITIES)} smaller communities`]);
    const alone = sizes.filter((size) => size === 1).length;
    if (alone > 0) items.push([OTHER_COMMUNITY_COLOUR, `${plural(alone, 'entity', 'entities')} alone`]);
    return items;
  }

  /** The indexes of the entities the type filter and the search leave, best connected first. */
  function currentCandidates(): number[] {
    if (!graph) return [];
    const type = typeSelect.value;
    const q = search.value.trim().toLowerCase();
    const entities = graph.entities;
    return graph.ranked.filter((i) => (type === '' || entities[i].type === type) && (q === '' || entities[i].name.toLowerCase().includes(q)));
  }

  /**
   * Shows the best-connected `shownLimit` entities the type filter and the search leave (with the
   * selected entity's neighbourhood), and the relationships among them; the list has every one left.
   */
  function applyFilters(options: { fit: boolean; resetLimit: boolean }): void {
    if (!graph || !cy) return;
    if (options.resetLimit) shownLimit = SHOW_STEP;
    const loaded = graph;
    const core = cy;
    const type = typeSelect.value;
    const q = search.value.trim();
    const candidates = currentCandidates();
    const shown = candidates.slice(0, shownLimit);
    const shownIds = new Set(shown.map((i) => loaded.entities[i].id));
    const visible = new Set(shownIds);
    const landmarks = new Set(shown.slice(0, LANDMARKS).map((i) => loaded.entities[i].id));
    const focus = selectedId ? neighbourhoodIds(selectedId) : null;
    for (const id of focus ?? []) visible.add(id);
    // only the elements whose state changes are restyled: a class change costs Cytoscape a style pass per element
    const wanted = (id: string) => ({
      hidden: !visible.has(id),
      landmark: landmarks.has(id),
      match: q !== '' && shownIds.has(id),
      faded: focus !== null && !focus.has(id),
    });
    core.batch(() => {
      core.nodes().forEach((node) => {
        const id = node.id();
        const state = wanted(id);
        for (const name of ['hidden', 'landmark', 'match', 'faded'] as const) {
          if (node.hasClass(name) === state[name]) continue;
          if (name === 'landmark' && !state.landmark) node.removeStyle('font-size');
          node.toggleClass(name, state[name]);
        }
      });
      if (focus) {
        core.edges().forEach((edge) => {
          edge.toggleClass('faded', !(focus.has(edge.source().id()) && focus.has(edge.target().id())));
        });
      } else {
        core.edges('.faded').removeClass('faded');
      }
    });
    // counted from the data: Cytoscape may not have restyled the edges of nodes it just hid
    const shownEdges = loaded.relationships.filter((r) => visible.has(r.sourceId) && visible.has(r.targetId)).length;
    canvas.dataset.visibleCount = String(visible.size);
    canvas.dataset.matchCount = String(candidates.length);
    canvas.dataset.shownEdgeCount = String(shownEdges);
    renderList(entitiesByName(candidates));
    const what = `${type ? ` of type ${type}` : ''}${q ? ` matching “${q}”` : ''}`;
    const best = shown.length < candidates.length ? ', the best connected first' : '';
    summary.textContent =
      candidates.length === 0
        ? `No entity${what}.`
        : `Showing ${formatCount(shown.length)} of ${plural(candidates.length, 'entity', 'entities')}${what}${best}; ${plural(shownEdges, 'relationship')} among them.`;
    const rest = candidates.length - shown.length;
    showMore.hidden = rest <= 0;
    showMore.textContent = `Show ${formatCount(Math.min(SHOW_STEP, rest))} more`;
    if (options.fit) {
      if (focus) fitTo(core.nodes().filter((node) => focus.has(node.id())));
      else fitVisible();
    }
    sizeLandmarkLabels();
  }

  /** The candidates in the list's order (the API's: by normalized name). */
  function entitiesByName(candidates: number[]): GraphEntity[] {
    return [...candidates].sort((a, b) => a - b).map((i) => graph!.entities[i]);
  }

  /** The entity and the entities it has a relationship with. */
  function neighbourhoodIds(entityId: string): Set<string> {
    const ids = new Set([entityId]);
    for (const r of graph?.links.get(entityId) ?? []) ids.add(r.sourceId === entityId ? r.targetId : r.sourceId);
    return ids;
  }

  function renderList(entities: GraphEntity[]): void {
    const shown = entities.slice(0, LIST_LIMIT);
    listNote.textContent =
      entities.length > LIST_LIMIT
        ? `The first ${formatCount(LIST_LIMIT)} of ${formatCount(entities.length)}, by name: search or choose a type to narrow the list.`
        : entities.length === 0
          ? 'No entity matches.'
          : `${plural(entities.length, 'entity', 'entities')}, by name.`;
    const fragment = document.createDocumentFragment();
    for (const entity of shown) {
      const button = h(
        'button',
        { type: 'button', class: 'entity-button', 'aria-pressed': entity.id === selectedId ? 'true' : 'false', dataset: { entityId: entity.id } },
        h('span', { class: 'swatch', 'aria-hidden': 'true' }),
        h('span', { class: 'entity-name' }, entity.name),
        h('span', { class: 'entity-meta' }, `${entity.type} · ${plural(entity.mentionCount, 'mention')}`),
      );
      (button.firstElementChild as HTMLElement).style.backgroundColor = graph ? colourOf(graph, graph.indexOf.get(entity.id)!) : '';
      fragment.appendChild(h('li', null, button));
    }
    list.replaceChildren(fragment);
  }

  list.addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-entity-id]');
    if (button) void selectEntity(button.dataset.entityId!, { center: true, focusDetail: true });
  });

  /** Selects an entity: its neighbourhood stays, everything else fades, the view fits the neighbourhood. */
  async function selectEntity(entityId: string, options: { center: boolean; focusDetail: boolean }): Promise<void> {
    if (!graph || !cy || !workspace) return;
    const entity = graph.byId.get(entityId);
    if (!entity) return;
    selectedId = entityId;
    for (const button of list.querySelectorAll<HTMLButtonElement>('button[data-entity-id]'))
      button.setAttribute('aria-pressed', String(button.dataset.entityId === entityId));
    const core = cy;
    const node = core.getElementById(entityId);
    core.batch(() => {
      core.elements().unselect();
      core.elements('.neighbour').removeClass('neighbour');
      node.select();
      node.connectedEdges().addClass('neighbour');
      node.neighborhood('node').addClass('neighbour');
    });
    applyFilters({ fit: false, resetLimit: false });
    canvas.dataset.focus = entityId;
    if (options.center) fitTo(node.closedNeighborhood('node'), true);

    detailController?.abort();
    const controller = (detailController = new AbortController());
    renderDetail(entity, null);
    if (options.focusDetail) detail.focus();
    try {
      const full = await context.api.get<EntityDetail>(`/v1/workspaces/${workspace.id}/graph/entities/${entityId}`, { signal: controller.signal });
      if (!controller.signal.aborted) renderDetail(full, full);
    } catch (error) {
      if (isAbort(error) || controller.signal.aborted) return;
      renderDetail(entity, null, messageOf(error));
    }
  }

  /** Leaves the focused neighbourhood: nothing selected, nothing faded, the view fits what the filters show. */
  function clearSelection(): void {
    if (!cy) return;
    detailController?.abort();
    const previous = selectedId;
    selectedId = null;
    delete canvas.dataset.focus;
    const core = cy;
    core.batch(() => {
      core.elements().unselect();
      core.elements('.neighbour').removeClass('neighbour');
    });
    applyFilters({ fit: true, resetLimit: false });
    renderDetailPlaceholder();
    // keyboard users land back where they were: the entity's button in the list, else the canvas
    const button = previous ? list.querySelector<HTMLButtonElement>(`button[data-entity-id="${previous}"]`) : null;
    if (detail.contains(document.activeElement) || document.activeElement === detail) (button ?? canvas).focus();
    context.announce('Selection cleared: the whole graph is shown again.');
  }

  function renderDetailPlaceholder(): void {
    replaceChildren(
      detail,
      h('h2', { id: 'entity-title' }, 'Entity'),
      h(
        'p',
        { class: 'hint' },
        'Select an entity in the graph or in the list to focus on its neighbourhood and see the records that mention it. Escape returns to the whole graph.',
      ),
    );
  }

  function renderDetail(entity: GraphEntity, full: EntityDetail | null, error?: string): void {
    const links = graph?.links.get(entity.id) ?? [];
    const connections = links.slice(0, 50).map((r) => {
      const otherId = r.sourceId === entity.id ? r.targetId : r.sourceId;
      const other = graph?.byId.get(otherId);
      const button = h('button', { type: 'button', class: 'button button-link' }, other?.name ?? 'Unknown entity');
      button.addEventListener('click', () => void selectEntity(otherId, { center: true, focusDetail: true }));
      return h('li', null, button, r.description ? h('span', { class: 'hint' }, ` — ${r.description}`) : null);
    });
    const clear = h('button', { type: 'button', class: 'button button-secondary', 'data-testid': 'clear-selection' }, 'Show the whole graph');
    clear.addEventListener('click', () => clearSelection());
    replaceChildren(
      detail,
      h('div', { class: 'card-title' }, h('h2', { id: 'entity-title' }, entity.name), h('span', { class: 'badge badge-neutral' }, entity.type)),
      h('p', { 'data-testid': 'entity-description' }, entity.description || 'No description.'),
      h('p', null, clear),
      h('h3', null, `Mentioned in ${plural(entity.mentionCount, 'record')}`),
      error
        ? h('p', { class: 'message message-error', role: 'alert' }, `The mentions could not be loaded: ${error}`)
        : full
          ? h(
              'ul',
              { class: 'mentions', 'data-testid': 'mentions' },
              full.mentions.map((m) =>
                h(
                  'li',
                  null,
                  h('span', { class: 'mention-subject' }, m.subject || '(no subject)'),
                  h('span', { class: 'hint' }, `${m.from} · ${formatDate(m.sentAt)} · ${m.externalId}`),
                ),
              ),
            )
          : h('p', { class: 'hint', role: 'status' }, 'Loading the mentions…'),
      full && full.mentionCount > full.mentions.length
        ? h('p', { class: 'hint' }, `The first ${formatCount(full.mentions.length)} are shown.`)
        : null,
      connections.length
        ? [h('h3', null, `Connected to ${plural(links.length, 'entity', 'entities')}`), h('ul', { class: 'connections' }, connections)]
        : null,
    );
  }

  function zoomBy(factor: number): void {
    if (!cy) return;
    // the user's own zoom wins over a centring animation still running
    cy.stop(true, false);
    cy.zoom({ level: cy.zoom() * factor, renderedPosition: { x: canvas.clientWidth / 2, y: canvas.clientHeight / 2 } });
  }

  function fitVisible(): void {
    if (!cy) return;
    // by class, not by :visible, which would compute every node's style first
    fitTo(cy.nodes(selectedId ? ':not(.hidden):not(.faded)' : ':not(.hidden)'));
  }

  /** Fits the view to some nodes, but never closer than 2x: one match should not fill the screen. */
  function fitTo(nodes: cytoscape.NodeCollection, animate = false): void {
    if (!cy || nodes.length === 0) return;
    const core = cy;
    core.stop(true, false);
    if (animate && !reducedMotion.matches) {
      core.animate({ fit: { eles: nodes, padding: 40 } }, { duration: 250, complete: () => clampZoom(nodes) });
      return;
    }
    core.fit(nodes, 40);
    clampZoom(nodes);
  }

  function clampZoom(nodes: cytoscape.NodeCollection): void {
    if (cy && cy.zoom() > 2) {
      cy.zoom(2);
      cy.center(nodes);
    }
  }

  function onCanvasKey(event: KeyboardEvent): void {
    if (!cy) return;
    const pans: Record<string, [number, number]> = {
      ArrowLeft: [PAN_STEP, 0],
      ArrowRight: [-PAN_STEP, 0],
      ArrowUp: [0, PAN_STEP],
      ArrowDown: [0, -PAN_STEP],
    };
    if (pans[event.key]) cy.stop(true, false).panBy({ x: pans[event.key][0], y: pans[event.key][1] });
    else if (event.key === '+' || event.key === '=') zoomBy(1.3);
    else if (event.key === '-' || event.key === '_') zoomBy(1 / 1.3);
    else if (event.key === '0') fitVisible();
    else return;
    event.preventDefault();
  }

  void picker.load().then((selected) => {
    if (selected && !pageController.signal.aborted) void selectWorkspace(selected);
  });

  return {
    title: 'Knowledge graph',
    element,
    dispose() {
      pageController.abort();
      loadController?.abort();
      detailController?.abort();
      window.clearTimeout(searchTimer);
      teardownGraph();
    },
  };
}
