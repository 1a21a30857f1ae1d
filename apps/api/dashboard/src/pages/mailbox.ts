import { ApiError, isAbort, messageOf } from '../api.js';
import type { AppContext, Page } from '../context.js';
import { formatDate, h, MessageArea, plural, replaceChildren, withBusy } from '../dom.js';
import { mailboxFailureHelp } from '../failures.js';
import type { Mailbox, MailboxAuthMethod, MailboxStatus, MailboxTest, MailboxTlsMode, Workspace } from '../types.js';
import { workspacePicker } from '../workspace-picker.js';

const TLS_LABELS: Record<MailboxTlsMode, string> = {
  implicit: 'Implicit TLS (port 993)',
  starttls: 'STARTTLS (port 143)',
  none: 'None (only where the operator allows it)',
};
const AUTH_LABELS: Record<MailboxAuthMethod, string> = { password: 'Password', xoauth2: 'OAuth2 access token (XOAUTH2)' };
const STATUS_LABELS: Record<MailboxStatus, string> = { unknown: 'Not tested', valid: 'Valid', invalid: 'Invalid' };
const STATUS_BADGES: Record<MailboxStatus, string> = { unknown: 'badge-warn', valid: 'badge-success', invalid: 'badge-danger' };

/** The body fields of PUT .../imap-source, and the form field that holds each (for marking the one an error names). */
const FIELD_IDS: Record<string, string> = {
  host: 'mailbox-host',
  port: 'mailbox-port',
  tlsMode: 'mailbox-tls',
  username: 'mailbox-username',
  authMethod: 'mailbox-auth',
  secret: 'mailbox-secret',
  folders: 'mailbox-folders',
  since: 'mailbox-since',
};

/** The field a refusal is about: EGRESS_REFUSED is the host's; VALIDATION_FAILED names its field first ("host must…", "folders.0: …"). */
function fieldOf(error: unknown): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  if (error.code === 'EGRESS_REFUSED') return 'host';
  if (error.code !== 'VALIDATION_FAILED') return undefined;
  const first = /^[A-Za-z]+/.exec(error.message)?.[0];
  return first && first in FIELD_IDS ? first : undefined;
}

/** The API's message, with what a refused host or a mailbox code means. */
function describe(error: unknown): string {
  if (error instanceof ApiError && error.code === 'EGRESS_REFUSED')
    return `The platform will not connect to this host: ${error.message.replace(/\.?$/, '.')}`;
  const help = error instanceof ApiError ? mailboxFailureHelp(error.code) : undefined;
  return help ? `${help.title}: ${messageOf(error)} ${help.fix}` : messageOf(error);
}

/** Folder names as typed: one per line or separated by commas, blanks dropped. */
function parseFolders(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((folder) => folder.trim())
    .filter((folder) => folder !== '');
}

/**
 * A workspace's mailbox (/v1/workspaces/:id/imap-source), the source of backfills from IMAP: its
 * server, user, TLS mode, folders and "since" day, the password or OAuth2 token (written, never shown:
 * a stored one appears only as its last four characters), its status, Save, Test connection (each
 * folder's message count, or why it failed) and Remove.
 */
export function mailboxPage(context: AppContext): Page {
  const { api } = context;
  const controller = new AbortController();
  const messages = new MessageArea('mailbox-messages');
  // a field with an error names this area in its aria-describedby
  messages.element.id = 'mailbox-message';
  let workspace: Workspace | null = null;
  let mailbox: Mailbox | null = null;

  const input = (id: string, attrs: Record<string, string | number | boolean> = {}) =>
    h('input', { id, name: id, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': `${id}-hint`, ...attrs });
  const hint = (id: string, ...text: (string | HTMLElement)[]) => h('p', { class: 'hint', id: `${id}-hint` }, ...text);
  const hostInput = input(FIELD_IDS.host, { type: 'text', required: true, maxlength: 253, placeholder: 'imap.example.com' });
  // text, not number: a typo reaches the API, which says what is wrong, rather than being dropped as ""
  const portInput = input(FIELD_IDS.port, { type: 'text', inputmode: 'numeric', maxlength: 5, placeholder: '993' });
  const tlsSelect = h(
    'select',
    { id: FIELD_IDS.tlsMode, name: FIELD_IDS.tlsMode, 'aria-describedby': `${FIELD_IDS.tlsMode}-hint` },
    Object.entries(TLS_LABELS).map(([value, label]) => h('option', { value }, label)),
  );
  const usernameInput = input(FIELD_IDS.username, { type: 'text', required: true, maxlength: 320 });
  const authSelect = h(
    'select',
    { id: FIELD_IDS.authMethod, name: FIELD_IDS.authMethod, 'aria-describedby': `${FIELD_IDS.authMethod}-hint` },
    Object.entries(AUTH_LABELS).map(([value, label]) => h('option', { value }, label)),
  );
  // never filled from the API (it never returns the secret); a stored one shows only as the placeholder
  const secretInput = input(FIELD_IDS.secret, { type: 'password', maxlength: 8192 });
  const secretLabel = h('label', { for: FIELD_IDS.secret }, 'Password');
  const secretHint = hint(FIELD_IDS.secret);
  const foldersInput = h('textarea', {
    id: FIELD_IDS.folders,
    name: FIELD_IDS.folders,
    rows: 3,
    spellcheck: 'false',
    'aria-describedby': `${FIELD_IDS.folders}-hint`,
  });
  foldersInput.value = 'INBOX';
  const sinceInput = input(FIELD_IDS.since, { type: 'date' });
  const fields = [hostInput, portInput, tlsSelect, usernameInput, authSelect, secretInput, foldersInput, sinceInput];

  const saveButton = h('button', { type: 'submit', class: 'button button-primary' }, 'Save mailbox');
  const testButton = h('button', { type: 'button', class: 'button button-secondary', disabled: true }, 'Test connection');
  const removeArea = h('div', { class: 'remove-area' });
  const testResult = h('div', { 'data-testid': 'mailbox-test-result' });

  const badge = h('span', { class: 'badge badge-neutral', 'data-testid': 'mailbox-status' }, 'Not connected');
  const facts = {
    statusCode: h('dd', { 'data-testid': 'mailbox-status-code' }, '—'),
    server: h('dd', { 'data-testid': 'mailbox-server' }, '—'),
    secret: h('dd', { 'data-testid': 'mailbox-secret' }, '—'),
    checked: h('dd', { 'data-testid': 'mailbox-checked' }, '—'),
    updated: h('dd', null, '—'),
  };
  const statusHint = h('p', { class: 'hint', 'data-testid': 'mailbox-summary' }, 'Choose a workspace.');

  const field = (id: string, label: HTMLElement | string, control: HTMLElement, help?: HTMLElement) =>
    h('div', { class: 'field field-grow' }, typeof label === 'string' ? h('label', { for: id }, label) : label, control, help ?? null);
  const form = h(
    'form',
    { class: 'stack', novalidate: true, 'aria-labelledby': 'mailbox-form-title' },
    h(
      'div',
      { class: 'inline-form' },
      field(FIELD_IDS.host, 'Host', hostInput, hint(FIELD_IDS.host, 'A host name or address the platform may reach.')),
      field(FIELD_IDS.port, 'Port (optional)', portInput, hint(FIELD_IDS.port, 'Empty: 993 with implicit TLS, 143 otherwise.')),
      field(
        FIELD_IDS.tlsMode,
        'TLS mode',
        tlsSelect,
        hint(FIELD_IDS.tlsMode, 'The certificate is always verified; no TLS only where the platform operator allows it.'),
      ),
    ),
    h(
      'div',
      { class: 'inline-form' },
      field(FIELD_IDS.username, 'User name', usernameInput, hint(FIELD_IDS.username, 'Usually the full email address.')),
      field(
        FIELD_IDS.authMethod,
        'Sign-in method',
        authSelect,
        hint(
          FIELD_IDS.authMethod,
          'A token is sent with AUTHENTICATE XOAUTH2 (Gmail, Microsoft 365); it expires, so save a fresh one before a backfill.',
        ),
      ),
      field(FIELD_IDS.secret, secretLabel, secretInput, secretHint),
    ),
    h(
      'div',
      { class: 'inline-form' },
      field(FIELD_IDS.folders, 'Folders', foldersInput, hint(FIELD_IDS.folders, 'One per line or separated by commas; INBOX when empty.')),
      field(FIELD_IDS.since, 'Messages since (optional)', sinceInput, hint(FIELD_IDS.since, 'Only messages on or after this day (UTC).')),
    ),
    h('div', { class: 'actions' }, saveButton, testButton, removeArea),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void save();
  });
  testButton.addEventListener('click', () => void test());
  authSelect.addEventListener('change', () => renderSecretField());
  tlsSelect.addEventListener('change', () => (portInput.placeholder = tlsSelect.value === 'implicit' ? '993' : '143'));

  const picker = workspacePicker(context, 'mailbox-workspace', (w) => void selectWorkspace(w));
  const element = h(
    'div',
    { class: 'page stack' },
    h(
      'div',
      { class: 'page-header' },
      h('h1', null, 'Mailbox'),
      h(
        'p',
        { class: 'lede' },
        "Connect a workspace's mailbox over IMAP, and a backfill reads its history (Backfills, source Mailbox). The password or token is stored encrypted and never shown again.",
      ),
    ),
    h('section', { class: 'card', 'aria-label': 'Workspace' }, h('div', { class: 'toolbar' }, picker.element)),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'mailbox-status-title', 'data-testid': 'mailbox-card' },
      h('div', { class: 'card-title' }, h('h2', { id: 'mailbox-status-title' }, 'Connection'), badge),
      statusHint,
      h(
        'dl',
        { class: 'facts facts-inline mailbox-facts' },
        h('div', null, h('dt', null, 'Server'), facts.server),
        h('div', null, h('dt', null, 'Password or token'), facts.secret),
        h('div', null, h('dt', null, 'Status code'), facts.statusCode),
        h('div', null, h('dt', null, 'Last tested'), facts.checked),
        h('div', null, h('dt', null, 'Updated'), facts.updated),
      ),
      testResult,
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'mailbox-form-title' },
      h('h2', { id: 'mailbox-form-title' }, 'Connection'),
      form,
      messages.element,
    ),
  );
  render(null);

  async function selectWorkspace(next: Workspace): Promise<void> {
    workspace = next;
    clearMessages();
    replaceChildren(testResult);
    render(null);
    statusHint.textContent = 'Loading…';
    try {
      const found = await api.get<Mailbox>(`/v1/workspaces/${next.id}/imap-source`, { signal: controller.signal });
      if (workspace?.id !== next.id) return;
      render(found, true);
    } catch (error) {
      if (isAbort(error) || workspace?.id !== next.id) return;
      render(null, true);
      if (!(error instanceof ApiError && error.code === 'IMAP_SOURCE_NOT_FOUND'))
        messages.error(`The mailbox could not be loaded: ${messageOf(error)}`);
    }
  }

  /** Shows the stored mailbox (null: none); `fill` also puts its settings in the form (on load, not over an edit). */
  function render(next: Mailbox | null, fill = false): void {
    mailbox = next;
    if (fill) {
      hostInput.value = next?.host ?? '';
      portInput.value = next ? String(next.port) : '';
      tlsSelect.value = next?.tlsMode ?? 'implicit';
      usernameInput.value = next?.username ?? '';
      authSelect.value = next?.authMethod ?? 'password';
      foldersInput.value = next ? next.folders.join('\n') : 'INBOX';
      sinceInput.value = next?.since ?? '';
      portInput.placeholder = tlsSelect.value === 'implicit' ? '993' : '143';
    }
    secretInput.value = '';
    renderSecretField();
    const status = next?.status;
    badge.textContent = status ? STATUS_LABELS[status] : 'Not connected';
    badge.className = `badge ${status ? STATUS_BADGES[status] : 'badge-neutral'}`;
    badge.dataset.status = status ?? 'none';
    badge.setAttribute('aria-label', `Mailbox status: ${badge.textContent}`);
    statusHint.textContent = !workspace
      ? 'Choose a workspace.'
      : !next
        ? 'No mailbox is connected to this workspace. Fill in the settings below and save.'
        : next.status === 'valid'
          ? 'The last test logged in and found every folder.'
          : next.status === 'invalid'
            ? 'The mailbox refused the login: enter the current password or a fresh token, then test again.'
            : 'Not tested since it was saved: use Test connection.';
    replaceChildren(facts.statusCode, next?.statusCode ? h('code', null, next.statusCode) : '—');
    facts.server.textContent = next ? `${next.host}:${next.port}, ${TLS_LABELS[next.tlsMode].replace(/ \(.*\)$/, '')}, ${next.username}` : '—';
    facts.secret.textContent = next
      ? next.secretLast4
        ? `${AUTH_LABELS[next.authMethod]}, ends in …${next.secretLast4}`
        : AUTH_LABELS[next.authMethod]
      : '—';
    facts.checked.textContent = next?.checkedAt ? formatDate(next.checkedAt) : next ? 'Never' : '—';
    facts.updated.textContent = next ? formatDate(next.updatedAt) : '—';
    testButton.disabled = !next;
    saveButton.disabled = !workspace;
    renderRemove(false);
  }

  /** The secret's label and placeholder follow the sign-in method and whether one is stored. */
  function renderSecretField(): void {
    const token = authSelect.value === 'xoauth2';
    secretLabel.textContent = token ? 'OAuth2 access token' : 'Password';
    const stored = mailbox?.secretLast4 ?? null;
    secretInput.placeholder = mailbox ? (stored ? `stored, ends in …${stored}` : 'stored') : '';
    secretHint.textContent = mailbox
      ? 'Stored encrypted and never shown. Leave empty to keep the stored one.'
      : 'Required. Stored encrypted and never shown again.';
  }

  function renderRemove(confirming: boolean): void {
    if (!mailbox) return replaceChildren(removeArea);
    if (!confirming) {
      const remove = h('button', { type: 'button', class: 'button button-danger-outline' }, 'Remove mailbox');
      remove.addEventListener('click', () => {
        renderRemove(true);
        removeArea.querySelector<HTMLButtonElement>('button')?.focus();
      });
      return replaceChildren(removeArea, remove);
    }
    const confirm = h('button', { type: 'button', class: 'button button-danger' }, 'Confirm: remove the mailbox');
    const cancel = h('button', { type: 'button', class: 'button button-secondary' }, 'Cancel');
    confirm.addEventListener('click', () => void remove(confirm));
    cancel.addEventListener('click', () => {
      renderRemove(false);
      removeArea.querySelector<HTMLButtonElement>('button')?.focus();
    });
    replaceChildren(removeArea, confirm, cancel);
  }

  /** The PUT body from the form: the secret only when typed (left out, the stored one is kept). */
  function body(): Record<string, unknown> {
    const port = portInput.value.trim();
    const folders = parseFolders(foldersInput.value);
    return {
      host: hostInput.value.trim(),
      ...(port ? { port: /^\d+$/.test(port) ? Number(port) : port } : {}),
      tlsMode: tlsSelect.value,
      username: usernameInput.value.trim(),
      authMethod: authSelect.value,
      ...(secretInput.value ? { secret: secretInput.value } : {}),
      ...(folders.length > 0 ? { folders } : {}),
      since: sinceInput.value || null,
    };
  }

  async function save(): Promise<void> {
    if (!workspace) return;
    const workspaceId = workspace.id;
    clearMessages();
    await withBusy(saveButton, 'Saving…', async () => {
      try {
        const saved = await api.put<Mailbox>(`/v1/workspaces/${workspaceId}/imap-source`, body());
        if (workspace?.id !== workspaceId) return;
        replaceChildren(testResult);
        render(saved, true);
        messages.success(`Mailbox saved (${saved.host}). Test the connection to check the login and the folders.`);
        context.announce('Mailbox saved.');
      } catch (error) {
        // what was typed stays in the form (the secret too) so it can be corrected
        showError(describe(error), fieldOf(error));
      }
    });
  }

  async function test(): Promise<void> {
    if (!workspace || !mailbox) return;
    const workspaceId = workspace.id;
    clearMessages();
    replaceChildren(testResult);
    await withBusy(testButton, 'Testing…', async () => {
      try {
        const result = await api.post<MailboxTest>(`/v1/workspaces/${workspaceId}/imap-source/test`, undefined, { signal: controller.signal });
        if (workspace?.id !== workspaceId) return;
        replaceChildren(
          testResult,
          h('h3', { id: 'mailbox-test-title' }, 'Folders found'),
          h(
            'ul',
            { class: 'folder-counts', 'aria-labelledby': 'mailbox-test-title' },
            result.folders.map((f) => h('li', { dataset: { folder: f.name } }, h('strong', null, f.name), `: ${plural(f.messages, 'message')}`)),
          ),
        );
        const total = result.folders.reduce((sum, f) => sum + f.messages, 0);
        messages.success(`The mailbox answered: ${plural(result.folders.length, 'folder')}, ${plural(total, 'message')} in all.`);
      } catch (error) {
        if (isAbort(error)) return;
        messages.error(describe(error));
      }
      // the test recorded its verdict (valid, or invalid after a refused login): show it
      await refresh(workspaceId);
    });
  }

  async function remove(button: HTMLButtonElement): Promise<void> {
    if (!workspace) return;
    const workspaceId = workspace.id;
    clearMessages();
    await withBusy(button, 'Removing…', async () => {
      try {
        await api.delete(`/v1/workspaces/${workspaceId}/imap-source`);
        if (workspace?.id !== workspaceId) return;
        replaceChildren(testResult);
        render(null, true);
        messages.success('Mailbox removed: its password or token is deleted, and backfills can no longer read it.');
        context.announce('Mailbox removed.');
        hostInput.focus();
      } catch (error) {
        messages.error(describe(error));
        await refresh(workspaceId);
      }
    });
  }

  /** Reads the mailbox again without touching what is typed in the form. */
  async function refresh(workspaceId: string): Promise<void> {
    try {
      const found = await api.get<Mailbox>(`/v1/workspaces/${workspaceId}/imap-source`, { signal: controller.signal });
      if (workspace?.id === workspaceId) render(found);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'IMAP_SOURCE_NOT_FOUND' && workspace?.id === workspaceId) render(null);
    }
  }

  function showError(text: string, name: string | undefined): void {
    messages.error(text);
    if (!name) return;
    // the field names its error, so a screen reader reads it with the field
    const target = document.getElementById(FIELD_IDS[name]);
    target?.setAttribute('aria-invalid', 'true');
    target?.setAttribute('aria-describedby', `${FIELD_IDS[name]}-hint ${messages.element.id}`);
    target?.focus();
  }

  function clearMessages(): void {
    messages.clear();
    for (const f of fields) {
      f.removeAttribute('aria-invalid');
      if (f.getAttribute('aria-describedby')?.includes(' ')) f.setAttribute('aria-describedby', `${f.id}-hint`);
    }
  }

  void picker.load().then((selected) => {
    if (selected && !controller.signal.aborted) void selectWorkspace(selected);
  });

  return { title: 'Mailbox', element, dispose: () => controller.abort() };
}
