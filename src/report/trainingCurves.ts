import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomicWrite.js';
import type { EpochRecord, TrainingHistory } from '../model/trainingHistory.js';
import { PALETTE, renderChartSvg, svgToPng, type ChartLayer, type ChartPanel, type ChartSpec } from './renderChart.js';

export interface TrainingCurvesOptions {
  /** Shown at the top; usually derived from a user's folder name (the renderer escapes it). */
  title?: string;
}

type MetricKey = 'loss' | 'accuracy' | 'val_loss' | 'val_accuracy';

const PANELS = [
  { kind: 'loss', title: 'Loss', train: 'loss', val: 'val_loss' },
  { kind: 'accuracy', title: 'Accuracy', train: 'accuracy', val: 'val_accuracy' },
] as const satisfies readonly { kind: string; title: string; train: MetricKey; val: MetricKey }[];

type Panel = (typeof PANELS)[number];

// Colour and dash both tell train from validation, so a greyscale print still does.
const SERIES = { names: ['train', 'validation'], colour: [PALETTE.blue, PALETTE.vermillion], dash: [[1, 0], [7, 4]] };
const PANEL_SIZE = { width: 400, height: 230 };

/**
 * Loss and accuracy per epoch, train against validation, the epoch whose weights were kept
 * marked: a vega-lite spec, so the same chart can go to SVG, PNG or a report page.
 */
export function trainingCurvesSpec(history: TrainingHistory, options: TrainingCurvesOptions = {}): ChartSpec {
  const epochs = [...history.epochs].sort((a, b) => a.epoch - b.epoch);
  const hasVal = epochs.some((e) => e.val_loss !== undefined || e.val_accuracy !== undefined);
  // Non-finite values become null: vega-lite breaks the line there instead of bridging the gap.
  const values = epochs.flatMap((e) =>
    PANELS.flatMap((p) => [
      { epoch: e.epoch, panel: p.kind, series: 'train', value: finiteOrNull(e[p.train]) },
      ...(hasVal ? [{ epoch: e.epoch, panel: p.kind, series: 'validation', value: finiteOrNull(e[p.val]) }] : []),
    ]),
  );
  const best = epochs.find((e) => e.epoch === history.bestEpoch);
  const first = epochs[0]?.epoch ?? 1;
  const last = epochs.at(-1)?.epoch ?? 1;
  // One epoch still gets an axis with room on both sides rather than a zero-width domain.
  const xDomain = last > first ? [first, last] : [first - 1, first + 1];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: 'Loss and accuracy per epoch, train and validation',
    title: { text: options.title ?? 'Training curves', subtitle: subtitle(history, epochs, hasVal), limit: 940 },
    data: { values },
    hconcat: PANELS.map((p) => panelSpec(p, { epochs, best, history, xDomain, hasData: values.some((v) => v.panel === p.kind && v.value !== null), hasVal })),
    spacing: 36,
  };
}

function panelSpec(p: Panel, c: { epochs: EpochRecord[]; best: EpochRecord | undefined; history: TrainingHistory; xDomain: number[]; hasData: boolean; hasVal: boolean }): ChartPanel {
  // A lone epoch sits mid-axis with its own tick, not between made-up epochs 0 and 2.
  const ticks = c.epochs.length > 1 ? { tickMinStep: 1 } : { values: c.epochs.map((e) => e.epoch) };
  const x = { field: 'epoch', type: 'quantitative', title: 'Epoch', scale: { domain: c.xDomain, nice: false, padding: 12 }, axis: { ...ticks, format: 'd' } } as const;
  // Loss starts at zero (how far it has come); accuracy ends at 1 and starts near its lowest value.
  const values = c.epochs.flatMap((e) => [e[p.train], e[p.val]]).filter(isFiniteNumber);
  const yScale = p.kind === 'loss' ? (c.hasData ? { zero: true } : { domain: [0, 1] }) : { domain: [accuracyFloor(values), 1], nice: false };
  // The legend lists only what is drawn: no "validation" entry when there was no validation data.
  const series = c.hasVal ? SERIES.names : SERIES.names.slice(0, 1);
  const pointSize = c.epochs.length > 100 ? 6 : c.epochs.length > 30 ? 12 : 30;
  const layers: ChartLayer[] = [
    {
      transform: [{ filter: { field: 'panel', equal: p.kind } }],
      mark: { type: 'line', strokeWidth: 2, point: { filled: true, size: pointSize } },
      encoding: {
        x,
        y: { field: 'value', type: 'quantitative', title: p.title, scale: yScale },
        color: { field: 'series', type: 'nominal', scale: { domain: series, range: SERIES.colour }, legend: { title: null, symbolType: 'stroke' } },
        strokeDash: { field: 'series', type: 'nominal', scale: { domain: series, range: SERIES.dash }, legend: { title: null } },
      },
    },
  ];
  if (c.best) {
    // Left of the marker when it sits in the right half, so the label stays inside the panel.
    const rightHalf = c.best.epoch > (c.xDomain[0] + c.xDomain[1]) / 2;
    layers.unshift(
      {
        data: { values: [{ epoch: c.best.epoch, label: bestLabel(c.best, p, c.history.monitor) }] },
        layer: [
          { mark: { type: 'rule', color: PALETTE.grey, strokeDash: [2, 3], strokeWidth: 1.2 }, encoding: { x } },
          { mark: { type: 'text', color: PALETTE.grey, fontSize: 11, baseline: 'top', align: rightHalf ? 'right' : 'left', dx: rightHalf ? -4 : 4, y: 4 }, encoding: { x, text: { field: 'label' } } },
        ],
      },
    );
  }
  if (c.epochs.length === 0) {
    layers.push({ data: { values: [{}] }, mark: { type: 'text', color: PALETTE.muted, fontSize: 12, text: 'no epochs recorded', x: PANEL_SIZE.width / 2, y: PANEL_SIZE.height / 2 } });
  }
  return { ...PANEL_SIZE, title: { text: p.title, fontSize: 13 }, layer: layers };
}

/**
 * Loss and accuracy per epoch as one self-contained SVG (no external fonts, images or scripts),
 * so it can be embedded in a report or opened straight from a run folder.
 */
export async function renderTrainingCurvesSvg(history: TrainingHistory, options: TrainingCurvesOptions = {}): Promise<string> {
  return renderChartSvg(trainingCurvesSpec(history, options));
}

/** The curves as SVG text and as a PNG rendered from it: what a bundle stores beside the model. */
export async function renderTrainingCurves(history: TrainingHistory, options: TrainingCurvesOptions = {}): Promise<{ svg: string; png: Buffer }> {
  const svg = await renderTrainingCurvesSvg(history, options);
  return { svg, png: await svgToPng(svg) };
}

/**
 * Writes `training-curves.svg` and `training-curves.png` into `dir`. The PNG is rendered before
 * either file is written, so a rendering failure never leaves a new SVG beside a stale PNG.
 */
export async function writeTrainingCurves(dir: string, history: TrainingHistory, options: TrainingCurvesOptions = {}): Promise<{ svg: string; png: string }> {
  const { svg, png } = await renderTrainingCurves(history, options);
  const paths = { svg: join(dir, 'training-curves.svg'), png: join(dir, 'training-curves.png') };
  await writeFileAtomic(paths.svg, svg);
  await writeFileAtomic(paths.png, png);
  return paths;
}

/** The run in a line, and a second line naming epochs that could not be drawn. */
function subtitle(history: TrainingHistory, epochs: EpochRecord[], hasVal: boolean): string[] {
  const parts: string[] = [];
  const n = epochs.length;
  const last = n ? epochs[n - 1].epoch : 0;
  parts.push(`${n} ${n === 1 ? 'epoch' : 'epochs'}`);
  if (history.interrupted) parts.push(`interrupted after epoch ${last}`);
  else if (history.stoppedEarly) parts.push(`stopped early at epoch ${last}`);
  else if (n) parts.push('completed');
  if (history.bestEpoch !== undefined) parts.push(`saved weights: epoch ${history.bestEpoch}`);
  if (!hasVal && n) parts.push('no validation data');
  const skipped = epochs
    .filter((e) => (['loss', 'accuracy', 'val_loss', 'val_accuracy'] as const).some((k) => e[k] !== undefined && !isFiniteNumber(e[k])))
    .map((e) => e.epoch);
  const lines = [parts.join('  \u00b7  ')];
  if (skipped.length) {
    const shown = skipped.length > 4 ? `${skipped.slice(0, 3).join(', ')} and ${skipped.length - 3} more` : skipped.join(', ');
    lines.push(`NaN/Inf not plotted: ${skipped.length === 1 ? 'epoch' : 'epochs'} ${shown}`);
  }
  return lines;
}

function bestLabel(best: EpochRecord, p: Panel, monitor: TrainingHistory['monitor']): string {
  // The loss panel reports the monitored quantity (the one that chose this epoch); the accuracy
  // panel the matching accuracy, so a reader sees what that choice bought.
  const key: MetricKey = p.kind === 'loss' ? monitor : monitor === 'val_loss' ? 'val_accuracy' : 'accuracy';
  const v = best[key];
  return isFiniteNumber(v) ? `best: epoch ${best.epoch} (${key} ${formatValue(v)})` : `best: epoch ${best.epoch}`;
}

/** A round floor below the lowest accuracy; 0 once it is low anyway, so a tight axis never hides a poor start. */
function accuracyFloor(values: number[]): number {
  if (!values.length) return 0;
  const floor = Math.floor((Math.min(...values) - 0.02) / 0.05) * 0.05;
  return floor < 0.2 ? 0 : Math.round(floor * 100) / 100;
}

function formatValue(v: number): string {
  if (v !== 0 && (Math.abs(v) >= 1e5 || Math.abs(v) < 1e-3)) return v.toExponential(2);
  return Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(3);
}

function finiteOrNull(v: number | undefined): number | null {
  return isFiniteNumber(v) ? v : null;
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}
