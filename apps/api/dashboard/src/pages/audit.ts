import { isAbort, messageOf } from '../api.js';
import type { AppContext, Page } from '../context.js';
import { formatDate, h, MessageArea, replaceChildren, tableScroll, withBusy } from '../dom.js';
import { AUDIT_ACTION_LABELS, type AuditAction, type AuditEvent, type AuditPage, type KeyTrace } from '../types.js';

const PAGE_SIZE = 50;

/**
 * The tenant's audit log (GET /v1/tenants/:id/audit): who changed a key, a token, a workspace's owner
 * or the key mode, when and from where, newest first; a filter by action and "Show older" through
 * the API's cursor. Keys appear only as last4 and a fingerprint prefix, as the API gives them.
 */
export function auditPage(context: AppContext): Page {
  const { api, tenant } = context;
  const controller = new AbortController();
  const messages = new MessageArea();
  let cursor: string | null = null;

  const actionSelect = h(
    'select',
    { id: 'audit-action', name: 'action' },
    h('option', { value: '' }, 'All actions'),
    Object.entries(AUDIT_ACTION_LABELS).map(([value, label]) => h('option', { value }, label)),
  );
  const body = h('tbody');
  const empty = h('p', { class: 'hint', hidden: true }, 'Nothing recorded yet.');
  const table = h(
    'table',
    { class: 'table', 'data-testid': 'audit-events', hidden: true },
    h('caption', { class: 'visually-hidden' }, 'Audit events, newest first'),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ['When', 'Action', 'By', 'Setting', 'Key before', 'Key after', 'From'].map((label) => h('th', { scope: 'col' }, label)),
      ),
    ),
    body,
  );
  const older = h('button', { type: 'button', class: 'button button-secondary', hidden: true }, 'Show older');

  actionSelect.addEventListener('change', () => void load(true));
  older.addEventListener('click', () => void withBusy(older, 'Loading…', () => load(false)));

  async function load(reset: boolean): Promise<void> {
    if (reset) cursor = null;
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (actionSelect.value) query.set('action', actionSelect.value);
    if (cursor) query.set('cursor', cursor);
    try {
      const page = await api.get<AuditPage>(`/v1/tenants/${tenant.id}/audit?${query.toString()}`, { signal: controller.signal });
      if (reset) replaceChildren(body);
      for (const event of page.items) body.appendChild(row(event));
      cursor = page.nextCursor;
      table.hidden = body.childElementCount === 0;
      empty.hidden = !table.hidden;
      older.hidden = cursor === null;
      messages.clear();
      if (reset) context.announce(`${body.childElementCount} audit events shown`);
    } catch (error) {
      if (!isAbort(error)) messages.error(messageOf(error));
    }
  }

  const element = h(
    'div',
    { class: 'page stack' },
    h(
      'div',
      { class: 'page-header' },
      h('h1', null, 'Audit log'),
      h(
        'p',
        { class: 'lede' },
        "Every change to this tenant's keys, tokens, workspace ownership and key mode: who, when and from where. Keys show only as their last four characters and fingerprint. Entries can never be edited or removed.",
      ),
    ),
    h(
      'section',
      { class: 'card', 'aria-label': 'Filter' },
      h('div', { class: 'toolbar' }, h('div', { class: 'field field-inline' }, h('label', { for: 'audit-action' }, 'Action'), actionSelect)),
    ),
    messages.element,
    empty,
    tableScroll(table, 'Audit events'),
    older,
  );
  void load(true);
  return { title: 'Audit log', element, dispose: () => controller.abort() };
}

function row(event: AuditEvent): HTMLTableRowElement {
  const actor = event.actor.kind === 'platform' ? 'Platform admin' : `Tenant ${event.actor.label}`;
  const from = [event.clientAddress ?? 'unknown address', event.userAgent].filter(Boolean).join(' · ');
  return h(
    'tr',
    { dataset: { action: event.action } },
    h('td', null, h('time', { datetime: event.occurredAt }, formatDate(event.occurredAt))),
    h('td', null, AUDIT_ACTION_LABELS[event.action as AuditAction] ?? event.action),
    h('td', null, actor),
    h('td', null, event.settingKey ?? '—'),
    h('td', { 'data-testid': 'key-before' }, trace(event.before)),
    h('td', { 'data-testid': 'key-after' }, trace(event.after)),
    h('td', { class: 'audit-from' }, from),
  );
}

function trace(key: KeyTrace | null): string {
  if (!key) return '—';
  return [key.last4 ? `…${key.last4}` : null, key.fingerprint ? `fp ${key.fingerprint.slice(0, 12)}` : null].filter(Boolean).join(' · ');
}
