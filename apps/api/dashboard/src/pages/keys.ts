import { ApiError, messageOf } from '../api.js';
import type { AppContext, Page } from '../context.js';
import { formatDate, h, MessageArea, replaceChildren, withBusy } from '../dom.js';
import { ProviderSettingForm } from '../provider-setting-form.js';
import { apiKeySetting, PROVIDER_LABELS, providerSettingFields, PROVIDERS, type ProviderId, type Setting, type ValidationResult } from '../types.js';

const STATUS_LABELS = { 'not-set': 'Not set', unknown: 'Unknown', valid: 'Valid', invalid: 'Invalid' } as const;
const STATUS_HINTS = {
  'not-set': 'No key stored.',
  unknown: 'Stored, not checked yet: use Validate now.',
  valid: 'The provider accepted this key.',
  invalid: 'The provider refused this key: replace it.',
} as const;
type KeyStatus = keyof typeof STATUS_LABELS;

/**
 * The tenant's provider keys (status, last4, validation), each provider's model (and a tenant
 * endpoint's URL and API version), the key mode and the graph provider setting.
 */
export function keysPage(context: AppContext): Page {
  const { api, tenant } = context;
  const settingsPath = `/v1/tenants/${tenant.id}/settings`;
  const controller = new AbortController();
  const pageMessages = new MessageArea();
  const cards = new Map<ProviderId, ProviderCard>();
  let settings = new Map<string, Setting>();

  const providerSelect = h(
    'select',
    { id: 'graphrag-provider', name: 'provider' },
    PROVIDERS.map((p) => h('option', { value: p }, PROVIDER_LABELS[p])),
  );
  const providerNote = h('p', { class: 'hint', id: 'graphrag-provider-hint' });
  providerSelect.setAttribute('aria-describedby', 'graphrag-provider-hint');
  const providerSave = h('button', { type: 'submit', class: 'button button-secondary' }, 'Save provider');
  const providerMessages = new MessageArea();
  const providerForm = h(
    'form',
    { class: 'inline-form', 'aria-labelledby': 'graphrag-title' },
    h('div', { class: 'field' }, h('label', { for: 'graphrag-provider' }, 'Provider (GRAPHRAG_PROVIDER)'), providerSelect),
    providerSave,
  );
  providerForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = providerSelect.value as ProviderId;
    providerMessages.clear();
    void withBusy(providerSave, 'Saving…', async () => {
      try {
        const saved = await api.put<Setting>(`${settingsPath}/GRAPHRAG_PROVIDER`, { value });
        settings.set(saved.key, saved);
        renderProvider();
        providerMessages.success(`Backfills now extract the graph with ${PROVIDER_LABELS[value]}.`);
      } catch (error) {
        providerMessages.error(messageOf(error));
      }
    });
  });

  const keyMode =
    tenant.aiKeyMode === 'byok'
      ? h(
          'p',
          null,
          h('strong', null, 'BYOK (bring your own key). '),
          "Backfills and AI jobs run with this tenant's own keys below. If the needed key is missing or refused, the job fails at once with the reason; a platform key is never used instead.",
        )
      : h(
          'p',
          null,
          h('strong', null, 'Managed. '),
          "Jobs run with the platform's keys, which the platform operator manages. Keys stored below are kept but not used while the tenant is on managed mode.",
        );

  const list = h('div', { class: 'provider-grid' });
  for (const provider of PROVIDERS) {
    const card = new ProviderCard(context, provider, settingsPath, () => void refresh());
    cards.set(provider, card);
    list.appendChild(card.element);
  }

  const element = h(
    'div',
    { class: 'page stack' },
    h(
      'div',
      { class: 'page-header' },
      h('h1', null, 'Provider keys'),
      h(
        'p',
        { class: 'lede' },
        "The keys this tenant brings for each provider, Azure OpenAI and an OpenAI-compatible endpoint of its own included, and the model each provider's calls use. A key is never shown again after it is saved: only its last four characters.",
      ),
    ),
    pageMessages.element,
    h(
      'div',
      { class: 'two-columns' },
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'key-mode-title' },
        h(
          'h2',
          { id: 'key-mode-title' },
          'Key mode: ',
          h('span', { 'data-testid': 'key-mode-value' }, tenant.aiKeyMode === 'byok' ? 'BYOK' : 'managed'),
        ),
        keyMode,
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'graphrag-title' },
        h('h2', { id: 'graphrag-title' }, 'Knowledge-graph provider'),
        h('p', null, 'The provider whose key backfills use to extract entities and relationships.'),
        providerForm,
        providerNote,
        providerMessages.element,
      ),
    ),
    h('section', { 'aria-labelledby': 'keys-title', class: 'stack' }, h('h2', { id: 'keys-title', class: 'visually-hidden' }, 'Keys'), list),
  );

  function renderProvider(): void {
    const current = settings.get('GRAPHRAG_PROVIDER')?.value as ProviderId | undefined;
    providerSelect.value = current ?? 'openai';
    const below = tenant.aiKeyMode === 'byok' ? ' below' : '';
    if (!current) {
      providerNote.textContent = `Not set: backfills use OpenAI (the default) and need the OPENAI_API_KEY key${below}.`;
      return;
    }
    const required = providerSettingFields(current)
      .filter((f) => f.required)
      .map((f) => f.key);
    const label = PROVIDER_LABELS[current] ?? current;
    if (!required.length) {
      providerNote.textContent = `Set to ${label}. Backfills need the ${apiKeySetting(current)} key${below}.`;
    } else if (tenant.aiKeyMode === 'byok') {
      providerNote.textContent = `Set to ${label}. Backfills need its key (${apiKeySetting(current)}) and ${required.join(' and ')} below.`;
    } else {
      // the platform has no key or URL for a tenant's own endpoint: a managed tenant's backfills fail PLATFORM_KEY_MISSING
      providerNote.textContent = `Set to ${label}, which runs only with the tenant's own key and endpoint: backfills fail while the tenant uses managed keys. Ask the platform operator to switch it to BYOK.`;
    }
  }

  async function refresh(): Promise<void> {
    try {
      const { items } = await api.get<{ items: Setting[] }>(settingsPath, { signal: controller.signal });
      settings = new Map(items.map((s) => [s.key, s]));
      pageMessages.clear();
      renderProvider();
      for (const card of cards.values()) card.render(settings);
    } catch (error) {
      if (controller.signal.aborted) return;
      pageMessages.error(`The settings could not be loaded: ${messageOf(error)}`);
    }
  }

  void refresh();
  return { title: 'Provider keys', element, dispose: () => controller.abort() };
}

/** One provider: its key's status, forms to add or replace, validate and remove the key, and its other settings. */
class ProviderCard {
  readonly element: HTMLElement;
  private readonly badge = h('span', { class: 'badge badge-neutral' }, '…');
  private readonly statusHint = h('span', { class: 'hint' });
  private readonly last4 = h('dd', null, '—');
  private readonly validatedAt = h('dd', null, '—');
  private readonly input: HTMLInputElement;
  private readonly inputLabel: HTMLLabelElement;
  private readonly saveButton = h('button', { type: 'submit', class: 'button button-primary' }, 'Save key');
  private readonly validateButton = h('button', { type: 'button', class: 'button button-secondary', disabled: true }, 'Validate now');
  private readonly removeArea = h('div', { class: 'remove-area' });
  // its own class: the card holds each setting's message area too
  private readonly messages = new MessageArea('key-messages');
  private readonly fields: ProviderSettingForm[];
  /** For a tenant endpoint: what is still missing before it can be used. */
  private readonly readiness: HTMLElement | null;
  private setting: Setting | undefined;
  private readonly label: string;
  private readonly settingKey: string;

  constructor(
    private readonly context: AppContext,
    readonly provider: ProviderId,
    private readonly settingsPath: string,
    private readonly changed: () => void,
  ) {
    this.label = PROVIDER_LABELS[provider];
    this.settingKey = apiKeySetting(provider);
    const inputId = `key-${provider}`;
    this.input = h('input', {
      id: inputId,
      name: inputId,
      type: 'password',
      autocomplete: 'off',
      spellcheck: 'false',
      'aria-describedby': `${inputId}-hint`,
    });
    this.inputLabel = h('label', { for: inputId }, `${this.label} API key`);
    const form = h(
      'form',
      { class: 'inline-form' },
      h(
        'div',
        { class: 'field' },
        this.inputLabel,
        this.input,
        h('p', { id: `${inputId}-hint`, class: 'hint' }, `Saved encrypted as ${this.settingKey}; never shown again.`),
      ),
      this.saveButton,
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.save();
    });
    this.validateButton.addEventListener('click', () => void this.validate());
    this.fields = providerSettingFields(provider).map((field) => new ProviderSettingForm(context, field, settingsPath, this.label, changed));
    const required = this.fields.some((f) => f.field.required);
    this.readiness = required ? h('p', { class: 'readiness', 'data-testid': `readiness-${provider}` }) : null;
    const titleId = `provider-${provider}-title`;
    this.element = h(
      'article',
      { class: 'card provider-card', 'aria-labelledby': titleId, dataset: { provider } },
      h('div', { class: 'card-title' }, h('h2', { id: titleId }, this.label), this.badge),
      h(
        'dl',
        { class: 'facts' },
        h('div', null, h('dt', null, 'Status'), h('dd', null, this.statusHint)),
        h('div', null, h('dt', null, 'Key'), this.last4),
        h('div', null, h('dt', null, 'Last validated'), this.validatedAt),
      ),
      this.readiness,
      form,
      h('div', { class: 'actions' }, this.validateButton, this.removeArea),
      this.messages.element,
      h(
        'div',
        { class: 'provider-settings', role: 'group', 'aria-label': `${this.label} settings` },
        this.fields.map((f) => f.element),
      ),
    );
  }

  /** Shows the provider's settings as the API listed them. */
  render(settings: Map<string, Setting>): void {
    for (const field of this.fields) field.render(settings.get(field.field.key));
    this.renderKey(settings.get(this.settingKey));
  }

  private renderKey(setting: Setting | undefined): void {
    this.setting = setting;
    const status: KeyStatus = setting ? setting.validationStatus : 'not-set';
    this.badge.textContent = STATUS_LABELS[status];
    this.badge.className = `badge ${{ 'not-set': 'badge-neutral', unknown: 'badge-warn', valid: 'badge-success', invalid: 'badge-danger' }[status]}`;
    this.badge.dataset.status = status;
    this.badge.setAttribute('aria-label', `${this.label} key status: ${STATUS_LABELS[status]}`);
    this.statusHint.textContent = STATUS_HINTS[status];
    this.last4.textContent = setting?.last4 ? `…${setting.last4}` : '—';
    this.validatedAt.textContent = setting?.validatedAt ? formatDate(setting.validatedAt) : setting ? 'Never' : '—';
    this.inputLabel.textContent = setting ? `Replace the ${this.label} API key` : `${this.label} API key`;
    this.saveButton.textContent = setting ? 'Replace key' : 'Save key';
    this.validateButton.disabled = !setting;
    this.renderRemove(false);
    this.renderReadiness();
  }

  /** A tenant endpoint's missing pieces: its key and required settings, all of which a call needs. */
  private renderReadiness(): void {
    if (!this.readiness) return;
    const required = this.fields.filter((f) => f.field.required);
    const missing = [...required.filter((f) => !f.isSet).map((f) => f.field.name), ...(this.setting ? [] : ['API key'])];
    this.readiness.textContent = missing.length
      ? `Not ready: set the ${missing.join(', ')}.`
      : `Ready: the ${required.map((f) => f.field.name).join(', ')} and API key are set.`;
    this.readiness.dataset.ready = String(missing.length === 0);
  }

  private renderRemove(confirming: boolean): void {
    if (!this.setting) return replaceChildren(this.removeArea);
    if (!confirming) {
      const remove = h('button', { type: 'button', class: 'button button-danger-outline' }, 'Remove key');
      remove.addEventListener('click', () => {
        this.renderRemove(true);
        this.removeArea.querySelector<HTMLButtonElement>('button')?.focus();
      });
      return replaceChildren(this.removeArea, remove);
    }
    const confirm = h('button', { type: 'button', class: 'button button-danger' }, `Confirm: remove the ${this.label} key`);
    const cancel = h('button', { type: 'button', class: 'button button-secondary' }, 'Cancel');
    confirm.addEventListener('click', () => void this.remove(confirm));
    cancel.addEventListener('click', () => {
      this.renderRemove(false);
      this.removeArea.querySelector<HTMLButtonElement>('button')?.focus();
    });
    replaceChildren(this.removeArea, confirm, cancel);
  }

  private async save(): Promise<void> {
    const value = this.input.value.trim();
    this.messages.clear();
    if (!value) {
      this.messages.error(`Paste the ${this.label} key first.`);
      this.input.focus();
      return;
    }
    await withBusy(this.saveButton, 'Saving…', async () => {
      try {
        const saved = await this.context.api.put<Setting>(`${this.settingsPath}/${this.settingKey}`, { value });
        // the key leaves the page as soon as the API has it; from now on only last4 is shown
        this.input.value = '';
        this.renderKey(saved);
        this.messages.success(`${this.label} key saved (…${saved.last4 ?? '????'}). Use Validate now to check that ${this.label} accepts it.`);
        this.changed();
      } catch (error) {
        // the value stays in the field so it can be corrected; the message never contains it
        this.messages.error(messageOf(error));
      }
    });
  }

  private async validate(): Promise<void> {
    this.messages.info(`Checking the ${this.label} key…`);
    await withBusy(this.validateButton, 'Validating…', async () => {
      try {
        const result = await this.context.api.post<ValidationResult>(`${this.settingsPath}/${this.settingKey}/validate`);
        if (result.status === 'valid') this.messages.success(`The ${this.label} key is valid (checked ${formatDate(result.checkedAt)}).`);
        else
          this.messages.error(
            `The ${this.label} key is invalid: ${this.label} refused it (checked ${formatDate(result.checkedAt)}). Replace it with a working key.`,
          );
        this.changed();
      } catch (error) {
        const prefix = error instanceof ApiError && (error.status === 429 || error.status === 502) ? 'No verdict, the status is unchanged. ' : '';
        this.messages.error(`${prefix}${messageOf(error)}`);
      }
    });
  }

  private async remove(button: HTMLButtonElement): Promise<void> {
    await withBusy(button, 'Removing…', async () => {
      try {
        await this.context.api.delete(`${this.settingsPath}/${this.settingKey}`);
        this.renderKey(undefined);
        this.messages.success(`The ${this.label} key was removed.`);
        this.input.focus();
        this.changed();
      } catch (error) {
        this.messages.error(messageOf(error));
      }
    });
  }
}
