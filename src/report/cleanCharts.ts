import { PALETTE, type ChartSpec } from './renderChart.js';

/**
 * The data check report's charts: how each class's images spread over one attribute, as vega-lite
 * specs over the report's own per-image data. Shares, not counts: classes of different sizes
 * compare directly, and a shortcut is a difference in shares.
 */

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
/** Keeps each class's colour the same in every chart of the page (and as in the evaluation report). */
const classColour = (classes: string[]) => ({ field: 'label', type: 'nominal' as const, scale: { domain: classes }, legend: null });
const rowHeader = (classes: string[]) => ({
  field: 'label', type: 'nominal' as const, sort: classes, title: null,
  header: { labelOrient: 'top' as const, labelAngle: 0, labelAlign: 'left' as const, labelAnchor: 'start' as const, labelFontSize: 12, labelFontWeight: 600 as const, labelPadding: 2 },
});

export interface HistogramAxis {
  /** Chart title, e.g. "Colourfulness". */
  title: string;
  /** What the axis measures, with its unit or scale. */
  axisTitle: string;
  /** Range binned; values outside it are counted in the end bins (the subtitle says so). */
  extent: [number, number];
  step: number;
  /** d3 format of the axis labels. */
  format?: string;
  /** Where the axis labels go, when vega's choice crowds the end (90 and a right-flushed 100 collide). */
  ticks?: number[];
  /** Who is counted when not every image has the attribute, e.g. "JPEGs only". */
  note?: string;
}

/**
 * One attribute's distribution per class: a histogram per class, one above the other on the same
 * axis, each bar the share of that class's images in the bin.
 */
export function attributeHistogramSpec(values: { label: string; value: number }[], classes: string[], axis: HistogramAxis): ChartSpec {
  const [lo, hi] = axis.extent;
  const present = classes.filter((c) => values.some((v) => v.label === c));
  const outside = values.filter((v) => v.value < lo || v.value > hi).length;
  const subtitle = [axis.note, 'bar: share of the class', outside ? `${outside} beyond ${formatNumber(lo)}–${formatNumber(hi)} in the end bins` : ''].filter(Boolean).join(' · ');
  // Just inside the extent: vega's bins are half-open, and the top value belongs in the last bin.
  const clamp = (v: number) => Math.min(hi - axis.step * 1e-6, Math.max(lo, v));
  return {
    $schema: SCHEMA,
    description: `${axis.title} by class: share of each class's images per bin`,
    title: { text: axis.title, subtitle },
    data: { values: values.map((v) => ({ label: v.label, value: clamp(v.value) })) },
    transform: [
      { bin: { extent: [lo, hi], step: axis.step }, field: 'value', as: ['start', 'end'] },
      { aggregate: [{ op: 'count', as: 'images' }], groupby: ['label', 'start', 'end'] },
      { joinaggregate: [{ op: 'sum', field: 'images', as: 'classTotal' }], groupby: ['label'] },
      { calculate: 'datum.images / datum.classTotal', as: 'share' },
    ],
    facet: { row: rowHeader(present) },
    spec: {
      width: 300,
      height: 54,
      mark: { type: 'bar', binSpacing: 1 },
      encoding: {
        x: { field: 'start', type: 'quantitative', bin: { binned: true, step: axis.step }, scale: { domain: [lo, hi] }, title: axis.axisTitle, axis: { format: axis.format, labelFlush: true, ...(axis.ticks ? { values: axis.ticks } : {}) } },
        x2: { field: 'end' },
        y: { field: 'share', type: 'quantitative', title: null, axis: { format: '.0%', tickCount: 2 } },
        color: classColour(classes),
      },
    },
    resolve: { scale: { y: 'shared' } },
    config: { facet: { spacing: 6 } },
  };
}

/** Share of each class's images that have a property (grayscale), as one bar per class with the figures written on it. */
export function classShareSpec(rows: { label: string; yes: number; total: number }[], classes: string[], title: string, subtitle: string): ChartSpec {
  const values = rows.map((r) => ({ ...r, share: r.total ? r.yes / r.total : 0, text: `${Math.round(r.total ? (100 * r.yes) / r.total : 0)}% (${r.yes} of ${r.total})` }));
  return {
    $schema: SCHEMA,
    description: `${title}: ${values.map((v) => `${v.label} ${v.text}`).join(', ')}`,
    title: { text: title, subtitle },
    data: { values },
    width: 300,
    height: { step: 28 },
    encoding: {
      y: { field: 'label', type: 'nominal', sort: classes, title: null, axis: { labelFontSize: 12, labelColor: PALETTE.text } },
      x: { field: 'share', type: 'quantitative', scale: { domain: [0, 1] }, title: 'Share of the class', axis: { format: '.0%', tickCount: 5 } },
    },
    layer: [
      { mark: { type: 'bar', height: { band: 0.7 } }, encoding: { color: classColour(classes) } },
      { mark: { type: 'text', align: 'left', dx: 5, fontSize: 11, color: PALETTE.text }, encoding: { text: { field: 'text' } } },
    ],
  };
}

/** How each class's images divide among the values of a category (file format): one 100% bar per class. */
export function categoryMixSpec(rows: { label: string; value: string; images: number }[], classes: string[], title: string, subtitle: string): ChartSpec {
  const totals = new Map<string, number>();
  for (const r of rows) totals.set(r.label, (totals.get(r.label) ?? 0) + r.images);
  const values = rows.map((r) => ({ ...r, share: r.images / (totals.get(r.label) || 1) }));
  const categories = [...new Set(rows.map((r) => r.value))].sort();
  return {
    $schema: SCHEMA,
    description: `${title}: ${values.map((v) => `${v.label} ${v.value} ${Math.round(100 * v.share)}%`).join(', ')}`,
    title: { text: title, subtitle },
    data: { values },
    width: 300,
    height: { step: 28 },
    mark: { type: 'bar', height: { band: 0.7 }, stroke: '#ffffff', strokeWidth: 1 },
    encoding: {
      y: { field: 'label', type: 'nominal', sort: classes, title: null, axis: { labelFontSize: 12, labelColor: PALETTE.text } },
      x: { field: 'share', type: 'quantitative', stack: 'normalize', title: 'Share of the class', axis: { format: '.0%', tickCount: 5 } },
      // Categories take the palette after the class colours' first two, so a format never looks like a class.
      color: { field: 'value', type: 'nominal', sort: categories, title: null, scale: { domain: categories, range: [PALETTE.green, PALETTE.orange, PALETTE.sky, PALETTE.purple, PALETTE.grey, PALETTE.blue] } },
      order: { field: 'value' },
    },
  };
}

function formatNumber(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(3)));
}
