import cytoscape, { type Core, type ElementDefinition, type NodeSingular } from 'cytoscape';
import { isAbort, messageOf } from '../api.js';
import type { AppContext, Page } from '../context.js';
import { formatCount, formatDate, h, MessageArea, plural, replaceChildren } from '../dom.js';
import { computeLayout } from '../graph/layout.js';
import { colorOfType } from '../graph/palette.js';
import type { EntityDetail, GraphEntity, GraphPage, GraphRelationship, Workspace } from '../types.js';
import { workspacePicker } from '../workspace-picker.js';

const PAGE_LIMIT = 500;
/** The list view shows at most this many entities; search or filter narrows it. */
const LIST_LIMIT = 1000;
const PAN_STEP = 60;
const reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)');

interface LoadedGraph {
  entities: GraphEntity[];
  relationships: GraphRelationship[];
  byId: Map<string, GraphEntity>;
  /** Relationship indexes by entity id. */
  links: Map<string, GraphRelationship[]>;
}

/** Reads every page of a workspace's graph (limit 500, following nextCursor). */
async function loadGraph(context: AppContext, workspaceId: string, signal: AbortSignal, progress: (entities: number) => void): Promise<LoadedGraph> {
  const entities: GraphEntity[] = [];
  const relationships = new Map<string, GraphRelationship>();
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: String(PAGE_LIMIT) });
    if (cursor) query.set('cursor', cursor);
    const page: GraphPage = await context.api.get<GraphPage>(`/v1/workspaces/${workspaceId}/graph?${query}`, { signal });
    entities.push(...page.entities);
    for (const r of page.relationships) relationships.set(r.id, r);
    cursor = page.nextCursor;
    progress(entities.length);
  } while (cursor);
  const byId = new Map(entities.map((e) => [e.id, e]));
  // a relationship is drawn when both its ends were loaded
  const kept = [...relationships.values()].filter((r) => byId.has(r.sourceId) && byId.has(r.targetId));
  const links = new Map<string, GraphRelationship[]>();
  for (const r of kept) {
    for (const end of [r.sourceId, r.targetId]) {
      const list = links.get(end);
      if (list) list.push(r);
      else links.set(end, [r]);
    }
  }
  return { entities, relationships: kept, byId, links };
}

function nodeSize(mentions: number): number {
  return Math.min(36, 10 + 5 * Math.log2(1 + mentions));
}

/** The knowledge graph: an interactive canvas (Cytoscape) with a keyboard-usable list of the same entities beside it. */
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

  const messages = new MessageArea();
  const emptyState = h(
    'div',
    { class: 'card empty-state', hidden: true, 'data-testid': 'graph-empty' },
    h('p', null, 'This workspace has no graph yet: run a backfill to extract one. ', h('a', { href: '#/backfills' }, 'Go to backfills')),
  );
  const summary = h('p', { class: 'graph-summary', role: 'status', 'aria-live': 'polite', 'data-testid': 'graph-summary' });
  const picker = workspacePicker(context, 'graph-workspace', (w) => void selectWorkspace(w));
  const typeSelect = h('select', { id: 'graph-type', name: 'type', disabled: true }, h('option', { value: '' }, 'All types'));
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
    'aria-label': 'Graph view. Arrow keys pan, plus and minus zoom, 0 fits. The entity list has the same entities.',
    'data-testid': 'graph-canvas',
  });
  const canvasWrap = h('figure', { class: 'graph-figure' }, canvas, h('figcaption', { class: 'legend', 'aria-label': 'Entity types' }));
  const list = h('ul', { class: 'entity-list', id: 'entity-list', 'aria-label': 'Entities', 'data-testid': 'entity-list' });
  const listNote = h('p', { class: 'hint' });
  const detail = h('section', { class: 'card entity-detail', 'aria-labelledby': 'entity-title', tabindex: '-1', 'data-testid': 'entity-detail' });

  typeSelect.addEventListener('change', () => applyFilters(true));
  search.addEventListener('input', () => {
    window.clearTimeout(searchTimer);
    searchTimer = window.setTimeout(() => applyFilters(true), 150);
  });
  search.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      window.clearTimeout(searchTimer);
      applyFilters(true);
    }
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
        'Entities and relationships extracted from the workspace’s records. Select an entity to see the records that mention it.',
      ),
    ),
    h(
      'div',
      { class: 'card toolbar graph-toolbar', role: 'search', 'aria-label': 'Graph filters' },
      picker.element,
      h('div', { class: 'field field-inline' }, h('label', { for: 'graph-type' }, 'Type'), typeSelect),
      h('div', { class: 'field field-inline field-grow' }, h('label', { for: 'graph-search' }, 'Search by name'), search),
      h('div', { class: 'button-group', role: 'group', 'aria-label': 'Zoom' }, zoomOut, zoomIn, fit),
    ),
    messages.element,
    emptyState,
    summary,
    layout,
  );
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
      applyFilters(false);
    } catch (error) {
      if (isAbort(error) || controller.signal.aborted) return;
      summary.textContent = '';
      messages.error(`The graph could not be loaded: ${messageOf(error)}`);
    }
  }

  async function draw(loaded: LoadedGraph, signal: AbortSignal): Promise<void> {
    const index = new Map(loaded.entities.map((e, i) => [e.id, i]));
    const edges = new Uint32Array(loaded.relationships.length * 2);
    loaded.relationships.forEach((r, i) => {
      edges[i * 2] = index.get(r.sourceId)!;
      edges[i * 2 + 1] = index.get(r.targetId)!;
    });
    const { positions, refined } = await computeLayout({ types: loaded.entities.map((e) => e.type), edges }, signal);
    if (signal.aborted) return;
    const large = loaded.entities.length > 800;
    const elements: ElementDefinition[] = loaded.entities.map((e, i) => ({
      group: 'nodes',
      data: { id: e.id, name: e.name, type: e.type, color: colorOfType(e.type), size: nodeSize(e.mentionCount) },
      position: { x: positions[i * 2], y: positions[i * 2 + 1] },
    }));
    for (const r of loaded.relationships) {
      elements.push({ group: 'edges', data: { id: `r-${r.id}`, source: r.sourceId, target: r.targetId, width: 0.6 + r.strength / 5 } });
    }
    cy = cytoscape({
      container: canvas,
      elements,
      layout: { name: 'preset', fit: true, padding: 24 },
      minZoom: 0.02,
      maxZoom: 6,
      boxSelectionEnabled: false,
      autoungrabify: true,
      selectionType: 'single',
      // cheaper redraws while panning and zooming big graphs
      textureOnViewport: large,
      hideEdgesOnViewport: large,
      motionBlur: false,
      style: [
        {
          selector: 'node',
          style: {
            'background-color': 'data(color)',
            width: 'data(size)',
            height: 'data(size)',
            label: 'data(name)',
            'font-size': 10,
            'font-family': 'system-ui, sans-serif',
            color: '#1f2937',
            'text-valign': 'bottom',
            'text-margin-y': 3,
            'min-zoomed-font-size': 8,
            'text-wrap': 'ellipsis',
            'text-max-width': '90px',
            'border-width': 1,
            'border-color': '#ffffff',
          },
        },
        {
          selector: 'edge',
          style: { 'curve-style': 'haystack', 'haystack-radius': 0, width: 'data(width)', 'line-color': '#94a3b8', opacity: 0.55 },
        },
        { selector: '.hidden', style: { display: 'none' } },
        { selector: 'node.faded', style: { opacity: 0.15, 'text-opacity': 0 } },
        { selector: 'edge.faded', style: { opacity: 0.06 } },
        { selector: 'node.match', style: { 'border-width': 3, 'border-color': '#f59e0b', 'z-index': 10 } },
        { selector: 'node.neighbour', style: { 'border-width': 2, 'border-color': '#111827' } },
        { selector: 'edge.neighbour', style: { 'line-color': '#111827', opacity: 0.9 } },
        {
          selector: 'node:selected',
          style: {
            'border-width': 4,
            'border-color': '#111827',
            'z-index': 20,
            'font-weight': 'bold',
            'min-zoomed-font-size': 0,
            'text-wrap': 'none',
          },
        },
      ],
    });
    cy.on('tap', 'node', (event) => void selectEntity((event.target as NodeSingular).id(), { center: false, focusDetail: false }));
    resizeObserver = new ResizeObserver(() => cy?.resize());
    resizeObserver.observe(canvas);
    canvas.dataset.layout = refined ? 'forceatlas2' : 'seed';
    canvas.dataset.nodeCount = String(loaded.entities.length);
    canvas.dataset.edgeCount = String(loaded.relationships.length);
    // for scripted checks (and the browser tests): the Cytoscape instance of the graph on screen
    (window as unknown as { byokDashboard?: { cy: Core } }).byokDashboard = { cy };
  }

  function teardownGraph(): void {
    resizeObserver?.disconnect();
    resizeObserver = undefined;
    cy?.destroy();
    cy = null;
    graph = null;
    selectedId = null;
    delete (window as unknown as { byokDashboard?: unknown }).byokDashboard;
    delete canvas.dataset.layout;
    delete canvas.dataset.nodeCount;
    delete canvas.dataset.edgeCount;
    delete canvas.dataset.visibleCount;
    replaceChildren(canvasWrap.querySelector('figcaption')!);
  }

  function setControlsEnabled(enabled: boolean): void {
    for (const control of [typeSelect, search, zoomIn, zoomOut, fit]) control.disabled = !enabled;
  }

  function fillTypes(loaded: LoadedGraph): void {
    const counts = new Map<string, number>();
    for (const e of loaded.entities) counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
    const types = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    replaceChildren(
      typeSelect,
      h('option', { value: '' }, `All types (${formatCount(loaded.entities.length)})`),
      types.map(([type, n]) => h('option', { value: type }, `${type} (${formatCount(n)})`)),
    );
    replaceChildren(
      canvasWrap.querySelector('figcaption')!,
      types.map(([type]) => h('span', { class: 'legend-item' }, h('span', { class: 'swatch', dataset: { color: colorOfType(type) } }), type)),
    );
    // swatch colours through the CSSOM: the Content-Security-Policy allows no inline style attributes
    for (const swatch of canvasWrap.querySelectorAll<HTMLElement>('.swatch')) swatch.style.backgroundColor = swatch.dataset.color!;
  }

  /** Type filter hides other types; the search highlights matching names and fades the rest. The list shows what is left. */
  function applyFilters(userAction: boolean): void {
    if (!graph || !cy) return;
    const type = typeSelect.value;
    const q = search.value.trim().toLowerCase();
    const ofType = type ? graph.entities.filter((e) => e.type === type) : graph.entities;
    const matches = q ? ofType.filter((e) => e.name.toLowerCase().includes(q)) : ofType;
    const matchIds = new Set(matches.map((e) => e.id));
    const core = cy;
    core.batch(() => {
      core.nodes().forEach((node) => {
        const entityType = node.data('type') as string;
        node.toggleClass('hidden', type !== '' && entityType !== type);
        node.toggleClass('faded', q !== '' && !matchIds.has(node.id()));
        node.toggleClass('match', q !== '' && matchIds.has(node.id()));
      });
      core.edges().toggleClass('faded', q !== '');
    });
    canvas.dataset.visibleCount = String(ofType.length);
    canvas.dataset.matchCount = String(matches.length);
    renderList(matches);
    const total = graph.entities.length;
    const what = type ? ` of type ${type}` : '';
    summary.textContent = q
      ? `${plural(matches.length, 'entity', 'entities')}${what} match “${search.value.trim()}” (${formatCount(total)} in the workspace, ${plural(graph.relationships.length, 'relationship')}).`
      : `${plural(ofType.length, 'entity', 'entities')}${what} shown (${formatCount(total)} in the workspace, ${plural(graph.relationships.length, 'relationship')}).`;
    if (userAction || !q) {
      const target = q ? core.nodes('.match') : core.nodes(':visible');
      if (target.length > 0) fitTo(target);
    }
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
      (button.firstElementChild as HTMLElement).style.backgroundColor = colorOfType(entity.type);
      fragment.appendChild(h('li', null, button));
    }
    list.replaceChildren(fragment);
  }

  list.addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-entity-id]');
    if (button) void selectEntity(button.dataset.entityId!, { center: true, focusDetail: true });
  });

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
    if (options.center && node.visible()) {
      const zoom = Math.max(core.zoom(), 1.2);
      if (reducedMotion.matches) core.stop(true, false).zoom(zoom).center(node);
      else core.stop(true, false).animate({ center: { eles: node }, zoom }, { duration: 250 });
    }

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

  function renderDetailPlaceholder(): void {
    replaceChildren(
      detail,
      h('h2', { id: 'entity-title' }, 'Entity'),
      h('p', { class: 'hint' }, 'Select an entity in the graph or in the list to see its description and the records that mention it.'),
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
    replaceChildren(
      detail,
      h('div', { class: 'card-title' }, h('h2', { id: 'entity-title' }, entity.name), h('span', { class: 'badge badge-neutral' }, entity.type)),
      h('p', { 'data-testid': 'entity-description' }, entity.description || 'No description.'),
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
    const matched = cy.nodes('.match');
    fitTo(matched.length ? matched : cy.nodes(':visible'));
  }

  /** Fits the view to some nodes, but never closer than 2x: one match should not fill the screen. */
  function fitTo(nodes: cytoscape.NodeCollection): void {
    if (!cy || nodes.length === 0) return;
    cy.stop(true, false);
    cy.fit(nodes, 40);
    if (cy.zoom() > 2) {
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
