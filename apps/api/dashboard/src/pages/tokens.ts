import { messageOf } from '../api.js';
import type { AppContext, Page } from '../context.js';
import { formatDate, h, MessageArea, replaceChildren, tableScroll, withBusy } from '../dom.js';
import { session } from '../session.js';
import type { IssuedToken, Me, TokenInfo, TokenScope } from '../types.js';

const SCOPE_LABELS: Record<TokenScope, string> = { admin: 'Admin', read: 'Read only' };

/**
 * The tenant's API tokens (/v1/tenants/:id/tokens): create one with a name, scope and lifetime (its
 * secret is shown once), list them by prefix, revoke or rotate. Needs an admin-scope token; a
 * read-scope token sees the API's refusal.
 */
export function tokensPage(context: AppContext): Page {
  const { api, tenant } = context;
  const path = `/v1/tenants/${tenant.id}/tokens`;
  const controller = new AbortController();
  const messages = new MessageArea();
  const created = h('div', { class: 'stack', 'data-testid': 'new-token' });
  let ownTokenId: string | null = null;

  const nameInput = h('input', { id: 'token-name', name: 'name', required: true, maxlength: 100, autocomplete: 'off', value: '' });
  const scopeSelect = h(
    'select',
    { id: 'token-scope', name: 'scope' },
    h('option', { value: 'admin' }, 'Admin: everything in this tenant'),
    h('option', { value: 'read' }, 'Read only: GET requests'),
  );
  const daysInput = h('input', { id: 'token-days', name: 'expiresInDays', type: 'number', min: 1, max: 365, step: 1, value: '90', required: true });
  const createButton = h('button', { type: 'submit', class: 'button button-primary' }, 'Create token');
  const form = h(
    'form',
    { class: 'inline-form', 'aria-labelledby': 'create-token-title' },
    h('div', { class: 'field' }, h('label', { for: 'token-name' }, 'Name'), nameInput),
    h('div', { class: 'field' }, h('label', { for: 'token-scope' }, 'Scope'), scopeSelect),
    h('div', { class: 'field' }, h('label', { for: 'token-days' }, 'Expires in (days)'), daysInput),
    createButton,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    messages.clear();
    void withBusy(createButton, 'Creating…', async () => {
      try {
        const body = { name: nameInput.value.trim(), scope: scopeSelect.value, expiresInDays: Number(daysInput.value) };
        const issued = await api.post<IssuedToken>(path, body);
        showSecret(issued, 'created');
        nameInput.value = '';
        await load();
      } catch (error) {
        messages.error(messageOf(error));
      }
    });
  });

  const body = h('tbody');
  const table = h(
    'table',
    { class: 'table', 'data-testid': 'tokens', hidden: true },
    h('caption', { class: 'visually-hidden' }, 'Tokens, newest first'),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ['Name', 'Prefix', 'Scope', 'Created', 'Expires', 'Last used', 'Status', 'Actions'].map((label) => h('th', { scope: 'col' }, label)),
      ),
    ),
    body,
  );

  /** The secret appears here once, with the advice to store it now; it is never fetched again. */
  function showSecret(issued: IssuedToken, verb: 'created' | 'rotated'): void {
    replaceChildren(
      created,
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'secret-title' },
        h('h2', { id: 'secret-title' }, `Token "${issued.name}" ${verb}`),
        h('p', null, 'Copy it now: it is shown only this once. Only its prefix is kept in lists.'),
        h('input', { readonly: true, value: issued.token, 'aria-label': 'New token', class: 'secret', 'data-testid': 'token-secret' }),
      ),
    );
    context.announce(`Token ${issued.name} ${verb}. Copy it now.`);
  }

  function row(token: TokenInfo): HTMLTableRowElement {
    const expired = new Date(token.expiresAt).getTime() <= Date.now();
    const status = token.revokedAt ? 'Revoked' : expired ? 'Expired' : 'Active';
    const actions = h('div', { class: 'actions' });
    if (!token.revokedAt) {
      const rotate = h('button', { type: 'button', class: 'button button-secondary' }, 'Rotate');
      rotate.setAttribute('aria-label', `Rotate token ${token.name}`);
      rotate.addEventListener('click', () => void act(rotate, 'Rotating…', () => rotateToken(token)));
      const revoke = h('button', { type: 'button', class: 'button button-danger-outline' }, 'Revoke');
      revoke.setAttribute('aria-label', `Revoke token ${token.name}`);
      revoke.addEventListener('click', () => confirmRevoke(actions, token));
      actions.append(rotate, revoke);
    }
    return h(
      'tr',
      { dataset: { tokenId: token.id, status: status.toLowerCase() } },
      h('td', null, token.name, token.id === ownTokenId ? h('span', { class: 'hint' }, ' (this session)') : null),
      h('td', null, h('code', null, token.prefix ? `${token.prefix}…` : '—')),
      h('td', null, SCOPE_LABELS[token.scope]),
      h('td', null, formatDate(token.createdAt)),
      h('td', null, formatDate(token.expiresAt)),
      h('td', null, token.lastUsedAt ? formatDate(token.lastUsedAt) : 'Never'),
      h('td', null, h('span', { class: `badge ${status === 'Active' ? 'badge-success' : 'badge-neutral'}` }, status)),
      h('td', null, actions),
    );
  }

  async function rotateToken(token: TokenInfo): Promise<void> {
    const issued = await api.post<IssuedToken>(`${path}/${token.id}/rotate`);
    // this tab signed in with the old token, now revoked: carry on with its replacement
    if (token.id === ownTokenId) {
      session.save(issued.token);
      api.replaceToken(issued.token);
      ownTokenId = issued.id;
    }
    showSecret(issued, 'rotated');
  }

  function confirmRevoke(cell: HTMLElement, token: TokenInfo): void {
    const confirm = h('button', { type: 'button', class: 'button button-danger' }, `Confirm: revoke ${token.name}`);
    const cancel = h('button', { type: 'button', class: 'button button-secondary' }, 'Cancel');
    confirm.addEventListener('click', () => void act(confirm, 'Revoking…', () => api.delete(`${path}/${token.id}`)));
    cancel.addEventListener('click', () => void load());
    replaceChildren(cell, confirm, cancel);
    confirm.focus();
  }

  async function act(button: HTMLButtonElement, busy: string, action: () => Promise<unknown>): Promise<void> {
    messages.clear();
    await withBusy(button, busy, async () => {
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
      if (ownTokenId === null) {
        const me = await api.get<Me>('/v1/me', { signal: controller.signal });
        ownTokenId = me.kind === 'tenant' ? me.token.id : null;
      }
      const { items } = await api.get<{ items: TokenInfo[] }>(path, { signal: controller.signal });
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
      h('h1', null, 'Tokens'),
      h(
        'p',
        { class: 'lede' },
        'API tokens of this tenant. Admin tokens may change anything here, read tokens only read. Every token expires; revoking one takes effect at once.',
      ),
    ),
    h('section', { class: 'card', 'aria-labelledby': 'create-token-title' }, h('h2', { id: 'create-token-title' }, 'New token'), form),
    created,
    messages.element,
    tableScroll(table, 'Tokens'),
  );
  void load();
  return { title: 'Tokens', element, dispose: () => controller.abort() };
}
