import { ApiError, messageOf } from './api.js';
import type { AppContext } from './context.js';
import { h, MessageArea, withBusy } from './dom.js';
import type { ProviderSettingField, Setting } from './types.js';

/**
 * One non-secret setting of a provider on the keys page (a model, an endpoint URL, an API version):
 * its current value, a field to change it, Save and Remove, and the API's answer next to the field.
 */
export class ProviderSettingForm {
  readonly element: HTMLFormElement;
  private readonly input: HTMLInputElement;
  private readonly state: HTMLElement;
  private readonly saveButton: HTMLButtonElement;
  private readonly removeButton: HTMLButtonElement;
  private readonly messages = new MessageArea('field-message');
  private readonly hintId: string;
  private setting: Setting | undefined;
  /** The stored value the field was last filled with: a field that still holds it has no edit to keep. */
  private shown = '';

  constructor(
    private readonly context: AppContext,
    readonly field: ProviderSettingField,
    private readonly settingsPath: string,
    private readonly providerLabel: string,
    private readonly changed: () => void,
  ) {
    const inputId = `setting-${field.key.toLowerCase().replaceAll('_', '-')}`;
    this.hintId = `${inputId}-hint`;
    this.messages.element.id = `${inputId}-message`;
    this.input = h('input', {
      id: inputId,
      name: field.key,
      type: field.kind === 'url' ? 'url' : 'text',
      inputmode: field.kind === 'url' ? 'url' : null,
      autocomplete: 'off',
      spellcheck: 'false',
      placeholder: field.defaultValue ?? 'Required',
      'aria-required': field.required ? 'true' : null,
      'aria-describedby': this.hintId,
    });
    this.state = h('span', { 'data-testid': `setting-state-${field.key}` });
    this.saveButton = h('button', { type: 'submit', class: 'button button-secondary', 'aria-label': `Save ${field.label}` }, 'Save');
    this.removeButton = h(
      'button',
      { type: 'button', class: 'button button-danger-outline', 'aria-label': `Remove ${field.label}`, hidden: true },
      'Remove',
    );
    this.element = h(
      'form',
      { class: 'setting-form', 'data-setting': field.key, novalidate: true },
      h('label', { for: inputId }, field.label),
      h('div', { class: 'setting-row' }, this.input, this.saveButton, this.removeButton),
      h('p', { id: this.hintId, class: 'hint' }, this.state, ' ', field.hint, ` Saved as ${field.key}.`),
      this.messages.element,
    );
    this.element.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.save();
    });
    this.removeButton.addEventListener('click', () => void this.remove());
  }

  /** Whether the setting has a value (a required one without it leaves the provider unusable). */
  get isSet(): boolean {
    return this.setting !== undefined;
  }

  /** Shows the stored setting (undefined: not set); an edit the user has not saved yet stays in the field. */
  render(setting: Setting | undefined): void {
    this.setting = setting;
    const value = setting?.value ?? '';
    if (this.input.value.trim() === this.shown) this.input.value = value;
    this.shown = value;
    this.state.textContent = setting
      ? `Set: ${value}.`
      : this.field.required
        ? `Not set, required before ${this.providerLabel} can be used.`
        : `Not set: ${this.field.defaultValue} (the default) applies.`;
    this.state.className = setting || !this.field.required ? 'setting-state' : 'setting-state setting-state-missing';
    this.removeButton.hidden = !setting;
  }

  private async save(): Promise<void> {
    const value = this.input.value.trim();
    this.clearMessage();
    if (!value) {
      this.showError(
        this.setting ? `Enter a value, or use Remove to unset ${this.field.key}.` : `Enter the ${this.field.label.toLowerCase()} first.`,
      );
      this.input.focus();
      return;
    }
    await withBusy(this.saveButton, 'Saving…', async () => {
      try {
        const saved = await this.context.api.put<Setting>(`${this.settingsPath}/${this.field.key}`, { value });
        // the API may store a normalized form (a URL without its trailing slash): show that
        this.input.value = saved.value ?? value;
        this.render(saved);
        this.messages.success(`${this.field.label} saved.`);
        this.changed();
      } catch (error) {
        // the value stays in the field so it can be corrected
        this.showError(describe(error));
      }
    });
  }

  private async remove(): Promise<void> {
    this.clearMessage();
    await withBusy(this.removeButton, 'Removing…', async () => {
      try {
        await this.context.api.delete(`${this.settingsPath}/${this.field.key}`);
        this.input.value = '';
        this.render(undefined);
        this.messages.success(
          this.field.required ? `${this.field.label} removed.` : `${this.field.label} removed: ${this.field.defaultValue} (the default) applies.`,
        );
        this.input.focus();
        this.changed();
      } catch (error) {
        this.showError(describe(error));
      }
    });
  }

  private showError(text: string): void {
    this.messages.error(text);
    // the field names its error, so a screen reader reads it with the field
    this.input.setAttribute('aria-invalid', 'true');
    this.input.setAttribute('aria-describedby', `${this.hintId} ${this.messages.element.id}`);
  }

  private clearMessage(): void {
    this.messages.clear();
    this.input.removeAttribute('aria-invalid');
    this.input.setAttribute('aria-describedby', this.hintId);
  }
}

/** The API's message; a URL the egress policy refused says so first (its message names only the host's kind). */
function describe(error: unknown): string {
  if (error instanceof ApiError && error.code === 'EGRESS_REFUSED')
    return `The platform will not connect to this URL: ${error.message.replace(/\.?$/, '.')}`;
  return messageOf(error);
}
