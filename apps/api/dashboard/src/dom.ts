/** A tiny DOM builder: elements from data, never from HTML strings, so API text can never become markup. */

type Child = Node | string | number | null | undefined | false | Child[];
type Handler = (event: never) => void;
export type Attrs = {
  [name: string]: string | number | boolean | null | undefined | Handler | Record<string, string>;
} & { dataset?: Record<string, string> };

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs | null = null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'dataset') {
      Object.assign(element.dataset, value);
    } else if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value as EventListener);
    } else if (typeof value === 'object' || typeof value === 'function') {
      throw new TypeError(`Attribute ${name} takes a string, number or boolean`);
    } else if (name === 'value' && 'value' in element) {
      (element as HTMLInputElement).value = String(value);
    } else if (value === true) {
      element.setAttribute(name, '');
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/**
 * A table in its own horizontal scroll container (a focusable, named region, so keyboard users can
 * scroll it too): a wide table scrolls inside it on a narrow screen instead of widening the page.
 */
export function tableScroll(table: HTMLTableElement, label: string): HTMLDivElement {
  return h('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': label }, table);
}

/** Replaces an element's children. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const count = new Intl.NumberFormat();

export function formatDate(value: string | Date | null | undefined): string {
  if (!value) return '—';
  const date = typeof value === 'string' ? new Date(value) : value;
  return Number.isNaN(date.getTime()) ? '—' : dateTime.format(date);
}

export function formatCount(value: number): string {
  return count.format(value);
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** A message area: `polite` for progress and results, `assertive` (role=alert) for errors. */
export class MessageArea {
  readonly element: HTMLElement;

  constructor(className = '') {
    // role=status / role=alert regions must exist before their text changes to be announced
    this.element = h('div', { class: `message-area ${className}`.trim(), role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
  }

  info(text: string, tone: 'info' | 'success' = 'info'): void {
    this.show(text, tone);
  }

  success(text: string): void {
    this.show(text, 'success');
  }

  error(text: string): void {
    this.show(text, 'error');
  }

  clear(): void {
    replaceChildren(this.element);
    this.element.removeAttribute('data-tone');
    this.element.setAttribute('aria-live', 'polite');
  }

  private show(text: string, tone: 'info' | 'success' | 'error'): void {
    this.element.dataset.tone = tone;
    this.element.setAttribute('aria-live', tone === 'error' ? 'assertive' : 'polite');
    replaceChildren(this.element, h('p', { class: `message message-${tone}` }, tone === 'error' ? h('strong', null, 'Error: ') : null, text));
  }
}

/** Runs an async action from a button: disables it meanwhile and shows a busy label. */
export async function withBusy<T>(button: HTMLButtonElement, busyLabel: string, action: () => Promise<T>): Promise<T> {
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.textContent = busyLabel;
  try {
    return await action();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    // the action may have relabelled the button (e.g. "Save key" became "Replace key"): keep that
    if (button.textContent === busyLabel) button.textContent = label;
  }
}
