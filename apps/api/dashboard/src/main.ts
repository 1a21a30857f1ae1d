import './styles.css';
import { Api, messageOf } from './api.js';
import { verifyToken } from './auth.js';
import type { AppContext, Page, PageFactory } from './context.js';
import { h, replaceChildren } from './dom.js';
import { auditPage } from './pages/audit.js';
import { backfillsPage } from './pages/backfills.js';
import { keysPage } from './pages/keys.js';
import { mailboxPage } from './pages/mailbox.js';
import { signInPage } from './pages/sign-in.js';
import { tokensPage } from './pages/tokens.js';
import { webhooksPage } from './pages/webhooks.js';
import { session } from './session.js';
import type { Tenant, Workspace } from './types.js';

interface Route {
  path: string;
  label: string;
  page: PageFactory;
}

const ROUTES: Route[] = [
  { path: '/keys', label: 'Provider keys', page: keysPage },
  { path: '/backfills', label: 'Backfills', page: backfillsPage },
  { path: '/mailbox', label: 'Mailbox', page: mailboxPage },
  // Cytoscape is most of the bundle: loaded when the graph is first opened
  { path: '/graph', label: 'Knowledge graph', page: lazyPage('Knowledge graph', () => import('./pages/graph.js').then((m) => m.graphPage)) },
  // uPlot is loaded with the usage page, when it is first opened
  { path: '/usage', label: 'Usage', page: lazyPage('Usage', () => import('./pages/usage.js').then((m) => m.usagePage)) },
  { path: '/tokens', label: 'Tokens', page: tokensPage },
  { path: '/webhooks', label: 'Webhooks', page: webhooksPage },
  { path: '/audit', label: 'Audit log', page: auditPage },
];
const DEFAULT_ROUTE = ROUTES[0];

/** A page whose code is fetched on first use; until then a heading and "Loading…". */
function lazyPage(title: string, load: () => Promise<PageFactory>): PageFactory {
  return (context) => {
    const heading = h('h1', null, title);
    const status = h('p', { class: 'hint', role: 'status' }, 'Loading…');
    const element = h('div', { class: 'lazy-page' }, h('div', { class: 'page stack' }, heading, status));
    let page: Page | undefined;
    let disposed = false;
    load().then(
      (factory) => {
        if (disposed) return;
        page = factory(context);
        const hadFocus = document.activeElement === heading;
        replaceChildren(element, page.element);
        if (hadFocus) {
          const next = element.querySelector<HTMLElement>('h1');
          next?.setAttribute('tabindex', '-1');
          next?.focus();
        }
      },
      (error) => {
        status.className = 'message message-error';
        status.textContent = `This page could not be loaded: ${messageOf(error)}. Reload the page to try again.`;
      },
    );
    return {
      title,
      element,
      dispose() {
        disposed = true;
        page?.dispose();
      },
    };
  };
}

const root = document.getElementById('app')!;

function routeOf(hash: string): Route | undefined {
  const path = hash.replace(/^#/, '').split('?')[0];
  return ROUTES.find((r) => r.path === path);
}

/** The signed-in app: header, navigation, one page at a time, chosen by the URL's hash. */
class Dashboard {
  private page: Page | undefined;
  private readonly main = h('main', { id: 'main', tabindex: '-1' });
  private readonly announcer = h('div', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
  private readonly links = new Map<string, HTMLAnchorElement>();
  private workspaceList: Promise<Workspace[]> | undefined;
  private readonly onHashChange = () => this.show();
  private readonly context: AppContext;

  constructor(token: string, tenant: Tenant) {
    const api = new Api(token, () => signOut('Your session has ended: the API no longer accepts this token. Sign in again.'));
    this.context = {
      api,
      tenant,
      announce: (text) => this.announce(text),
      workspaces: (refresh = false) => {
        if (refresh || !this.workspaceList) {
          this.workspaceList = api.get<{ items: Workspace[] }>(`/v1/tenants/${tenant.id}/workspaces`).then((r) => r.items);
          this.workspaceList.catch(() => (this.workspaceList = undefined));
        }
        return this.workspaceList;
      },
      selectedWorkspaceId: null,
    };
  }

  mount(): void {
    const { tenant } = this.context;
    const nav = h(
      'nav',
      { 'aria-label': 'Main' },
      h(
        'ul',
        null,
        ROUTES.map((route) => {
          const link = h('a', { href: `#${route.path}` }, route.label);
          this.links.set(route.path, link);
          return h('li', null, link);
        }),
      ),
    );
    const header = h(
      'header',
      { class: 'app-header' },
      h('div', { class: 'brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'K'), h('span', null, 'BYOK dashboard')),
      nav,
      h(
        'div',
        { class: 'who' },
        h('span', { class: 'tenant-name', title: `Tenant ${tenant.id}` }, tenant.subdomain),
        h('span', { class: 'badge badge-neutral' }, `${tenant.planType} plan`),
        h(
          'span',
          { class: `badge ${tenant.aiKeyMode === 'byok' ? 'badge-info' : 'badge-warn'}`, 'data-testid': 'key-mode' },
          `Key mode: ${tenant.aiKeyMode === 'byok' ? 'BYOK' : 'managed'}`,
        ),
        h(
          'button',
          { type: 'button', class: 'button button-secondary', onclick: () => signOut('You are signed out. The token was removed from this tab.') },
          'Sign out',
        ),
      ),
    );
    const skip = h('a', { class: 'skip-link', href: '#main', onclick: (event: MouseEvent) => this.skipToMain(event) }, 'Skip to content');
    replaceChildren(root, skip, header, this.main, this.announcer);
    window.addEventListener('hashchange', this.onHashChange);
    this.show(false);
  }

  unmount(): void {
    window.removeEventListener('hashchange', this.onHashChange);
    this.page?.dispose();
    this.page = undefined;
  }

  private skipToMain(event: MouseEvent): void {
    event.preventDefault();
    this.main.focus();
  }

  private show(moveFocus = true): void {
    const route = routeOf(location.hash);
    if (!route) {
      history.replaceState(null, '', `#${DEFAULT_ROUTE.path}`);
      return this.show(moveFocus);
    }
    this.page?.dispose();
    try {
      this.page = route.page(this.context);
    } catch (error) {
      this.page = undefined;
      replaceChildren(
        this.main,
        h(
          'div',
          { class: 'page stack' },
          h('h1', null, route.label),
          h('p', { class: 'message message-error', role: 'alert' }, `This page failed to open: ${messageOf(error)}. Reload the page to try again.`),
        ),
      );
      return;
    }
    for (const [path, link] of this.links) {
      if (path === route.path) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    replaceChildren(this.main, this.page.element);
    document.title = `${this.page.title} · ${this.context.tenant.subdomain} · BYOK dashboard`;
    if (moveFocus) {
      // move focus to the new page's heading, as a screen reader user expects after following a link
      const heading = this.main.querySelector<HTMLElement>('h1');
      heading?.setAttribute('tabindex', '-1');
      heading?.focus();
    }
  }

  private announce(text: string): void {
    // cleared first so the same text said twice is announced twice
    this.announcer.textContent = '';
    requestAnimationFrame(() => (this.announcer.textContent = text));
  }
}

let dashboard: Dashboard | undefined;

function showSignIn(message?: { text: string; tone: 'info' | 'error' }): void {
  dashboard?.unmount();
  dashboard = undefined;
  document.title = 'Sign in · BYOK dashboard';
  const page = signInPage({ message, onSignedIn: (token, tenant) => startDashboard(token, tenant) });
  replaceChildren(root, h('main', { id: 'main', class: 'sign-in-main' }, page.element));
  page.focus();
}

function startDashboard(token: string, tenant: Tenant): void {
  session.save(token);
  dashboard = new Dashboard(token, tenant);
  dashboard.mount();
}

function signOut(text: string): void {
  session.clear();
  showSignIn({ text, tone: 'info' });
}

async function boot(): Promise<void> {
  const token = session.token();
  if (!token) return showSignIn();
  try {
    startDashboard(token, await verifyToken(token));
  } catch (error) {
    session.clear();
    showSignIn({ text: messageOf(error), tone: 'error' });
  }
}

void boot();
