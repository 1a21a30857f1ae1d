import { isAbort, messageOf } from './api.js';
import type { AppContext } from './context.js';
import { formatCount, formatDate, h, MessageArea, replaceChildren, withBusy } from './dom.js';
import { formatMicroUsd, formatUsd, MICRO_USD_PER_USD } from './money.js';
import type { Budget, BudgetStatus, Me } from './types.js';

const MODE_LABELS: Record<Budget['mode'], string> = {
  alert: 'Alert: record the 80% and 100% thresholds, never stop a job',
  hard: 'Hard: refuse and stop jobs at the limit',
};

/** How much of the limit the month has spent, 0..∞ (a share above 1 is over the limit). */
function shareOf(status: BudgetStatus): number | null {
  const budget = status.budget;
  if (!budget) return null;
  if (budget.monthlyLimitUsd !== null) return status.spent.costMicroUsd / MICRO_USD_PER_USD / budget.monthlyLimitUsd;
  if (budget.monthlyLimitTokens !== null) return status.spent.tokens / budget.monthlyLimitTokens;
  return null;
}

/** A share as a whole percentage, and "less than 1%" rather than a misleading 0% once anything is spent. */
function percentOf(share: number): string {
  return share > 0 && share < 0.01 ? 'less than 1%' : `${Math.round(share * 100)}%`;
}

function limitText(budget: Budget): string {
  return budget.monthlyLimitUsd !== null
    ? `${formatUsd(budget.monthlyLimitUsd)} a month`
    : `${formatCount(budget.monthlyLimitTokens ?? 0)} tokens a month`;
}

export interface BudgetSection {
  readonly element: HTMLElement;
  load(): Promise<void>;
}

/**
 * The tenant's monthly budget (GET/PUT/DELETE /v1/tenants/:id/budget): the limit, the month's spend
 * and its share of the limit as a meter; an admin-scope token edits the limit (USD or tokens), the
 * mode and the per-job cap, or removes the budget; a read-scope token sees it read-only. The API's
 * own 4xx messages are shown as they are (the form does not second-guess them).
 */
export function budgetSection(context: AppContext, signal: AbortSignal): BudgetSection {
  const { api, tenant } = context;
  const path = `/v1/tenants/${tenant.id}/budget`;
  const messages = new MessageArea();
  const summary = h('div', { class: 'stack', 'data-testid': 'budget-summary' }, h('p', { class: 'hint' }, 'Loading the budget…'));
  const editor = h('div', { class: 'stack' });
  let readOnly: boolean | undefined;

  const unitSelect = h(
    'select',
    { id: 'budget-unit', name: 'unit' },
    h('option', { value: 'usd' }, 'USD'),
    h('option', { value: 'tokens' }, 'Tokens'),
  );
  const limitInput = h('input', {
    id: 'budget-limit',
    name: 'limit',
    type: 'number',
    min: 0,
    step: 'any',
    inputmode: 'decimal',
    required: true,
    value: '',
  });
  const modeSelect = h(
    'select',
    { id: 'budget-mode', name: 'mode' },
    h('option', { value: 'alert' }, MODE_LABELS.alert),
    h('option', { value: 'hard' }, MODE_LABELS.hard),
  );
  const perJobInput = h('input', {
    id: 'budget-per-job',
    name: 'perJobLimitUsd',
    type: 'number',
    min: 0,
    step: 'any',
    inputmode: 'decimal',
    value: '',
    'aria-describedby': 'budget-per-job-hint',
  });
  const saveButton = h('button', { type: 'submit', class: 'button button-primary' }, 'Save budget');
  const deleteButton = h('button', { type: 'button', class: 'button button-danger-outline' }, 'Remove budget');
  const form = h(
    'form',
    { class: 'stack', 'aria-labelledby': 'budget-edit-title', novalidate: true },
    h('h3', { id: 'budget-edit-title' }, 'Set the budget'),
    h(
      'div',
      { class: 'inline-form' },
      h('div', { class: 'field' }, h('label', { for: 'budget-limit' }, 'Monthly limit'), limitInput),
      h('div', { class: 'field' }, h('label', { for: 'budget-unit' }, 'Limit in'), unitSelect),
      h('div', { class: 'field' }, h('label', { for: 'budget-mode' }, 'Mode'), modeSelect),
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'budget-per-job' }, 'Per-job cap (USD, optional)'),
        perJobInput,
        h('span', { id: 'budget-per-job-hint', class: 'hint' }, 'Hard mode stops a single backfill that would cost more.'),
      ),
    ),
    h('div', { class: 'actions' }, saveButton, deleteButton),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void save();
  });
  deleteButton.addEventListener('click', () => confirmDelete());

  /** Empty stays undefined (the API then says what is missing); anything else goes as a number, even a bad one. */
  const numberOf = (input: HTMLInputElement): number | undefined => (input.value.trim() === '' ? undefined : Number(input.value));

  async function save(): Promise<void> {
    messages.clear();
    const limit = numberOf(limitInput);
    const body = {
      ...(unitSelect.value === 'usd' ? { monthlyLimitUsd: limit } : { monthlyLimitTokens: limit }),
      mode: modeSelect.value,
      perJobLimitUsd: numberOf(perJobInput),
    };
    await withBusy(saveButton, 'Saving…', async () => {
      try {
        render(await api.put<BudgetStatus>(path, body));
        messages.success('Budget saved.');
        context.announce('Budget saved.');
      } catch (error) {
        messages.error(messageOf(error));
      }
    });
  }

  function confirmDelete(): void {
    const confirm = h('button', { type: 'button', class: 'button button-danger' }, 'Confirm: remove the budget');
    const cancel = h('button', { type: 'button', class: 'button button-secondary' }, 'Cancel');
    const actions = deleteButton.parentElement!;
    const restore = () => {
      replaceChildren(actions, saveButton, deleteButton);
      deleteButton.focus();
    };
    confirm.addEventListener(
      'click',
      () =>
        void withBusy(confirm, 'Removing…', async () => {
          try {
            await api.delete(path);
            restore();
            await load();
            messages.success('Budget removed.');
            context.announce('Budget removed.');
          } catch (error) {
            messages.error(messageOf(error));
          }
        }),
    );
    cancel.addEventListener('click', restore);
    replaceChildren(actions, confirm, cancel);
    confirm.focus();
  }

  function render(status: BudgetStatus): void {
    const { budget } = status;
    const share = shareOf(status);
    const spent = `${formatMicroUsd(status.spent.costMicroUsd)} and ${formatCount(status.spent.tokens)} tokens`;
    replaceChildren(
      summary,
      budget
        ? [
            h(
              'dl',
              { class: 'facts facts-inline' },
              h('div', null, h('dt', null, 'Monthly limit'), h('dd', { 'data-testid': 'budget-limit' }, limitText(budget))),
              h('div', null, h('dt', null, 'Mode'), h('dd', { 'data-testid': 'budget-mode' }, budget.mode === 'hard' ? 'Hard' : 'Alert')),
              h(
                'div',
                null,
                h('dt', null, 'Per-job cap'),
                h('dd', { 'data-testid': 'budget-per-job' }, budget.perJobLimitUsd === null ? 'None' : formatUsd(budget.perJobLimitUsd)),
              ),
              h('div', null, h('dt', null, 'Updated'), h('dd', null, formatDate(budget.updatedAt))),
            ),
            share === null
              ? null
              : h(
                  'div',
                  { class: 'field' },
                  h('label', { for: 'budget-meter' }, `Spent in ${status.period} (UTC): ${spent}, ${percentOf(share)} of the limit`),
                  h('meter', {
                    id: 'budget-meter',
                    class: 'budget-meter',
                    min: 0,
                    max: 1,
                    low: 0.8,
                    high: 0.99,
                    optimum: 0,
                    value: Math.min(share, 1),
                    'data-testid': 'budget-meter',
                  }),
                ),
          ]
        : [
            h('p', { 'data-testid': 'budget-none' }, 'No budget is set: jobs may spend without limit.'),
            h('p', { class: 'hint' }, `Spent in ${status.period} (UTC): ${spent}.`),
          ],
    );
    if (budget) {
      unitSelect.value = budget.monthlyLimitUsd !== null ? 'usd' : 'tokens';
      limitInput.value = String(budget.monthlyLimitUsd ?? budget.monthlyLimitTokens ?? '');
      modeSelect.value = budget.mode;
      perJobInput.value = budget.perJobLimitUsd === null ? '' : String(budget.perJobLimitUsd);
    }
    deleteButton.hidden = budget === null;
  }

  async function load(): Promise<void> {
    try {
      if (readOnly === undefined) {
        const me = await api.get<Me>('/v1/me', { signal });
        readOnly = me.kind === 'tenant' && me.token.scope === 'read';
        replaceChildren(
          editor,
          readOnly
            ? h('p', { class: 'hint', 'data-testid': 'budget-read-only' }, 'Your token is read-only: an admin token can change the budget.')
            : form,
        );
      }
      render(await api.get<BudgetStatus>(path, { signal }));
    } catch (error) {
      if (!isAbort(error)) messages.error(`The budget could not be loaded: ${messageOf(error)}`);
    }
  }

  const element = h(
    'section',
    { class: 'card stack', 'aria-labelledby': 'budget-title', 'data-testid': 'budget' },
    h('h2', { id: 'budget-title' }, 'Monthly budget'),
    summary,
    messages.element,
    editor,
  );
  return { element, load };
}
