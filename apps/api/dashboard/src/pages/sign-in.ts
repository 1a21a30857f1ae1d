import { messageOf } from '../api.js';
import { verifyToken } from '../auth.js';
import { h, MessageArea, withBusy } from '../dom.js';
import type { Tenant } from '../types.js';

export interface SignInOptions {
  message?: { text: string; tone: 'info' | 'error' };
  onSignedIn(token: string, tenant: Tenant): void;
}

/** The sign-in form: a tenant admin token, checked with GET /v1/me before anything is kept. */
export function signInPage(options: SignInOptions): { element: HTMLElement; focus(): void } {
  const messages = new MessageArea();
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'token-help',
  });
  const submit = h('button', { type: 'submit', class: 'button button-primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'stack', novalidate: true },
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'token' }, 'Tenant admin token'),
      input,
      h('p', { id: 'token-help', class: 'hint' }, 'Kept in this browser tab only, and removed when you sign out or close the tab.'),
    ),
    h('div', null, submit),
    messages.element,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) {
      messages.error('Paste a tenant admin token first.');
      input.focus();
      return;
    }
    void withBusy(submit, 'Signing in…', async () => {
      try {
        const tenant = await verifyToken(token);
        input.value = '';
        options.onSignedIn(token, tenant);
      } catch (error) {
        messages.error(messageOf(error));
        input.focus();
        input.select();
      }
    });
  });
  if (options.message) {
    if (options.message.tone === 'error') messages.error(options.message.text);
    else messages.info(options.message.text);
  }
  const element = h(
    'section',
    { class: 'card sign-in', 'aria-labelledby': 'sign-in-title' },
    h('h1', { id: 'sign-in-title' }, 'Sign in to the dashboard'),
    h('p', null, "Manage your tenant's provider keys, run backfills and explore the knowledge graph."),
    form,
  );
  return { element, focus: () => input.focus() };
}
