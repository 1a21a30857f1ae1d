import uPlot from 'uplot';
import { h } from './dom.js';
import { formatMicroUsd, MICRO_USD_PER_USD } from './money.js';
import type { UsageReport } from './types.js';

const DAY_MS = 86_400_000;
const HEIGHT = 260;
/** The colours of the two series; the legend's swatches use the same ones (styles.css, .usage-swatch-*). */
const COST_COLOUR = '#1d4ed8';
const TOKENS_COLOUR = '#b45309';

/** Every UTC day (YYYY-MM-DD) in [from, to). */
function daysOf(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t < Date.parse(`${to}T00:00:00Z`); t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/** The daily report as uPlot's columns: x in Unix seconds, cost in USD, tokens (input + output); a day without usage is 0. */
function columns(report: UsageReport): uPlot.AlignedData {
  const byDay = new Map(report.items.map((item) => [item.key, item]));
  const days = daysOf(report.from, report.to);
  return [
    days.map((day) => Date.parse(`${day}T00:00:00Z`) / 1000),
    days.map((day) => (byDay.get(day)?.costMicroUsd ?? 0) / MICRO_USD_PER_USD),
    days.map((day) => {
      const item = byDay.get(day);
      return item ? item.inputTokens + item.outputTokens : 0;
    }),
  ];
}

export interface UsageChart {
  readonly element: HTMLElement;
  /** Draws the report (grouped by day). */
  show(report: UsageReport): void;
  dispose(): void;
}

/**
 * Cost (USD, bars, left axis) and tokens (line, right axis) per UTC day, drawn by uPlot on a canvas.
 * uPlot sets its sizes through the CSSOM (element.style), which the dashboard's Content-Security-Policy
 * allows, never through style attributes or eval. The canvas is one image to assistive technology,
 * named by `label`, which should say where the same figures are as text (a table).
 */
export function usageChart(label: string): UsageChart {
  const plotArea = h('div', { class: 'usage-chart-plot', 'data-testid': 'usage-chart' });
  const figure = h(
    'figure',
    { class: 'usage-chart' },
    h('div', { role: 'img', 'aria-label': label }, plotArea),
    h(
      'figcaption',
      { class: 'usage-legend' },
      h('span', null, h('span', { class: 'usage-swatch usage-swatch-cost', 'aria-hidden': 'true' }), 'Cost (USD, bars, left axis)'),
      h('span', null, h('span', { class: 'usage-swatch usage-swatch-tokens', 'aria-hidden': 'true' }), 'Tokens, input and output (line, right axis)'),
    ),
  );
  let plot: uPlot | undefined;
  const resize = new ResizeObserver(() => {
    if (plot && plotArea.clientWidth > 0) plot.setSize({ width: plotArea.clientWidth, height: HEIGHT });
  });
  resize.observe(plotArea);

  function show(report: UsageReport): void {
    const data = columns(report);
    if (plot) {
      plot.setData(data);
      return;
    }
    plot = new uPlot(
      {
        width: Math.max(plotArea.clientWidth, 200),
        height: HEIGHT,
        // UTC days, as the API counts them
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: {
          x: { time: true },
          usd: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
          tokens: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
        },
        series: [
          {},
          {
            label: 'Cost (USD)',
            scale: 'usd',
            stroke: COST_COLOUR,
            fill: `${COST_COLOUR}99`,
            paths: uPlot.paths.bars!({ size: [0.7, 40] }),
            points: { show: false },
            value: (_u, v) => (v === null ? '—' : formatMicroUsd(Math.round(v * MICRO_USD_PER_USD))),
          },
          { label: 'Tokens', scale: 'tokens', stroke: TOKENS_COLOUR, width: 2, points: { show: true, size: 5 } },
        ],
        axes: [
          {},
          { scale: 'usd', values: (_u, ticks) => ticks.map((v) => `$${v < 1 ? v.toFixed(v === 0 ? 0 : 4) : v.toFixed(2)}`), size: 70 },
          { scale: 'tokens', side: 1, grid: { show: false }, values: (_u, ticks) => ticks.map((v) => compact.format(v)), size: 60 },
        ],
      },
      data,
      plotArea,
    );
  }

  return {
    element: figure,
    show,
    dispose() {
      resize.disconnect();
      plot?.destroy();
      plot = undefined;
    },
  };
}

const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });
