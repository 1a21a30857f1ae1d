import { ApiError, isAbort, messageOf } from '../api.js';
import type { AppContext, Page } from '../context.js';
import { formatCount, formatDate, h, MessageArea, replaceChildren, tableScroll, withBusy } from '../dom.js';
import { failureHelp, recordFailureHelp } from '../failures.js';
import { formatMicroUsd } from '../money.js';
import {
  ACTIVE_STATUSES,
  type Backfill,
  type BackfillEstimate,
  type BackfillStatus,
  type FailedRecordsPage,
  type JobUsage,
  type Mailbox,
  PROVIDER_LABELS,
  type ProviderId,
  type Workspace,
} from '../types.js';
import { workspacePicker } from '../workspace-picker.js';

const POLL_MS = 1000;
const STATUS_LABELS: Record<BackfillStatus, string> = {
  queued: 'Queued',
  preflight: 'Checking key',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
};
const STATUS_BADGES: Record<BackfillStatus, string> = {
  queued: 'badge-info',
  preflight: 'badge-info',
  running: 'badge-info',
  succeeded: 'badge-success',
  failed: 'badge-danger',
  cancelled: 'badge-neutral',
};

const isActive = (job: Backfill) => ACTIVE_STATUSES.includes(job.status);

/** What a backfill can read: every source (the API's default), or one of them. */
const SOURCE_LABELS: Record<string, string> = { all: 'All sources', api: 'API uploads', mbox: 'mbox imports', imap: 'Mailbox (IMAP)' };
/** The sources of stored records, always offered; the mailbox is offered only while one is connected. */
const STORED_SOURCES = ['all', 'api', 'mbox'];
const sourceLabel = (source: string) => SOURCE_LABELS[source] ?? source;

function statusBadge(status: BackfillStatus): HTMLElement {
  return h('span', { class: `badge ${STATUS_BADGES[status] ?? 'badge-neutral'}`, dataset: { status } }, STATUS_LABELS[status] ?? status);
}

function keyDescription(job: Backfill): string {
  if (!job.provider) return '—';
  const provider = PROVIDER_LABELS[job.provider] ?? job.provider;
  const sources: Record<string, string> = { tenant: "tenant's key", platform: 'platform key', request: 'request key' };
  const source = (job.keySource && sources[job.keySource]) || 'key not resolved';
  return `${provider}, ${source}${job.keyLast4 ? ` …${job.keyLast4}` : ''}`;
}

/** A job's tokens (input + output) and cost, e.g. "12,345 tokens · $0.0123 (gpt-4o-mini)". */
function usageDescription(usage: JobUsage): string {
  const tokens = `${formatCount(usage.inputTokens + usage.outputTokens)} tokens · ${formatMicroUsd(usage.costMicroUsd)}`;
  return usage.model ? `${tokens} (${usage.model})` : tokens;
}

/** Start backfills (after showing what they would cost), watch one live, and read a workspace's history. */
export function backfillsPage(context: AppContext): Page {
  const { api } = context;
  const controller = new AbortController();
  const startMessages = new MessageArea();
  let workspace: Workspace | null = null;
  /** The selected workspace's mailbox, once known (null: none connected, or not known yet). */
  let mailbox: Mailbox | null = null;
  let current: Backfill | null = null;
  let pollTimer: number | undefined;
  let pollGeneration = 0;
  /** What the panel shows now: updated in place while the same job runs, so focus (e.g. on Cancel) is kept. */
  let rendered: { jobId: string; status: BackfillStatus; update(job: Backfill): void } | null = null;

  const startButton = h('button', { type: 'button', class: 'button button-primary', disabled: true }, 'Start backfill');
  const sourceSelect = h(
    'select',
    { id: 'backfill-source', name: 'source' },
    STORED_SOURCES.map((value) => h('option', { value }, SOURCE_LABELS[value])),
  );
  const mailboxOption = h('option', { value: 'imap' }, SOURCE_LABELS.imap);
  // says where a mailbox is connected when the workspace has none, so the option's absence is explained
  const mailboxHint = h(
    'p',
    { class: 'hint', id: 'backfill-mailbox-hint', hidden: true },
    'To backfill from a mailbox, ',
    h('a', { href: '#/mailbox' }, 'connect one on the Mailbox page'),
    '.',
  );
  sourceSelect.addEventListener('change', () => clearEstimate());
  // what a start would cost, shown before it is confirmed (POST /v1/workspaces/:id/backfills/estimate)
  const estimateBox = h('section', { class: 'estimate', 'aria-labelledby': 'estimate-title', 'data-testid': 'estimate', hidden: true });
  const sourceField = h('div', { class: 'field field-inline' }, h('label', { for: 'backfill-source' }, 'Source'), sourceSelect);
  const picker = workspacePicker(context, 'backfill-workspace', (w) => void selectWorkspace(w));
  const panel = h('section', { class: 'card job-panel', 'aria-labelledby': 'job-title', 'data-testid': 'job-panel' });
  const historyBody = h('tbody');
  // both hidden until the history has loaded
  const historyEmpty = h('p', { class: 'hint', hidden: true }, 'No backfill has run on this workspace yet.');
  const historyTable = h(
    'table',
    { class: 'table', 'data-testid': 'history', hidden: true },
    h('caption', { class: 'visually-hidden' }, 'Backfills of this workspace, newest first'),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        [
          'Created',
          'Source',
          'Status',
          'Records processed',
          'Records failed',
          'Entities',
          'Relationships',
          'Tokens',
          'Cost (USD)',
          'Provider and key',
          'Failure',
          '',
        ].map((label) => h('th', { scope: 'col' }, label)),
      ),
    ),
    historyBody,
  );
  const historyMessages = new MessageArea();

  startButton.addEventListener('click', () => void estimate());

  const element = h(
    'div',
    { class: 'page stack' },
    h(
      'div',
      { class: 'page-header' },
      h('h1', null, 'Backfills'),
      h('p', { class: 'lede' }, "A backfill reads every record of a workspace and extracts its knowledge graph with the tenant's provider key."),
    ),
    h(
      'section',
      { class: 'card', 'aria-label': 'Start a backfill' },
      h('div', { class: 'toolbar' }, picker.element, sourceField, startButton),
      mailboxHint,
      estimateBox,
      startMessages.element,
    ),
    panel,
    h(
      'section',
      { class: 'stack', 'aria-labelledby': 'history-title' },
      h('h2', { id: 'history-title' }, 'History'),
      historyMessages.element,
      historyEmpty,
      h('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-labelledby': 'history-title' }, historyTable),
    ),
  );
  renderPanel();

  async function selectWorkspace(next: Workspace): Promise<void> {
    workspace = next;
    clearEstimate();
    stopPolling();
    current = null;
    startMessages.clear();
    historyEmpty.hidden = true;
    historyTable.hidden = true;
    renderPanel();
    updateStartButton();
    void loadMailbox(next.id);
    const items = await loadHistory();
    // show the newest job, and follow it if it is still going
    if (items && items.length > 0 && workspace?.id === next.id) show(items[0]);
    updateStartButton();
  }

  /** Offers "Mailbox (IMAP)" as a source while the workspace has a mailbox connected. */
  async function loadMailbox(workspaceId: string): Promise<void> {
    mailbox = null;
    showMailboxOption(false);
    try {
      const found = await api.get<Mailbox>(`/v1/workspaces/${workspaceId}/imap-source`, { signal: controller.signal });
      if (workspace?.id !== workspaceId) return;
      mailbox = found;
      showMailboxOption(true);
    } catch (error) {
      if (isAbort(error) || workspace?.id !== workspaceId) return;
      // 404 IMAP_SOURCE_NOT_FOUND is the usual "none connected"; anything else is said, and the option stays away
      if (!(error instanceof ApiError && error.code === 'IMAP_SOURCE_NOT_FOUND'))
        startMessages.error(`The mailbox could not be loaded: ${messageOf(error)}`);
      mailboxHint.hidden = false;
    }
  }

  function showMailboxOption(connected: boolean): void {
    mailboxHint.hidden = true;
    if (connected) {
      if (!mailboxOption.isConnected) sourceSelect.append(mailboxOption);
      return;
    }
    if (sourceSelect.value === 'imap') {
      sourceSelect.value = 'all';
      clearEstimate();
    }
    mailboxOption.remove();
  }

  async function loadHistory(): Promise<Backfill[] | undefined> {
    if (!workspace) return undefined;
    const workspaceId = workspace.id;
    try {
      const { items } = await api.get<{ items: Backfill[] }>(`/v1/workspaces/${workspaceId}/backfills`, { signal: controller.signal });
      if (workspace?.id !== workspaceId) return undefined;
      historyMessages.clear();
      renderHistory(items);
      return items;
    } catch (error) {
      if (!isAbort(error)) historyMessages.error(`The history could not be loaded: ${messageOf(error)}`);
      return undefined;
    }
  }

  function renderHistory(items: Backfill[]): void {
    historyEmpty.hidden = items.length > 0;
    historyTable.hidden = items.length === 0;
    replaceChildren(
      historyBody,
      items.map((job) => {
        const view = h(
          'button',
          { type: 'button', class: 'button button-link', 'aria-label': `Show the backfill created ${formatDate(job.createdAt)}` },
          'Show',
        );
        view.addEventListener('click', () => {
          show(job);
          panel.focus();
        });
        return h(
          'tr',
          { dataset: { jobId: job.id }, class: current?.id === job.id ? 'is-current' : '' },
          h('td', null, formatDate(job.createdAt)),
          h('td', { 'data-testid': 'history-source' }, sourceLabel(job.source)),
          h('td', null, statusBadge(job.status)),
          h('td', { class: 'num' }, formatCount(job.counters.recordsProcessed)),
          h('td', { class: 'num' }, formatCount(job.counters.recordsFailed)),
          h('td', { class: 'num' }, formatCount(job.counters.entities)),
          h('td', { class: 'num' }, formatCount(job.counters.relationships)),
          h('td', { class: 'num', 'data-testid': 'history-tokens' }, formatCount(job.usage.inputTokens + job.usage.outputTokens)),
          h(
            'td',
            { class: 'num', 'data-testid': 'history-cost', dataset: { microUsd: String(job.usage.costMicroUsd) } },
            formatMicroUsd(job.usage.costMicroUsd),
          ),
          h('td', null, keyDescription(job)),
          h('td', null, job.failure ? h('code', null, job.failure.code) : '—'),
          h('td', null, view),
        );
      }),
    );
  }

  function clearEstimate(): void {
    estimateBox.hidden = true;
    replaceChildren(estimateBox);
  }

  /** Asks the API what a start would read and cost, and shows it with "Confirm and start". */
  async function estimate(): Promise<void> {
    if (!workspace) return;
    const workspaceId = workspace.id;
    const source = sourceSelect.value;
    startMessages.clear();
    clearEstimate();
    // the messages are on the mail server: nothing stored tells what they would cost
    if (source === 'imap' && mailbox) return showMailboxConfirmation(mailbox);
    await withBusy(startButton, 'Estimating…', async () => {
      try {
        const found = await api.post<BackfillEstimate>(`/v1/workspaces/${workspaceId}/backfills/estimate`, { source }, { signal: controller.signal });
        if (workspace?.id !== workspaceId || sourceSelect.value !== source) return;
        showEstimate(found, source);
      } catch (error) {
        if (!isAbort(error)) startMessages.error(`The cost could not be estimated: ${messageOf(error)}`);
      }
    });
  }

  function showEstimate(found: BackfillEstimate, source: string): void {
    const confirm = h('button', { type: 'button', class: 'button button-primary' }, 'Confirm and start');
    const cancel = h('button', { type: 'button', class: 'button button-secondary' }, 'Cancel');
    confirm.addEventListener('click', () => void start(confirm, source));
    cancel.addEventListener('click', () => {
      clearEstimate();
      startButton.focus();
    });
    const provider = PROVIDER_LABELS[found.provider as ProviderId] ?? found.provider;
    const fact = (label: string, value: string, testId: string) => h('div', null, h('dt', null, label), h('dd', { 'data-testid': testId }, value));
    const tokens = found.estimatedInputTokens + found.estimatedOutputTokens;
    replaceChildren(
      estimateBox,
      h('h3', { id: 'estimate-title' }, 'Before you start: the estimate'),
      h(
        'dl',
        { class: 'facts facts-inline' },
        fact('Records', formatCount(found.records), 'estimate-records'),
        fact('Characters', formatCount(found.characters), 'estimate-characters'),
        fact(
          'Estimated tokens',
          `${formatCount(tokens)} (${formatCount(found.estimatedInputTokens)} in, ${formatCount(found.estimatedOutputTokens)} out)`,
          'estimate-tokens',
        ),
        fact('Estimated cost', formatMicroUsd(found.estimatedCostMicroUsd), 'estimate-cost'),
        fact('Provider and model', `${provider}, ${found.model}`, 'estimate-model'),
        fact('Prices as of', found.pricesAsOf, 'estimate-prices-as-of'),
      ),
      h(
        'p',
        { class: 'hint' },
        found.resumedFrom ? 'It resumes the last backfill from its checkpoint: only the records after it are counted. ' : '',
        found.outputRatioFrom === 'history'
          ? "Output tokens are estimated from this workspace's past backfills on this model."
          : 'Output tokens are estimated with the configured ratio (no past backfill on this model).',
      ),
      h('div', { class: 'actions' }, confirm, cancel),
    );
    estimateBox.hidden = false;
    confirm.focus();
    context.announce(
      `Estimate: ${formatCount(found.records)} records, about ${formatCount(tokens)} tokens, ${formatMicroUsd(found.estimatedCostMicroUsd)}. Confirm to start.`,
    );
  }

  /** A mailbox backfill: what it will read, and "Confirm and start" (its cost is not known before the fetch). */
  function showMailboxConfirmation(source: Mailbox): void {
    const confirm = h('button', { type: 'button', class: 'button button-primary' }, 'Confirm and start');
    const cancel = h('button', { type: 'button', class: 'button button-secondary' }, 'Cancel');
    confirm.addEventListener('click', () => void start(confirm, 'imap'));
    cancel.addEventListener('click', () => {
      clearEstimate();
      startButton.focus();
    });
    const fact = (label: string, value: string, testId: string) => h('div', null, h('dt', null, label), h('dd', { 'data-testid': testId }, value));
    replaceChildren(
      estimateBox,
      h('h3', { id: 'estimate-title' }, 'Before you start: the mailbox'),
      h(
        'dl',
        { class: 'facts facts-inline' },
        fact('Server', `${source.host}:${source.port}`, 'mailbox-server'),
        fact('User', source.username, 'mailbox-user'),
        fact('Folders', source.folders.join(', '), 'mailbox-folders'),
        fact('Messages since', source.since ?? 'the first', 'mailbox-since'),
      ),
      h(
        'p',
        { class: 'hint' },
        'The messages are fetched by the backfill, so their cost is not known before it runs; the budget still applies page by page. ',
        'The provider key is checked first, then the login to the mailbox, before any message is fetched.',
      ),
      h('div', { class: 'actions' }, confirm, cancel),
    );
    estimateBox.hidden = false;
    confirm.focus();
    context.announce(`A backfill from the mailbox at ${source.host} reads ${source.folders.join(', ')}. Confirm to start.`);
  }

  async function start(button: HTMLButtonElement, source: string): Promise<void> {
    if (!workspace) return;
    const workspaceId = workspace.id;
    startMessages.clear();
    await withBusy(button, 'Starting…', async () => {
      try {
        const { jobId } = await api.post<{ jobId: string }>(`/v1/workspaces/${workspaceId}/backfills`, { source });
        clearEstimate();
        context.announce('Backfill started.');
        startMessages.info('Backfill started: progress below updates every second.');
        const job = await api.get<Backfill>(`/v1/backfills/${jobId}`, { signal: controller.signal });
        show(job);
        if (!isActive(job)) announceStatus(job);
        void loadHistory();
      } catch (error) {
        if (isAbort(error)) return;
        clearEstimate();
        startMessages.error(messageOf(error));
        // the mailbox was removed since the page loaded: the source goes away with it
        if (error instanceof ApiError && error.code === 'IMAP_SOURCE_NOT_FOUND') void loadMailbox(workspaceId);
        if (error instanceof ApiError && error.status === 409) {
          // another backfill is active: follow it
          const items = await loadHistory();
          const active = items?.find(isActive);
          if (active) show(active);
        }
      }
    });
    updateStartButton();
  }

  function updateStartButton(): void {
    const busy = current !== null && isActive(current);
    startButton.disabled = !workspace || busy;
    startButton.title = busy ? 'A backfill is running on this workspace' : '';
  }

  /** Shows a job in the panel and, while it runs, polls it every second. */
  function show(job: Backfill): void {
    const previous = current;
    current = job;
    renderPanel();
    for (const row of historyBody.querySelectorAll('tr')) row.classList.toggle('is-current', row.dataset.jobId === job.id);
    if (previous?.id === job.id && previous.status !== job.status) announceStatus(job);
    if (isActive(job)) {
      schedulePoll(job.id);
    } else {
      stopPolling();
      // "Backfill started…" is stale once the job has ended; the panel says how it ended
      if (startMessages.element.dataset.tone !== 'error') startMessages.clear();
    }
    updateStartButton();
  }

  function announceStatus(job: Backfill): void {
    if (job.status === 'succeeded') {
      context.announce(
        `Backfill succeeded: ${formatCount(job.counters.recordsProcessed)} records processed, ${formatCount(job.counters.entities)} entities and ${formatCount(job.counters.relationships)} relationships added.`,
      );
    } else if (job.status === 'failed') {
      context.announce(`Backfill failed: ${job.failure?.code ?? ''}. ${job.failure?.message ?? ''}`);
    } else {
      context.announce(`Backfill ${STATUS_LABELS[job.status].toLowerCase()}.`);
    }
  }

  function schedulePoll(jobId: string): void {
    stopPolling();
    const generation = ++pollGeneration;
    pollTimer = window.setTimeout(async () => {
      try {
        const job = await api.get<Backfill>(`/v1/backfills/${jobId}`, { signal: controller.signal });
        if (generation !== pollGeneration || current?.id !== jobId) return;
        const ended = !isActive(job);
        show(job);
        if (ended) void loadHistory();
      } catch (error) {
        if (isAbort(error) || generation !== pollGeneration) return;
        // a blip: say so and keep trying, a little slower
        historyMessages.error(`Progress could not be refreshed: ${messageOf(error)}. Retrying…`);
        pollTimer = window.setTimeout(() => schedulePoll(jobId), POLL_MS * 2);
      }
    }, POLL_MS);
  }

  function stopPolling(): void {
    pollGeneration++;
    if (pollTimer !== undefined) window.clearTimeout(pollTimer);
    pollTimer = undefined;
  }

  function renderPanel(): void {
    panel.setAttribute('tabindex', '-1');
    const job = current;
    if (job && rendered && rendered.jobId === job.id && rendered.status === job.status) return rendered.update(job);
    if (!job) {
      rendered = null;
      replaceChildren(
        panel,
        h('h2', { id: 'job-title' }, 'Current backfill'),
        h('p', { class: 'hint' }, workspace ? 'Start a backfill to see its progress here.' : 'Choose a workspace.'),
      );
      return;
    }
    const stats = {
      recordsProcessed: h('span', { class: 'stat-value', 'data-testid': 'records-processed' }),
      recordsFetched: h('span', { class: 'stat-value', 'data-testid': 'records-fetched' }),
      recordsFailed: h('span', { class: 'stat-value', 'data-testid': 'records-failed' }),
      entities: h('span', { class: 'stat-value', 'data-testid': 'entities' }),
      relationships: h('span', { class: 'stat-value', 'data-testid': 'relationships' }),
    };
    const facts = { key: h('dd'), usage: h('dd', { 'data-testid': 'job-usage' }), started: h('dd'), finished: h('dd') };
    const stat = (label: string, value: HTMLElement) => h('div', { class: 'stat' }, value, h('span', { class: 'stat-label' }, label));
    const cancel = isActive(job) ? h('button', { type: 'button', class: 'button button-secondary' }, 'Cancel backfill') : null;
    cancel?.addEventListener(
      'click',
      () =>
        void withBusy(cancel, 'Cancelling…', async () => {
          try {
            await api.post(`/v1/backfills/${job.id}/cancel`);
            context.announce('Cancellation requested: the backfill stops after its current page.');
          } catch (error) {
            startMessages.error(messageOf(error));
          }
        }),
    );
    const hadFocus = panel.contains(document.activeElement) && document.activeElement !== panel;
    replaceChildren(
      panel,
      h(
        'div',
        { class: 'card-title' },
        h('h2', { id: 'job-title' }, 'Current backfill'),
        h('span', { 'data-testid': 'job-status' }, statusBadge(job.status)),
      ),
      isActive(job) ? h('progress', { class: 'progress', 'aria-label': 'Backfill in progress' }) : null,
      h(
        'div',
        { class: 'stats' },
        stat('records processed', stats.recordsProcessed),
        stat('records fetched', stats.recordsFetched),
        stat('records failed', stats.recordsFailed),
        stat('entities added', stats.entities),
        stat('relationships added', stats.relationships),
      ),
      job.failure ? failureBox(job) : null,
      !isActive(job) && job.counters.recordsFailed > 0 ? failedRecordsBox(job) : null,
      h(
        'dl',
        { class: 'facts facts-inline' },
        h('div', null, h('dt', null, 'Source'), h('dd', { 'data-testid': 'job-source' }, sourceLabel(job.source))),
        h('div', null, h('dt', null, 'Provider and key'), facts.key),
        h('div', null, h('dt', null, 'Usage'), facts.usage),
        h('div', null, h('dt', null, 'Created'), h('dd', null, formatDate(job.createdAt))),
        h('div', null, h('dt', null, 'Started'), facts.started),
        h('div', null, h('dt', null, 'Finished'), facts.finished),
        h('div', null, h('dt', null, 'Job'), h('dd', null, h('code', null, job.id))),
      ),
      cancel ? h('div', { class: 'actions' }, cancel) : null,
    );
    // a status change rebuilt the panel: keep keyboard focus inside it rather than losing it to <body>
    if (hadFocus) panel.focus();
    const update = (next: Backfill) => {
      stats.recordsProcessed.textContent = formatCount(next.counters.recordsProcessed);
      stats.recordsFetched.textContent = formatCount(next.counters.recordsFetched);
      stats.recordsFailed.textContent = formatCount(next.counters.recordsFailed);
      stats.entities.textContent = formatCount(next.counters.entities);
      stats.relationships.textContent = formatCount(next.counters.relationships);
      facts.key.textContent = keyDescription(next);
      facts.usage.textContent = usageDescription(next.usage);
      facts.started.textContent = formatDate(next.startedAt);
      facts.finished.textContent = formatDate(next.finishedAt);
    };
    update(job);
    rendered = { jobId: job.id, status: job.status, update };
  }

  /**
   * The records an ended job could not extract: how many per cause with the fix, the first ones
   * with their reason, and a button that retries only them in a new backfill.
   */
  function failedRecordsBox(job: Backfill): HTMLElement {
    const messages = new MessageArea();
    const body = h('div', { class: 'stack' }, h('p', { class: 'hint' }, 'Loading the failed records…'));
    const retry = h('button', { type: 'button', class: 'button button-primary', 'data-testid': 'retry-failed' }, 'Retry failed records');
    retry.addEventListener(
      'click',
      () =>
        void withBusy(retry, 'Starting…', async () => {
          try {
            const { jobId } = await api.post<{ jobId: string }>(`/v1/backfills/${job.id}/retry-failed`);
            context.announce('Retry of the failed records started.');
            show(await api.get<Backfill>(`/v1/backfills/${jobId}`, { signal: controller.signal }));
            void loadHistory();
          } catch (error) {
            if (!isAbort(error)) messages.error(messageOf(error));
          }
        }),
    );
    void api
      .get<FailedRecordsPage>(`/v1/backfills/${job.id}/failures?limit=50`, { signal: controller.signal })
      .then((page) => replaceChildren(body, failedRecordsSummary(page), failedRecordsTable(page)))
      .catch((error: unknown) => {
        if (!isAbort(error)) messages.error(`The failed records could not be loaded: ${messageOf(error)}`);
      });
    return h(
      'section',
      { class: 'failure', 'aria-labelledby': 'failed-records-title', 'data-testid': 'failed-records' },
      h('h3', { id: 'failed-records-title' }, `${formatCount(job.counters.recordsFailed)} records could not be extracted`),
      body,
      messages.element,
      h('div', { class: 'actions' }, retry),
    );
  }

  void picker.load().then((selected) => {
    if (selected && !controller.signal.aborted) void selectWorkspace(selected);
  });

  return {
    title: 'Backfills',
    element,
    dispose() {
      stopPolling();
      controller.abort();
    },
  };
}

/** A failed job: its code, the API's reason, and what to do, with a link to the keys page when the fix is there. */
function failureBox(job: Backfill): HTMLElement {
  const help = failureHelp(job);
  return h(
    'div',
    { class: 'failure', role: 'group', 'aria-labelledby': 'failure-title', 'data-testid': 'failure' },
    h('h3', { id: 'failure-title' }, `${help.title} `, h('code', { class: 'failure-code', 'data-testid': 'failure-code' }, job.failure!.code)),
    h('p', { class: 'failure-reason', 'data-testid': 'failure-reason' }, job.failure!.message),
    h(
      'p',
      { class: 'failure-fix', 'data-testid': 'failure-fix' },
      h('strong', null, 'How to fix: '),
      help.fix,
      help.linkToKeys ? [' ', h('a', { href: '#/keys', class: 'button button-primary button-small' }, 'Go to Provider keys')] : null,
      help.linkToUsage ? [' ', h('a', { href: '#/usage', class: 'button button-primary button-small' }, 'Go to Usage')] : null,
      help.linkToMailbox ? [' ', h('a', { href: '#/mailbox', class: 'button button-primary button-small' }, 'Go to Mailbox')] : null,
    ),
  );
}

/** Failed records per cause, most common first, each with what to do. */
function failedRecordsSummary(page: FailedRecordsPage): HTMLElement {
  return h(
    'ul',
    { class: 'failure-summary', 'data-testid': 'failure-summary' },
    page.summary.map(({ code, count }) => {
      const help = recordFailureHelp(code);
      return h(
        'li',
        null,
        h('strong', null, `${help.title}: ${formatCount(count)} `),
        h('code', null, code),
        h('p', { class: 'failure-fix' }, help.fix),
      );
    }),
  );
}

function failedRecordsTable(page: FailedRecordsPage): HTMLElement {
  const table = h(
    'table',
    { class: 'table', 'data-testid': 'failed-records-list' },
    h('caption', { class: 'visually-hidden' }, 'Failed records, in the order the backfill read them'),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ['Record', 'Subject', 'Code', 'Reason', 'Attempts'].map((label) => h('th', { scope: 'col' }, label)),
      ),
    ),
    h(
      'tbody',
      null,
      page.items.map((item) =>
        h(
          'tr',
          { dataset: { recordId: item.recordId } },
          h('td', null, h('code', null, item.externalId)),
          h('td', null, item.subject || '—'),
          h('td', null, h('code', null, item.code)),
          h('td', null, item.reason),
          h('td', { class: 'num' }, formatCount(item.attempts)),
        ),
      ),
    ),
  );
  return tableScroll(table, 'Failed records');
}
