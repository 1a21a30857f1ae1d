import { messageOf } from '../api.js';
import type { AppContext, Page } from '../context.js';
import { formatDate, h, MessageArea, replaceChildren, tableScroll, withBusy } from '../dom.js';
import { type IssuedWebhookEndpoint, WEBHOOK_EVENTS, type WebhookAttempt, type WebhookEndpoint } from '../types.js';

const OUTCOME_LABELS: Record<NonNullable<WebhookAttempt['outcome']>, string> = {
  delivered: 'Delivered',
  failed: 'Failed',
  interrupted: 'Interrupted',
};

/**
 * The tenant's webhook endpoints (/v1/tenants/:id/webhooks): create one (its signing secret is shown
 * once), list them with the secret masked, enable or disable, rotate the secret, delete, send a test
 * ping, and read an endpoint's delivery log (one row per attempt). Writing needs an admin-scope token;
 * a read-scope token sees the API's refusal.
 */
export function webhooksPage(context: AppContext): Page {
  const { api, tenant } = context;
  const path = `/v1/tenants/${tenant.id}/webhooks`;
  const controller = new AbortController();
  const messages = new MessageArea();
  const issued = h('div', { class: 'stack', 'data-testid': 'new-webhook' });
  const logArea = h('section', { class: 'card stack', 'aria-labelledby': 'delivery-log-title', hidden: true, 'data-testid': 'delivery-log' });

  const urlInput = h('input', { id: 'webhook-url', name: 'url', type: 'url', required: true, maxlength: 2048, autocomplete: 'off', value: '' });
  const descriptionInput = h('input', { id: 'webhook-description', name: 'description', maxlength: 200, autocomplete: 'off', value: '' });
  const eventBoxes = WEBHOOK_EVENTS.map((event) =>
    h('input', { type: 'checkbox', id: `webhook-event-${event}`, name: 'events', value: event, checked: event !== 'budget.threshold' }),
  );
  const createButton = h('button', { type: 'submit', class: 'button button-primary' }, 'Create webhook');
  const form = h(
    'form',
    { class: 'stack', 'aria-labelledby': 'create-webhook-title' },
    h('div', { class: 'field' }, h('label', { for: 'webhook-url' }, 'Endpoint URL'), urlInput),
    h('div', { class: 'field' }, h('label', { for: 'webhook-description' }, 'Description (optional)'), descriptionInput),
    h(
      'fieldset',
      { class: 'field' },
      h('legend', null, 'Events'),
      eventBoxes.map((box) => h('div', null, box, h('label', { for: box.id }, ` ${box.value}`))),
    ),
    createButton,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    messages.clear();
    void withBusy(createButton, 'Creating…', async () => {
      try {
        const events = eventBoxes.filter((box) => box.checked).map((box) => box.value);
        const description = descriptionInput.value.trim();
        const created = await api.post<IssuedWebhookEndpoint>(path, { url: urlInput.value.trim(), events, ...(description ? { description } : {}) });
        showSecret(created, 'created');
        urlInput.value = '';
        descriptionInput.value = '';
        await load();
      } catch (error) {
        messages.error(messageOf(error));
      }
    });
  });

  const body = h('tbody');
  const table = h(
    'table',
    { class: 'table', 'data-testid': 'webhooks', hidden: true },
    h('caption', { class: 'visually-hidden' }, 'Webhook endpoints, newest first'),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ['URL', 'Events', 'Secret', 'Status', 'Actions'].map((label) => h('th', { scope: 'col' }, label)),
      ),
    ),
    body,
  );

  /** The secret appears here once, with the advice to store it now; lists show it masked. */
  function showSecret(endpoint: IssuedWebhookEndpoint, verb: 'created' | 'rotated'): void {
    replaceChildren(
      issued,
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'webhook-secret-title' },
        h('h2', { id: 'webhook-secret-title' }, `Signing secret ${verb}`),
        h('p', null, 'Copy it now: it is shown only this once. Your receiver checks webhook-signature with it (see the README).'),
        h('input', { readonly: true, value: endpoint.secret, 'aria-label': 'Signing secret', class: 'secret', 'data-testid': 'webhook-secret' }),
      ),
    );
    context.announce(`Signing secret ${verb}. Copy it now.`);
  }

  function button(label: string, name: string, className = 'button button-secondary'): HTMLButtonElement {
    const element = h('button', { type: 'button', class: className }, label);
    element.setAttribute('aria-label', name);
    return element;
  }

  function row(endpoint: WebhookEndpoint): HTMLTableRowElement {
    const label = endpoint.description ?? endpoint.url;
    const actions = h('div', { class: 'actions' });
    const toggle = button(endpoint.enabled ? 'Disable' : 'Enable', `${endpoint.enabled ? 'Disable' : 'Enable'} webhook ${label}`);
    toggle.addEventListener('click', () => void act(toggle, 'Saving…', () => api.patch(`${path}/${endpoint.id}`, { enabled: !endpoint.enabled })));
    const test = button('Send test', `Send test to ${label}`);
    test.addEventListener(
      'click',
      () =>
        void act(test, 'Sending…', async () => {
          await api.post(`${path}/${endpoint.id}/test`);
          messages.success('Test event queued: it shows in the delivery log once sent.');
          await showLog(endpoint);
        }),
    );
    const log = button('Delivery log', `Delivery log of ${label}`);
    log.addEventListener('click', () => void showLog(endpoint));
    const rotate = button('Rotate secret', `Rotate secret of ${label}`);
    rotate.addEventListener(
      'click',
      () =>
        void act(rotate, 'Rotating…', async () =>
          showSecret(await api.post<IssuedWebhookEndpoint>(`${path}/${endpoint.id}/rotate-secret`), 'rotated'),
        ),
    );
    const remove = button('Delete', `Delete webhook ${label}`, 'button button-danger-outline');
    remove.addEventListener('click', () => confirmDelete(actions, endpoint, label));
    actions.append(toggle, test, log, rotate, remove);
    return h(
      'tr',
      { dataset: { webhookId: endpoint.id, status: endpoint.enabled ? 'enabled' : 'disabled' } },
      h('td', null, h('code', null, endpoint.url), endpoint.description ? h('div', { class: 'hint' }, endpoint.description) : null),
      h('td', null, endpoint.events.join(', ')),
      h('td', null, h('code', null, endpoint.secretMasked)),
      h('td', null, h('span', { class: `badge ${endpoint.enabled ? 'badge-success' : 'badge-neutral'}` }, endpoint.enabled ? 'Enabled' : 'Disabled')),
      h('td', null, actions),
    );
  }

  function confirmDelete(cell: HTMLElement, endpoint: WebhookEndpoint, label: string): void {
    const confirm = h('button', { type: 'button', class: 'button button-danger' }, `Confirm: delete ${label}`);
    const cancel = h('button', { type: 'button', class: 'button button-secondary' }, 'Cancel');
    confirm.addEventListener(
      'click',
      () =>
        void act(confirm, 'Deleting…', async () => {
          await api.delete(`${path}/${endpoint.id}`);
          logArea.hidden = true;
        }),
    );
    cancel.addEventListener('click', () => void load());
    replaceChildren(cell, confirm, cancel);
    confirm.focus();
  }

  /** The endpoint's last attempts, newest first (the first page of the log). */
  async function showLog(endpoint: WebhookEndpoint): Promise<void> {
    try {
      const { items } = await api.get<{ items: WebhookAttempt[] }>(`${path}/${endpoint.id}/deliveries?limit=50`, { signal: controller.signal });
      const refresh = h('button', { type: 'button', class: 'button button-secondary' }, 'Refresh');
      refresh.addEventListener('click', () => void showLog(endpoint));
      replaceChildren(
        logArea,
        h('h2', { id: 'delivery-log-title' }, `Delivery log: ${endpoint.description ?? endpoint.url}`),
        items.length === 0
          ? h('p', { class: 'hint' }, 'No delivery yet.')
          : tableScroll(
              h(
                'table',
                { class: 'table' },
                h('caption', { class: 'visually-hidden' }, 'Delivery attempts, newest first'),
                h(
                  'thead',
                  null,
                  h(
                    'tr',
                    null,
                    ['Time', 'Event', 'Attempt', 'Outcome', 'Status code', 'Duration', 'Error', 'Delivery'].map((l) => h('th', { scope: 'col' }, l)),
                  ),
                ),
                h(
                  'tbody',
                  null,
                  items.map((a) =>
                    h(
                      'tr',
                      { dataset: { outcome: a.outcome ?? 'in-flight' } },
                      h('td', null, formatDate(a.attemptedAt)),
                      h('td', null, a.eventType),
                      h('td', null, String(a.attempt)),
                      h('td', null, a.outcome ? OUTCOME_LABELS[a.outcome] : 'In flight'),
                      h('td', null, a.statusCode === null ? '—' : String(a.statusCode)),
                      h('td', null, a.durationMs === null ? '—' : `${a.durationMs} ms`),
                      h('td', null, a.errorClass ?? '—'),
                      h('td', null, a.deliveryStatus),
                    ),
                  ),
                ),
              ),
              'Delivery attempts',
            ),
        refresh,
      );
      logArea.hidden = false;
    } catch (error) {
      if (!controller.signal.aborted) messages.error(messageOf(error));
    }
  }

  async function act(target: HTMLButtonElement, busy: string, action: () => Promise<unknown>): Promise<void> {
    messages.clear();
    await withBusy(target, busy, async () => {
      try {
        await action();
        await load();
      } catch (error) {
        messages.error(messageOf(error));
      }
    });
  }

  async function load(): Promise<void> {
    try {
      const { items } = await api.get<{ items: WebhookEndpoint[] }>(path, { signal: controller.signal });
      replaceChildren(body, items.map(row));
      table.hidden = items.length === 0;
    } catch (error) {
      if (!controller.signal.aborted) messages.error(messageOf(error));
    }
  }

  const element = h(
    'div',
    { class: 'page stack' },
    h(
      'div',
      { class: 'page-header' },
      h('h1', null, 'Webhooks'),
      h(
        'p',
        { class: 'lede' },
        'Endpoints told when a backfill ends, a key becomes invalid or a budget threshold is crossed. Each request is signed (Standard Webhooks) and retried until your endpoint answers 2xx.',
      ),
    ),
    h('section', { class: 'card', 'aria-labelledby': 'create-webhook-title' }, h('h2', { id: 'create-webhook-title' }, 'New webhook'), form),
    issued,
    messages.element,
    tableScroll(table, 'Webhooks'),
    logArea,
  );
  void load();
  return { title: 'Webhooks', element, dispose: () => controller.abort() };
}
