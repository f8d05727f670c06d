import { join } from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '../io/atomicWrite.js';
import type { EpochRecord, TrainingHistory } from '../train/history.js';

export interface TrainingCurvesOptions {
  /** Shown at the top; usually derived from a user's folder name, so it is escaped. */
  title?: string;
}

const WIDTH = 960;
const HEIGHT = 420;
const FONT = 'DejaVu Sans, Arial, sans-serif';

// Okabe–Ito blue and vermillion: they stay distinct under the common colour-vision deficiencies,
// and the solid/dashed split carries the same information for greyscale prints.
const TRAIN_COLOUR = '#0072B2';
const VAL_COLOUR = '#D55E00';
const BEST_COLOUR = '#555555';
const TEXT_COLOUR = '#222222';
const MUTED_COLOUR = '#555555';
const GRID_COLOUR = '#e6e6e6';
const AXIS_COLOUR = '#999999';
const VAL_DASH = '7 4';
const BEST_DASH = '2 3';

// Vertical layout: everything that is text lives outside the plot areas so nothing can cover data.
const TITLE_Y = 30;
const SUBTITLE_Y = 51;
const PANEL_TITLE_Y = 82;
const BEST_LABEL_Y = 98;
const PLOT_TOP = 106;
const PLOT_BOTTOM = 332;
const X_TICK_LABEL_Y = PLOT_BOTTOM + 17;
const X_AXIS_LABEL_Y = PLOT_BOTTOM + 38;
const LEGEND_Y = HEIGHT - 18;

const PANEL_GAP = 56;
const OUTER_MARGIN = 20;
// Keeps the first and last epoch's dots off the y axis and the right edge.
const X_INSET = 14;

// There is no font metrics API here, so text widths are estimated from DejaVu Sans's rough glyph
// classes. They only centre and clamp labels, so erring slightly wide is the safe side.
function textWidth(s: string, size: number): number {
  let em = 0;
  for (const ch of s) {
    if (/[ijlft.,:;'|!()\[\] ]/.test(ch)) em += 0.36;
    else if (/[mwMW@]/.test(ch)) em += 0.92;
    else if (/[A-Z]/.test(ch)) em += 0.72;
    else em += 0.63;
  }
  return em * size;
}

type MetricKey = 'loss' | 'accuracy' | 'val_loss' | 'val_accuracy';

interface Series {
  key: MetricKey;
  label: string;
  colour: string;
  dash?: string;
}

interface Scale {
  lo: number;
  hi: number;
  ticks: number[];
  decimals: number;
}

interface PanelSpec {
  title: string;
  train: Series;
  val: Series;
  kind: 'loss' | 'accuracy';
}

const PANELS: PanelSpec[] = [
  {
    title: 'Loss',
    kind: 'loss',
    train: { key: 'loss', label: 'train', colour: TRAIN_COLOUR },
    val: { key: 'val_loss', label: 'validation', colour: VAL_COLOUR, dash: VAL_DASH },
  },
  {
    title: 'Accuracy',
    kind: 'accuracy',
    train: { key: 'accuracy', label: 'train', colour: TRAIN_COLOUR },
    val: { key: 'val_accuracy', label: 'validation', colour: VAL_COLOUR, dash: VAL_DASH },
  },
];

/**
 * Loss and accuracy per epoch as one self-contained SVG (no external fonts, images or scripts),
 * so it can be embedded in a report or opened straight from a run folder.
 */
export function renderTrainingCurvesSvg(history: TrainingHistory, options: TrainingCurvesOptions = {}): string {
  const epochs = [...history.epochs].sort((a, b) => a.epoch - b.epoch);
  const hasVal = epochs.some((e) => e.val_loss !== undefined || e.val_accuracy !== undefined);
  const title = options.title ?? 'Training curves';

  const panelWidth = (WIDTH - 2 * OUTER_MARGIN - PANEL_GAP) / 2;
  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" ` +
      `font-family="${FONT}" fill="${TEXT_COLOUR}">`,
  );
  out.push(`<title>${esc(title)}</title>`);
  out.push(`<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`);
  out.push(text(WIDTH / 2, TITLE_Y, fitText(title, WIDTH - 2 * OUTER_MARGIN, 18), { size: 18, weight: 600, anchor: 'middle', cls: 'title' }));
  out.push(
    text(WIDTH / 2, SUBTITLE_Y, fitText(subtitle(history, epochs, hasVal), WIDTH - 2 * OUTER_MARGIN, 12), {
      size: 12,
      anchor: 'middle',
      fill: MUTED_COLOUR,
      cls: 'subtitle',
    }),
  );

  PANELS.forEach((spec, i) => {
    const panelLeft = OUTER_MARGIN + i * (panelWidth + PANEL_GAP);
    out.push(renderPanel(spec, panelLeft, panelWidth, epochs, history, hasVal));
  });

  out.push(renderLegend(hasVal, history.bestEpoch !== undefined && epochs.some((e) => e.epoch === history.bestEpoch)));
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/**
 * Writes `training-curves.svg` and `training-curves.png` into `dir`. The PNG is rendered before
 * either file is written, so a rendering failure never leaves a new SVG beside a stale PNG.
 */
/** The curves as SVG text and as a PNG rendered from it: what a bundle stores beside the model. */
export async function renderTrainingCurves(history: TrainingHistory, options: TrainingCurvesOptions = {}): Promise<{ svg: string; png: Buffer }> {
  const svg = renderTrainingCurvesSvg(history, options);
  // 144 dpi is twice the SVG's 72 dpi user space, so the PNG stays crisp when a report scales it.
  const png = await sharp(Buffer.from(svg), { density: 144 }).png().toBuffer();
  return { svg, png };
}

export async function writeTrainingCurves(
  dir: string,
  history: TrainingHistory,
  options: TrainingCurvesOptions = {},
): Promise<{ svg: string; png: string }> {
  const { svg, png } = await renderTrainingCurves(history, options);
  const paths = { svg: join(dir, 'training-curves.svg'), png: join(dir, 'training-curves.png') };
  await writeFileAtomic(paths.svg, svg);
  await writeFileAtomic(paths.png, png);
  return paths;
}

function renderPanel(
  spec: PanelSpec,
  panelLeft: number,
  panelWidth: number,
  epochs: EpochRecord[],
  history: TrainingHistory,
  hasVal: boolean,
): string {
  const series = hasVal ? [spec.train, spec.val] : [spec.train];
  const values = epochs.flatMap((e) => series.map((s) => e[s.key])).filter(isFiniteNumber);
  const yScale = spec.kind === 'loss' ? lossScale(values) : accuracyScale(values);
  const yLabels = yScale.ticks.map((t) => formatTick(t, yScale.decimals));
  // The y tick labels' width decides where the plot can start, so huge losses never spill left.
  const labelWidth = Math.max(...yLabels.map((l) => textWidth(l, 11)));
  const plotLeft = panelLeft + Math.ceil(labelWidth) + 10;
  const plotRight = panelLeft + panelWidth;

  const epochNumbers = epochs.map((e) => e.epoch);
  const minEpoch = epochNumbers.length ? Math.min(...epochNumbers) : 1;
  const maxEpoch = epochNumbers.length ? Math.max(...epochNumbers) : 1;
  const xOf = (epoch: number): number =>
    maxEpoch === minEpoch
      ? (plotLeft + plotRight) / 2
      : plotLeft + X_INSET + ((epoch - minEpoch) / (maxEpoch - minEpoch)) * (plotRight - plotLeft - 2 * X_INSET);
  const yOf = (v: number): number => PLOT_BOTTOM - ((v - yScale.lo) / (yScale.hi - yScale.lo)) * (PLOT_BOTTOM - PLOT_TOP);

  const out: string[] = [`<g data-panel="${spec.kind}">`];
  out.push(text(plotLeft, PANEL_TITLE_Y, spec.title, { size: 14, weight: 600 }));

  yScale.ticks.forEach((t, i) => {
    const y = r(yOf(t));
    out.push(`<line x1="${r(plotLeft)}" y1="${y}" x2="${r(plotRight)}" y2="${y}" stroke="${GRID_COLOUR}" stroke-width="1"/>`);
    out.push(text(plotLeft - 7, y + 4, yLabels[i], { size: 11, anchor: 'end', fill: MUTED_COLOUR, cls: 'y-tick' }));
  });

  const xTicks = epochs.length ? epochTicks(minEpoch, maxEpoch) : [];
  for (const t of xTicks) {
    const x = r(xOf(t));
    out.push(`<line x1="${x}" y1="${PLOT_TOP}" x2="${x}" y2="${PLOT_BOTTOM}" stroke="${GRID_COLOUR}" stroke-width="1"/>`);
    out.push(`<line x1="${x}" y1="${PLOT_BOTTOM}" x2="${x}" y2="${PLOT_BOTTOM + 4}" stroke="${AXIS_COLOUR}" stroke-width="1"/>`);
    out.push(text(x, X_TICK_LABEL_Y, String(t), { size: 11, anchor: 'middle', fill: MUTED_COLOUR, cls: 'x-tick' }));
  }
  out.push(
    text((plotLeft + plotRight) / 2, X_AXIS_LABEL_Y, 'Epoch', { size: 12, anchor: 'middle', fill: TEXT_COLOUR }),
  );
  out.push(
    `<path d="M${r(plotLeft)} ${PLOT_TOP}V${PLOT_BOTTOM}H${r(plotRight)}" fill="none" stroke="${AXIS_COLOUR}" stroke-width="1"/>`,
  );

  if (!epochs.length) {
    out.push(
      text((plotLeft + plotRight) / 2, (PLOT_TOP + PLOT_BOTTOM) / 2, 'no epochs recorded', {
        size: 12,
        anchor: 'middle',
        fill: MUTED_COLOUR,
      }),
    );
  }

  // Drawn before the data so the curves sit on top of the marker where they cross it.
  const best = epochs.find((e) => e.epoch === history.bestEpoch);
  if (best) {
    const x = r(xOf(best.epoch));
    out.push(`<g data-best-epoch="${best.epoch}">`);
    out.push(
      `<line x1="${x}" y1="${PLOT_TOP}" x2="${x}" y2="${PLOT_BOTTOM}" stroke="${BEST_COLOUR}" stroke-width="1.2" stroke-dasharray="${BEST_DASH}"/>`,
    );
    const label = bestLabel(best, spec, history.monitor);
    const half = textWidth(label, 11) / 2;
    const cx = clamp(x, plotLeft + half, plotRight - half);
    out.push(text(cx, BEST_LABEL_Y, label, { size: 11, anchor: 'middle', fill: BEST_COLOUR, cls: 'best-label' }));
    out.push('</g>');
  }

  for (const s of series) {
    const points = epochs
      .map((e) => ({ epoch: e.epoch, v: e[s.key] }))
      .filter((p): p is { epoch: number; v: number } => isFiniteNumber(p.v));
    if (!points.length) continue;
    // A skipped (non-finite or missing) epoch breaks the line rather than bridging it, so a gap
    // reads as "no value here" instead of inventing a straight-line trend across it.
    const epochIndex = new Map(epochs.map((e, i) => [e.epoch, i]));
    let d = '';
    let prevIndex = -2;
    for (const p of points) {
      const idx = epochIndex.get(p.epoch)!;
      d += `${idx === prevIndex + 1 ? 'L' : 'M'}${r(xOf(p.epoch))} ${r(yOf(p.v))}`;
      prevIndex = idx;
    }
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    out.push(
      `<path data-series="${s.key}" d="${d}" fill="none" stroke="${s.colour}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"${dash}/>`,
    );
    // Full-size dots would merge into a bead chain once epochs are only a few pixels apart.
    const radius = epochs.length > 100 ? 1.3 : epochs.length > 30 ? 1.9 : 3;
    out.push(`<g data-series-dots="${s.key}" fill="${s.colour}" stroke="#ffffff" stroke-width="0.8">`);
    for (const p of points) out.push(`<circle cx="${r(xOf(p.epoch))}" cy="${r(yOf(p.v))}" r="${radius}"/>`);
    out.push('</g>');
  }

  out.push('</g>');
  return out.join('\n');
}

function renderLegend(hasVal: boolean, hasBest: boolean): string {
  const size = 12;
  const sample = 30;
  const items: { width: number; draw: (x: number) => string }[] = [];
  const lineItem = (label: string, colour: string, dash?: string) => ({
    width: sample + 8 + textWidth(label, size),
    draw: (x: number) => {
      const y = LEGEND_Y - 4;
      const dashAttr = dash ? ` stroke-dasharray="${dash}"` : '';
      return (
        `<line x1="${x}" y1="${y}" x2="${x + sample}" y2="${y}" stroke="${colour}" stroke-width="2"${dashAttr}/>` +
        `<circle cx="${x + sample / 2}" cy="${y}" r="3" fill="${colour}" stroke="#ffffff" stroke-width="0.8"/>` +
        text(x + sample + 8, LEGEND_Y, label, { size })
      );
    },
  });
  items.push(lineItem('train', TRAIN_COLOUR));
  if (hasVal) {
    items.push(lineItem('validation', VAL_COLOUR, VAL_DASH));
  } else {
    const label = 'no validation data';
    items.push({
      width: textWidth(label, size),
      draw: (x) => text(x, LEGEND_Y, label, { size, fill: MUTED_COLOUR, italic: true }),
    });
  }
  if (hasBest) {
    const label = 'best epoch (saved weights)';
    items.push({
      width: 14 + textWidth(label, size),
      draw: (x) =>
        `<line x1="${x + 3}" y1="${LEGEND_Y - 12}" x2="${x + 3}" y2="${LEGEND_Y + 3}" stroke="${BEST_COLOUR}" stroke-width="1.2" stroke-dasharray="${BEST_DASH}"/>` +
        text(x + 14, LEGEND_Y, label, { size }),
    });
  }
  const gap = 32;
  const total = items.reduce((sum, it) => sum + it.width, 0) + gap * (items.length - 1);
  let x = Math.round((WIDTH - total) / 2);
  const parts: string[] = ['<g data-legend="">'];
  for (const it of items) {
    parts.push(it.draw(x));
    x += Math.round(it.width + gap);
  }
  parts.push('</g>');
  return parts.join('\n');
}

function subtitle(history: TrainingHistory, epochs: EpochRecord[], hasVal: boolean): string {
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
  if (skipped.length) {
    const shown = skipped.length > 4 ? `${skipped.slice(0, 3).join(', ')} and ${skipped.length - 3} more` : skipped.join(', ');
    parts.push(`NaN/Inf not plotted: ${skipped.length === 1 ? 'epoch' : 'epochs'} ${shown}`);
  }
  return parts.join('  \u00b7  ');
}

function bestLabel(best: EpochRecord, spec: PanelSpec, monitor: TrainingHistory['monitor']): string {
  // The loss panel reports the monitored quantity (the one that chose this epoch); the accuracy
  // panel reports the matching accuracy so a reader sees what that choice bought.
  const key: MetricKey = spec.kind === 'loss' ? monitor : monitor === 'val_loss' ? 'val_accuracy' : 'accuracy';
  const v = best[key];
  return isFiniteNumber(v) ? `best: epoch ${best.epoch} (${key} ${formatValue(v)})` : `best: epoch ${best.epoch}`;
}

function lossScale(values: number[]): Scale {
  if (!values.length) return niceScale(0, 1, 5);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min;
  // Anchoring at zero shows how far the loss has come; when the curves all sit in a narrow band
  // well above zero, a zero baseline would flatten them into a line, so the range goes tight.
  if (min >= 0 && min < 0.5 * max) return niceScale(0, max + 0.03 * span, 5);
  let [lo, hi] = padRange(min, max, 0.2 * Math.max(Math.abs(min), Math.abs(max)) || 1);
  if (min >= 0 && lo < 0) [lo, hi] = [0, hi - lo];
  return niceScale(lo, hi, 5);
}

function accuracyScale(values: number[]): Scale {
  if (!values.length) return niceScale(0, 1, 5);
  const min = Math.min(...values);
  const max = Math.max(...values);
  if (min < 0 || max > 1) return niceScale(min, max, 5);
  let [lo, hi] = padRange(min, max, 0.1);
  if (lo < 0) [lo, hi] = [0, hi - lo];
  if (hi > 1) [lo, hi] = [lo - (hi - 1), 1];
  lo = Math.floor(lo / 0.05 + 1e-9) * 0.05;
  hi = Math.ceil(hi / 0.05 - 1e-9) * 0.05;
  // Near the bottom a tight axis would only hide the honest 0 baseline.
  if (lo < 0.2) lo = 0;
  const step = Math.max(0.05, niceStep((hi - lo) / 6));
  lo = Math.max(0, Math.floor(lo / step + 1e-9) * step);
  hi = Math.min(1, Math.ceil(hi / step - 1e-9) * step);
  return { lo, hi, ticks: tickRange(lo, hi, step), decimals: stepDecimals(step) };
}

/**
 * Adds a little headroom so extreme points do not sit on the frame, and widens a near-flat range
 * to `minSpan` so that noise (or a lone first epoch) is not blown up to fill the whole panel.
 */
function padRange(min: number, max: number, minSpan: number): [number, number] {
  const pad = 0.03 * (max - min);
  let lo = min - pad;
  let hi = max + pad;
  if (hi - lo < minSpan) {
    const mid = (min + max) / 2;
    lo = mid - minSpan / 2;
    hi = mid + minSpan / 2;
  }
  return [lo, hi];
}

function niceScale(min: number, max: number, target: number): Scale {
  if (max === min) {
    const pad = Math.abs(max) * 0.1 || 0.5;
    min -= pad;
    max += pad;
  }
  const step = niceStep((max - min) / target);
  const lo = Math.floor(min / step + 1e-9) * step;
  const hi = Math.ceil(max / step - 1e-9) * step;
  return { lo, hi, ticks: tickRange(lo, hi, step), decimals: stepDecimals(step) };
}

function niceStep(raw: number): number {
  const exp = Math.floor(Math.log10(raw));
  const base = 10 ** exp;
  const f = raw / base;
  const nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return nice * base;
}

function tickRange(lo: number, hi: number, step: number): number[] {
  const ticks: number[] = [];
  const n = Math.round((hi - lo) / step);
  // Multiplying from lo (instead of accumulating) keeps float error from drifting across ticks.
  for (let i = 0; i <= n; i++) ticks.push(Number((lo + i * step).toPrecision(12)));
  return ticks;
}

function stepDecimals(step: number): number {
  const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
  const extra = Math.abs(mantissa - 2.5) < 1e-9 ? 1 : 0;
  return Math.max(0, Math.ceil(-Math.log10(step) - 1e-9) + extra);
}

function epochTicks(min: number, max: number): number[] {
  // Integer steps only; at most about a dozen labels so they never collide at this panel width.
  const span = max - min;
  const steps = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000];
  const step = steps.find((s) => span / s <= 11) ?? Math.ceil(span / 10);
  const ticks: number[] = [];
  const first = step === 1 ? min : Math.ceil(min / step) * step;
  for (let t = first; t <= max; t += step) ticks.push(t);
  if (!ticks.length) ticks.push(min);
  return ticks;
}

function formatTick(v: number, decimals: number): string {
  if (v !== 0 && (Math.abs(v) >= 1e5 || Math.abs(v) < 1e-4)) return v.toExponential(1);
  return v.toFixed(Math.min(decimals, 6));
}

function formatValue(v: number): string {
  if (v !== 0 && (Math.abs(v) >= 1e5 || Math.abs(v) < 1e-3)) return v.toExponential(2);
  return Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(3);
}

function fitText(s: string, maxWidth: number, size: number): string {
  if (textWidth(s, size) <= maxWidth) return s;
  const chars = [...s];
  while (chars.length && textWidth(chars.join('') + '\u2026', size) > maxWidth) chars.pop();
  return chars.join('') + '\u2026';
}

function text(
  x: number,
  y: number,
  content: string,
  o: { size: number; anchor?: 'start' | 'middle' | 'end'; weight?: number; fill?: string; italic?: boolean; cls?: string },
): string {
  const attrs = [`x="${r(x)}"`, `y="${r(y)}"`, `font-size="${o.size}"`];
  if (o.cls) attrs.unshift(`class="${o.cls}"`);
  if (o.anchor && o.anchor !== 'start') attrs.push(`text-anchor="${o.anchor}"`);
  if (o.weight) attrs.push(`font-weight="${o.weight}"`);
  if (o.fill) attrs.push(`fill="${o.fill}"`);
  if (o.italic) attrs.push('font-style="italic"');
  return `<text ${attrs.join(' ')}>${esc(content)}</text>`;
}

function esc(s: string): string {
  return (
    s
      // Control characters other than tab/newline are illegal in XML 1.0 even when escaped.
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&#39;')
  );
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function clamp(v: number, lo: number, hi: number): number {
  return lo > hi ? (lo + hi) / 2 : Math.min(hi, Math.max(lo, v));
}

function r(v: number): number {
  return Math.round(v * 100) / 100;
}
