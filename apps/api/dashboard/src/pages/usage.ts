import { isAbort, messageOf } from '../api.js';
import { budgetSection } from '../budget-section.js';
import type { AppContext, Page } from '../context.js';
import { formatCount, h, MessageArea, replaceChildren, withBusy } from '../dom.js';
import { formatMicroUsd } from '../money.js';
import type { UsageGroupBy, UsageReport } from '../types.js';
import { usageChart } from '../usage-chart.js';

const GROUP_LABELS: Record<UsageGroupBy, string> = { day: 'Day', provider: 'Provider', model: 'Model', job: 'Job' };
const DAY_MS = 86_400_000;

const isoDay = (date: Date) => date.toISOString().slice(0, 10);

/** This month in UTC, as the API's default: the 1st to tomorrow (exclusive), shown as an inclusive "to" of today. */
function thisMonth(): { from: string; to: string } {
  const today = isoDay(new Date());
  return { from: `${today.slice(0, 7)}-01`, to: today };
}

/**
 * Usage and cost (GET /v1/tenants/:id/usage): a range of UTC days (this month by default) and a
 * grouping; a chart of cost and tokens per day, a table of the grouped rows with the totals, and the
 * tenant's budget. The form's "To" is inclusive, as people read a range; the API's `to` is the day after.
 */
export function usagePage(context: AppContext): Page {
  const { api, tenant } = context;
  const controller = new AbortController();
  const messages = new MessageArea();
  const initial = thisMonth();
  let generation = 0;

  const fromInput = h('input', { id: 'usage-from', name: 'from', type: 'date', value: initial.from, required: true });
  const toInput = h('input', { id: 'usage-to', name: 'to', type: 'date', value: initial.to, required: true });
  const groupSelect = h(
    'select',
    { id: 'usage-group', name: 'groupBy' },
    Object.entries(GROUP_LABELS).map(([value, label]) => h('option', { value }, label)),
  );
  const showButton = h('button', { type: 'submit', class: 'button button-primary' }, 'Show usage');
  const form = h(
    'form',
    { class: 'toolbar', novalidate: true },
    h('div', { class: 'field field-inline' }, h('label', { for: 'usage-from' }, 'From'), fromInput),
    h('div', { class: 'field field-inline' }, h('label', { for: 'usage-to' }, 'To (included)'), toInput),
    h('div', { class: 'field field-inline' }, h('label', { for: 'usage-group' }, 'Group by'), groupSelect),
    showButton,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void withBusy(showButton, 'Loading…', load);
  });
  groupSelect.addEventListener('change', () => void load());

  const chart = usageChart('Cost in USD and tokens per UTC day over the chosen range. The figures are in the daily table on this page.');
  const totals = h('div', { class: 'stats', 'data-testid': 'usage-totals' });
  const groupedTitle = h('h2', { id: 'usage-table-title' }, 'By day');
  const groupedBody = h('tbody');
  const groupedKeyHeader = h('th', { scope: 'col' }, 'Day');
  const groupedTable = h(
    'table',
    { class: 'table', 'data-testid': 'usage-table', 'aria-labelledby': 'usage-table-title' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        groupedKeyHeader,
        ['Calls', 'Input tokens', 'Output tokens', 'Cost (USD)'].map((l) => h('th', { scope: 'col', class: 'num' }, l)),
      ),
    ),
    groupedBody,
  );
  const groupedEmpty = h('p', { class: 'hint', hidden: true }, 'No provider calls in this range.');
  // the chart's text alternative when the table is grouped otherwise than by day
  const dailyBody = h('tbody');
  const dailyDetails = h(
    'details',
    { class: 'usage-daily', hidden: true },
    h('summary', null, 'Daily figures of the chart'),
    h(
      'div',
      { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': 'Daily figures' },
      h(
        'table',
        { class: 'table', 'data-testid': 'usage-daily-table' },
        h('caption', { class: 'visually-hidden' }, 'Cost and tokens per UTC day'),
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', { scope: 'col' }, 'Day'),
            h('th', { scope: 'col', class: 'num' }, 'Tokens'),
            h('th', { scope: 'col', class: 'num' }, 'Cost (USD)'),
          ),
        ),
        dailyBody,
      ),
    ),
  );

  function row(key: string, label: Node | string, item: UsageReport['totals'], className = ''): HTMLTableRowElement {
    return h(
      'tr',
      { dataset: { key }, class: className || null },
      h('th', { scope: 'row' }, label),
      h('td', { class: 'num', 'data-testid': 'calls' }, formatCount(item.calls)),
      h('td', { class: 'num', 'data-testid': 'input-tokens' }, formatCount(item.inputTokens)),
      h('td', { class: 'num', 'data-testid': 'output-tokens' }, formatCount(item.outputTokens)),
      h('td', { class: 'num', 'data-testid': 'cost', dataset: { microUsd: String(item.costMicroUsd) } }, formatMicroUsd(item.costMicroUsd)),
    );
  }

  function keyLabel(groupBy: UsageGroupBy, key: string): Node | string {
    // a job's id is long: shown in code, whole (it is what support asks for)
    return groupBy === 'job' ? h('code', null, key) : key;
  }

  async function load(): Promise<void> {
    const mine = ++generation;
    messages.clear();
    const from = fromInput.value;
    // the API's `to` is exclusive: the day after the one shown; an empty or bad date goes as it is and the API says why
    const parsedTo = Date.parse(`${toInput.value}T00:00:00Z`);
    const to = Number.isNaN(parsedTo) ? toInput.value : isoDay(new Date(parsedTo + DAY_MS));
    const groupBy = groupSelect.value as UsageGroupBy;
    const url = (g: UsageGroupBy) => `/v1/tenants/${tenant.id}/usage?${new URLSearchParams({ from, to, groupBy: g }).toString()}`;
    try {
      const [grouped, daily] = await Promise.all([
        api.get<UsageReport>(url(groupBy), { signal: controller.signal }),
        groupBy === 'day' ? undefined : api.get<UsageReport>(url('day'), { signal: controller.signal }),
      ]);
      if (mine !== generation) return;
      const days = daily ?? grouped;
      chart.show(days);
      groupedTitle.textContent = `By ${GROUP_LABELS[groupBy].toLowerCase()}`;
      groupedKeyHeader.textContent = GROUP_LABELS[groupBy];
      replaceChildren(
        groupedBody,
        grouped.items.map((item) => row(item.key, keyLabel(groupBy, item.key), item)),
        grouped.items.length > 0 ? row('total', 'Total', grouped.totals, 'total-row') : null,
      );
      groupedEmpty.hidden = grouped.items.length > 0;
      dailyDetails.hidden = daily === undefined;
      replaceChildren(
        dailyBody,
        days.items.map((item) =>
          h(
            'tr',
            null,
            h('th', { scope: 'row' }, item.key),
            h('td', { class: 'num' }, formatCount(item.inputTokens + item.outputTokens)),
            h('td', { class: 'num' }, formatMicroUsd(item.costMicroUsd)),
          ),
        ),
      );
      const stat = (label: string, value: string, testId: string) =>
        h('div', { class: 'stat' }, h('span', { class: 'stat-value', 'data-testid': testId }, value), h('span', { class: 'stat-label' }, label));
      replaceChildren(
        totals,
        stat('cost', formatMicroUsd(grouped.totals.costMicroUsd), 'total-cost'),
        stat('tokens', formatCount(grouped.totals.inputTokens + grouped.totals.outputTokens), 'total-tokens'),
        stat('provider calls', formatCount(grouped.totals.calls), 'total-calls'),
      );
      context.announce(`Usage shown: ${formatMicroUsd(grouped.totals.costMicroUsd)}, ${formatCount(grouped.totals.calls)} provider calls.`);
    } catch (error) {
      if (!isAbort(error) && mine === generation) messages.error(messageOf(error));
    }
  }

  const budget = budgetSection(context, controller.signal);
  const element = h(
    'div',
    { class: 'page stack' },
    h(
      'div',
      { class: 'page-header' },
      h('h1', null, 'Usage'),
      h(
        'p',
        { class: 'lede' },
        "What this tenant's provider calls used and cost, as the providers reported them, priced by the price table at the time of each call. Days are UTC.",
      ),
    ),
    h('section', { class: 'card', 'aria-label': 'Range and grouping' }, form),
    messages.element,
    h(
      'section',
      { class: 'card stack', 'aria-labelledby': 'usage-chart-title' },
      h('h2', { id: 'usage-chart-title' }, 'Per day'),
      totals,
      chart.element,
      dailyDetails,
    ),
    h(
      'section',
      { class: 'stack', 'aria-labelledby': 'usage-table-title' },
      groupedTitle,
      groupedEmpty,
      h('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-labelledby': 'usage-table-title' }, groupedTable),
    ),
    budget.element,
  );
  void load();
  void budget.load();
  return {
    title: 'Usage',
    element,
    dispose() {
      controller.abort();
      chart.dispose();
    },
  };
}
