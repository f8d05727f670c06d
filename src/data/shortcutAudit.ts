import { Random } from '../base/random.js';
import type { ImageAttributes, Shortcut } from './auditTypes.js';

export interface ShortcutAuditOptions {
  /**
   * Cross-validated balanced accuracy from which an attribute is flagged. Default: chance + 0.15
   * (0.65 for two classes): an attribute that alone gets two images in three right is a cue a
   * network picks up before faces, worth fixing even when the rest of the signal is strong.
   * Small datasets need more: the bar is raised to chance + 3 standard errors of a coin's balanced
   * accuracy at the attribute's class sizes (0.74 at 20 images per class, 0.64 at 60), since ten
   * attributes unrelated to the class, at 20 per class, put one past 0.65 in half of all datasets
   * (0.5 ± 0.09 each) and one past the raised bar in 1% (simulated, 200 datasets each at 20 and at
   * 60 per class). A 40% against 0% gray share is then found in a quarter of datasets of 20 per
   * class and nearly all of 60.
   */
  minBalancedAccuracy?: number;
  /** Stratified cross-validation folds. */
  folds?: number;
  /** Seed of the fold assignment: the same items and seed give the same result. */
  seed?: number;
  /**
   * The model the images are for (train knows it, clean does not): the advice then fits what it
   * sees. Telling a grayscale model's trainer to convert images to grayscale, or a face model's to
   * crop borders off the photos it crops faces from, is advice they cannot act on.
   */
  model?: ShortcutModel;
}

/** What a model sees of an image, as far as shortcut advice is concerned. */
export interface ShortcutModel {
  /** 1: grayscale input (colour is gone before the model sees the image); 3: RGB. */
  channels: number;
  /** Training images are cropped to their most prominent face (train --faces), the whole image only where none is found. */
  faceCrops: boolean;
}

/** Below this many images of some class (with the attribute), the audit says nothing: too few to tell a pattern from luck. */
export const MIN_IMAGES_PER_CLASS = 20;

export interface AuditItem {
  label: string;
  attributes: ImageAttributes;
}

type Value = number | string;

interface AttributeSpec {
  key: keyof ImageAttributes;
  kind: 'numeric' | 'categorical';
  /** The value, or undefined when this image has none (a PNG's JPEG quality, an undecodable image's pixels). */
  read: (a: ImageAttributes) => Value | undefined;
  /** "are under 320 px wide", for a numeric threshold on either side, or "are PNG" for a category. */
  phrase: (side: 'below' | 'above' | 'is', value: Value) => string;
  /** The side of a threshold worth naming when both say as much: the unusual one (gray, framed, poorly compressed). */
  prefer?: 'below' | 'above';
  /** Who the numbers are about, when not every image: "Among the JPEGs, ". */
  scope?: string;
  /** What a model learns and what to do, given the class the attribute points to and, when known, the model. */
  advice: (cls: string, cue: string, model: ShortcutModel | undefined) => string;
  /** A further figure for the detail. */
  also?: (rows: Row[], classes: string[]) => string;
}

interface Row {
  value: Value;
  y: number;
  attributes: ImageAttributes;
}

const finite = (x: number) => (Number.isFinite(x) ? x : undefined);
const fixed = (digits: number) => (v: Value) => (typeof v === 'number' ? v.toFixed(digits) : v);
const px = (v: Value) => `${Math.round(Number(v))} px`;

const SIZE_ADVICE = (cls: string, cue: string, model: ShortcutModel | undefined) =>
  model?.faceCrops
    ? `a model can learn '${cue} means ${cls}' even from face crops: a face from a small photo is blurrier once resized to the input, and a photo where no face is found is used whole. Balance each source's share per class, or collect larger photos of the other classes.`
    : `a model can learn '${cue} means ${cls}' (resizing to the input size keeps the difference in stretching and detail). Resize or crop every image the same way (e.g. centre-crop to a square first), or balance each source's share per class.`;
const SHAPE_ADVICE = (cls: string, cue: string, model: ShortcutModel | undefined) =>
  model?.faceCrops
    ? `face crops are square whatever the photo's shape, so '${cue} means ${cls}' reaches the model only through photos where no face is found (used whole, stretched to the input). Check those photos, or balance each shape's share per class.`
    : SIZE_ADVICE(cls, cue, model);
const ENCODING_ADVICE = (cls: string, cue: string) =>
  `a model can learn '${cue} means ${cls}' from compression artefacts. Re-encode every image the same way (same format and JPEG quality) before training.`;
const LIGHT_ADVICE = (cls: string, cue: string) =>
  `a model can learn '${cue} means ${cls}'. Collect images with balanced lighting per class, or train with --augment (random brightness and contrast).`;
/**
 * Colour: a grayscale model never sees it, but pictures that are gray are often a different kind of
 * picture (old photos, scans, stock black-and-white) that differs in contrast and grain as well,
 * so the share per class is still worth balancing. Without a model (clean) both cases are said.
 */
const COLOUR_ADVICE = (cls: string, cue: string, balance: string, model: ShortcutModel | undefined) => {
  const learn = `a model can learn '${cue} means ${cls}'.`;
  if (!model) return `${learn} Convert all images to grayscale (train --input HxWx1) for a colour model (face-48 and the default model already see only grayscale), and either way ${balance}.`;
  if (model.channels === 1) return `the model being trained sees grayscale (input HxWx1), so the colour itself is hidden from it; but gray pictures are often a different kind of picture (old photos, scans, stock black-and-white) with their own contrast and grain, which it can still learn as '${cls}': ${balance}.`;
  return `${learn} Convert all images to grayscale (train --input HxWx1), or ${balance}.`;
};
const BORDER_ADVICE = (cls: string, cue: string, model: ShortcutModel | undefined) => {
  if (model?.faceCrops) return `face crops leave most borders out, so '${cue === 'a border' ? 'a frame' : 'no frame'} means ${cls}' reaches the model through photos where no face is found (used whole) or whose face touches the frame. Check those photos, or crop the borders off.`;
  return cue === 'a border'
    ? `a model can learn 'a frame means ${cls}'. Crop the borders (letterbox bars, frames, empty backdrop) off, or give every class the same share of framed images.`
    : `a model can learn 'no frame means ${cls}'. Crop the borders (letterbox bars, frames, empty backdrop) off the other classes' images.`;
};

const ATTRIBUTES: AttributeSpec[] = [
  {
    key: 'grayscale', kind: 'categorical', read: (a) => (Number.isFinite(a.colourfulness) ? String(a.grayscale) : undefined),
    phrase: (_, v) => (v === 'true' ? 'are grayscale' : 'are in colour'), advice: (cls, _cue, model) => COLOUR_ADVICE(cls, 'gray', 'balance the gray share per class', model),
  },
  {
    key: 'colourfulness', kind: 'numeric', read: (a) => finite(a.colourfulness), prefer: 'below',
    phrase: (side, v) => `have colourfulness ${side === 'below' ? 'below' : 'above'} ${fixed(3)(v)} (0 = gray)`,
    advice: (cls, cue, model) => COLOUR_ADVICE(cls, cue, 'balance muted and vivid pictures per class', model),
    // A threshold of 0.1 is muted colour, not gray: the gray shares say how much of it is black and white.
    also: (rows, classes) => {
      const gray = classes.map((_, c) => rows.filter((r) => r.y === c && r.attributes.grayscale).length / rows.filter((r) => r.y === c).length);
      return ` Grayscale: ${classes.map((cls, c) => `${pct(gray[c])} of ${cls}`).join(', ')}.`;
    },
  },
  {
    key: 'border', kind: 'numeric', read: (a) => finite(a.border), prefer: 'above',
    phrase: (side, v) => `have ${side === 'below' ? 'less' : 'more'} than ${Math.round(100 * Number(v))}% of their area in flat borders`,
    advice: BORDER_ADVICE,
  },
  {
    key: 'format', kind: 'categorical', read: (a) => a.format || undefined,
    phrase: (_, v) => `are ${String(v).toUpperCase()}`, advice: ENCODING_ADVICE,
  },
  {
    key: 'jpegQuality', kind: 'numeric', read: (a) => (a.jpegQuality === null ? undefined : finite(a.jpegQuality)), scope: 'Among the JPEGs, ', prefer: 'below',
    phrase: (side, v) => (side === 'below' ? `are saved at quality ${Math.floor(Number(v))} or lower` : `are saved at quality above ${Math.floor(Number(v))}`),
    advice: ENCODING_ADVICE,
  },
  {
    key: 'brightness', kind: 'numeric', read: (a) => finite(a.brightness),
    phrase: (side, v) => `have mean brightness ${side === 'below' ? 'below' : 'above'} ${fixed(2)(v)} (0 = black, 1 = white)`, advice: LIGHT_ADVICE,
  },
  {
    key: 'contrast', kind: 'numeric', read: (a) => finite(a.contrast),
    phrase: (side, v) => `have contrast ${side === 'below' ? 'below' : 'above'} ${fixed(3)(v)} (spread of brightness)`, advice: LIGHT_ADVICE,
  },
  {
    key: 'aspect', kind: 'numeric', read: (a) => finite(a.aspect),
    phrase: (side, v) => `have an aspect ratio (width / height) ${side === 'below' ? 'below' : 'above'} ${fixed(2)(v)}`, advice: SHAPE_ADVICE,
  },
  { key: 'width', kind: 'numeric', read: (a) => finite(a.width), phrase: (side, v) => `are ${side === 'below' ? 'under' : 'over'} ${px(v)} wide`, advice: SIZE_ADVICE },
  { key: 'height', kind: 'numeric', read: (a) => finite(a.height), phrase: (side, v) => `are ${side === 'below' ? 'under' : 'over'} ${px(v)} tall`, advice: SIZE_ADVICE },
];

/** What the cue is called in "a model can learn 'CUE means CLASS'", by attribute and side. */
const CUE: Record<string, [low: string, high: string]> = {
  colourfulness: ['muted colour', 'vivid colour'],
  border: ['no border', 'a border'],
  jpegQuality: ['low JPEG quality', 'high JPEG quality'],
  brightness: ['dark', 'bright'],
  contrast: ['low contrast', 'high contrast'],
  aspect: ['a narrow shape', 'a wide shape'],
  width: ['small size', 'large size'],
  height: ['small size', 'large size'],
};

/**
 * Finds attributes that alone tell the classes apart: for each one (size, shape, colour,
 * exposure, borders, encoding), a one-split classifier that sees only it (the best threshold of a
 * number, the best class of each category) is scored by stratified k-fold cross-validation, so a
 * threshold is always judged on images it was not chosen on. An attribute whose balanced accuracy
 * clears the bar is a shortcut a model can learn instead of the expression; the strongest comes
 * first, each with the figures and what to do.
 *
 * Balanced accuracy (the mean of per-class recalls) is used so that class imbalance alone never
 * flags anything. Several classes: the split's two sides each predict their best class, so an
 * attribute that sets one class apart from the rest still counts. Returns [] with fewer than
 * MIN_IMAGES_PER_CLASS images in some class: a handful of images always differs somehow.
 */
export function auditShortcuts(items: AuditItem[], options: ShortcutAuditOptions = {}): Shortcut[] {
  const classes = [...new Set(items.map((i) => i.label))].sort();
  if (classes.length < 2) return [];
  const folds = Math.max(2, Math.floor(options.folds ?? 5));
  const bar = options.minBalancedAccuracy ?? 1 / classes.length + 0.15;
  const random = new Random(options.seed ?? 0);
  const found: Shortcut[] = [];
  for (const spec of ATTRIBUTES) {
    const rows: Row[] = [];
    for (const item of items) {
      const value = spec.read(item.attributes);
      if (value !== undefined) rows.push({ value, y: classes.indexOf(item.label), attributes: item.attributes });
    }
    const counts = classes.map((_, c) => rows.filter((r) => r.y === c).length);
    if (counts.some((n) => n < MIN_IMAGES_PER_CLASS)) continue;
    // Each attribute gets its own stream, so auditing one more attribute moves no other's folds.
    const fold = stratifiedFolds(rows.map((r) => r.y), classes.length, folds, random.derive(spec.key));
    const predicted = new Array<number>(rows.length);
    for (let f = 0; f < folds; f++) {
      const train = rows.filter((_, i) => fold[i] !== f);
      const model = fit(spec.kind, train, classes.length);
      rows.forEach((r, i) => {
        if (fold[i] === f) predicted[i] = model(r.value);
      });
    }
    const score = balancedAccuracy(rows.map((r) => r.y), predicted, classes.length);
    if (score >= Math.max(bar, noiseFloor(counts))) found.push({ attribute: spec.key, balancedAccuracy: score, detail: describe(spec, rows, classes, options.model) });
  }
  return found.sort((a, b) => b.balancedAccuracy - a.balancedAccuracy || (a.attribute < b.attribute ? -1 : 1));
}

/**
 * Chance plus three standard errors of the balanced accuracy of a classifier that guesses, with
 * these class sizes: each recall is then a share of n_c coin flips (variance 1/(4 n_c)), and the
 * balanced accuracy their mean.
 */
function noiseFloor(counts: number[]): number {
  const k = counts.length;
  return 1 / k + (3 / k) * Math.sqrt(counts.reduce((sum, n) => sum + 1 / (4 * n), 0));
}

/** Fold of each item: every class shuffled and dealt round-robin, so each fold holds each class in proportion. */
function stratifiedFolds(y: number[], classCount: number, folds: number, random: Random): number[] {
  const fold = new Array<number>(y.length);
  for (let c = 0; c < classCount; c++) {
    const members = random.shuffle(y.flatMap((v, i) => (v === c ? [i] : [])));
    members.forEach((i, k) => {
      fold[i] = k % folds;
    });
  }
  return fold;
}

/**
 * A one-split classifier trained for balanced accuracy: each image weighs 1 / (its class's count),
 * so every class weighs the same, and each side of the split (each category) predicts the class
 * with the most weight there. Ties go to the first class, deterministically.
 */
function fit(kind: AttributeSpec['kind'], rows: { value: Value; y: number }[], classCount: number): (v: Value) => number {
  const weight = new Array<number>(classCount).fill(0);
  for (const r of rows) weight[r.y]++;
  const w = (c: number) => 1 / weight[c];
  if (kind === 'categorical') {
    const byValue = new Map<Value, number[]>();
    for (const r of rows) {
      const acc = byValue.get(r.value) ?? byValue.set(r.value, new Array<number>(classCount).fill(0)).get(r.value)!;
      acc[r.y] += w(r.y);
    }
    const best = new Map([...byValue].map(([v, acc]) => [v, argmax(acc)]));
    // A category the training folds never saw carries no information: the first class, as for a tie.
    return (v) => best.get(v) ?? 0;
  }
  const stump = bestSplit(rows as { value: number; y: number }[], classCount, w);
  return (v) => (Number(v) <= stump.threshold ? stump.below : stump.above);
}

interface Stump {
  threshold: number;
  below: number;
  above: number;
}

/** The threshold (midway between two neighbouring values) that gets the most class weight right. */
function bestSplit(rows: { value: number; y: number }[], classCount: number, w: (c: number) => number): Stump {
  const sorted = [...rows].sort((a, b) => a.value - b.value);
  const total = new Array<number>(classCount).fill(0);
  for (const r of sorted) total[r.y] += w(r.y);
  const left = new Array<number>(classCount).fill(0);
  const all = argmax(total);
  let best: Stump = { threshold: Infinity, below: all, above: all };
  let bestScore = total[all];
  for (let i = 0; i < sorted.length - 1; i++) {
    left[sorted[i].y] += w(sorted[i].y);
    if (sorted[i].value === sorted[i + 1].value) continue;
    const right = total.map((t, c) => t - left[c]);
    const below = argmax(left);
    const above = argmax(right);
    const score = left[below] + right[above];
    // Strictly better only: among equal splits the first (lowest) is kept, whatever the input order.
    if (score > bestScore + 1e-12) {
      bestScore = score;
      best = { threshold: (sorted[i].value + sorted[i + 1].value) / 2, below, above };
    }
  }
  return best;
}

function argmax(xs: number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best] + 1e-12) best = i;
  return best;
}

/** Mean over classes of the share of that class predicted as itself; out-of-fold predictions pooled. */
function balancedAccuracy(truth: number[], predicted: number[], classCount: number): number {
  let sum = 0;
  for (let c = 0; c < classCount; c++) {
    const members = truth.flatMap((t, i) => (t === c ? [i] : []));
    sum += members.filter((i) => predicted[i] === c).length / members.length;
  }
  return sum / classCount;
}

const pct = (x: number) => `${Math.round(100 * x)}%`;

/**
 * The finding in words, from the whole data (the folds only judged it): the share of each class on
 * the side of the split (or in the category) that sets them apart most, and the advice for the
 * class the attribute points to.
 */
function describe(spec: AttributeSpec, rows: Row[], classes: string[], model: ShortcutModel | undefined): string {
  const counts = classes.map((_, c) => rows.filter((r) => r.y === c).length);
  const shareOf = (test: (v: Value) => boolean) => classes.map((_, c) => rows.filter((r) => r.y === c && test(r.value)).length / counts[c]);
  let phrase: string;
  let shares: number[];
  let cue: string;
  if (spec.kind === 'categorical') {
    // The category whose share differs most between classes (format=png); on a tie, as between
    // the two values of a yes/no attribute, the rarer one, which is the one worth naming (grayscale).
    const values = [...new Set(rows.map((r) => r.value))].sort();
    const frequency = (v: Value) => rows.filter((r) => r.value === v).length;
    const spread = (v: Value) => {
      const s = shareOf((x) => x === v);
      return Math.max(...s) - Math.min(...s);
    };
    const value = values.reduce((a, b) => (spread(b) > spread(a) + 1e-12 || (Math.abs(spread(b) - spread(a)) <= 1e-12 && frequency(b) < frequency(a)) ? b : a));
    phrase = spec.phrase('is', value);
    shares = shareOf((x) => x === value);
    cue = spec.key === 'format' ? String(value).toUpperCase() : phrase.replace(/^are /, '');
  } else {
    const stump = bestSplit(rows as { value: number; y: number }[], classes.length, (c) => 1 / counts[c]);
    // State the side where one class stands out most from every other ("61% of sad images have
    // colourfulness below 0.05 against 4% of happy ones"). With two classes both sides stand out
    // alike; then the attribute's telling side (gray, framed), else the side fewer images are on.
    const below = shareOf((v) => Number(v) <= stump.threshold);
    const above = below.map((x) => 1 - x);
    const standout = (side: number[]) => Math.max(...side.map((x, c) => x - Math.max(...side.filter((_, o) => o !== c))));
    const fewer = rows.filter((r) => Number(r.value) <= stump.threshold).length <= rows.length / 2 ? 'below' : 'above';
    const gap = standout(below) - standout(above);
    const lowSide = Math.abs(gap) > 1e-9 ? gap > 0 : (spec.prefer ?? fewer) === 'below';
    phrase = spec.phrase(lowSide ? 'below' : 'above', stump.threshold);
    shares = lowSide ? below : above;
    cue = CUE[spec.key]?.[lowSide ? 0 : 1] ?? spec.key;
  }
  const order = classes.map((_, c) => c).sort((a, b) => shares[b] - shares[a]);
  const top = order[0];
  const others = order.slice(1).map((c) => `${pct(shares[c])} of ${classes[c]}`);
  const against = others.length === 1 ? `${others[0]} ones` : `${others.slice(0, -1).join(', ')} and ${others.at(-1)}`;
  return `${spec.scope ?? ''}${pct(shares[top])} of ${classes[top]} images ${phrase} against ${against}; ${spec.advice(classes[top], cue, model)}${spec.also?.(rows, classes) ?? ''}`;
}
