import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { renderTrainingCurves, renderTrainingCurvesSvg, writeTrainingCurves } from '../../src/report/trainingCurves.js';
import type { EpochRecord, TrainingHistory } from '../../src/model/trainingHistory.js';

const LOSS = [0.69, 0.61, 0.52, 0.45, 0.39, 0.34, 0.3, 0.27, 0.245, 0.225, 0.21, 0.2];
const VAL_LOSS = [0.68, 0.62, 0.55, 0.5, 0.47, 0.445, 0.43, 0.418, 0.412, 0.417, 0.425, 0.436];
const ACC = [0.54, 0.66, 0.74, 0.79, 0.83, 0.86, 0.88, 0.895, 0.905, 0.915, 0.92, 0.926];
const VAL_ACC = [0.55, 0.64, 0.71, 0.76, 0.79, 0.81, 0.82, 0.828, 0.834, 0.831, 0.829, 0.825];

function realistic(): TrainingHistory {
  return {
    epochs: LOSS.map((loss, i) => ({ epoch: i + 1, loss, accuracy: ACC[i], val_loss: VAL_LOSS[i], val_accuracy: VAL_ACC[i], seconds: 30 })),
    bestEpoch: 9,
    monitor: 'val_loss',
    stoppedEarly: true,
    interrupted: false,
  };
}

function withoutValidation(h: TrainingHistory): TrainingHistory {
  return { ...h, monitor: 'loss', epochs: h.epochs.map(({ epoch, loss, accuracy, seconds }): EpochRecord => ({ epoch, loss, accuracy, seconds })) };
}

/**
 * Well-formed XML with one <svg> root: tags balance, attributes are quoted, and no stray `<`, `>`
 * or unescaped `&` is left in text. librsvg (assertRenders) is the real parser; this says where.
 */
function assertWellFormed(svg: string): void {
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/g;
  const stack: string[] = [];
  let last = 0;
  let roots = 0;
  for (const m of svg.matchAll(tag)) {
    const between = svg.slice(last, m.index);
    assert.doesNotMatch(between, /[<>]/, `stray markup before ${m[0]}`);
    assert.doesNotMatch(between, /&(?!(amp|lt|gt|quot|apos|#\d+|#x[\da-f]+);)/i, `unescaped & in ${JSON.stringify(between)}`);
    last = m.index + m[0].length;
    const [, closing, name, , selfClosing] = m;
    if (closing) assert.equal(stack.pop(), name, `mismatched </${name}>`);
    else if (!selfClosing) {
      if (!stack.length) roots++;
      stack.push(name);
    }
  }
  assert.equal(svg.slice(last).trim(), '', 'trailing content after the root element');
  assert.deepEqual(stack, [], 'unclosed tags');
  assert.equal(roots, 1, 'exactly one root element');
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
}

/** What a reader sees: every text element's content (a multi-line text gives one per line), unescaped. */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([\s\S]*?)<\/text>/g)].flatMap((m) =>
    (m[1].includes('<tspan') ? [...m[1].matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((t) => t[1]) : [m[1]]).map((t) =>
      t.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;|&apos;/g, "'").replace(/&amp;/g, '&'),
    ),
  );
}

/** The texts of one role: 'title-text', 'title-subtitle', 'legend-label', 'axis-title', ... */
function textsOf(svg: string, role: string): string[] {
  return [...svg.matchAll(new RegExp(`<g class="mark-text role-${role}"[^>]*>([\\s\\S]*?)</g>`, 'g'))].flatMap((m) => texts(m[1]));
}

/** Marks by their accessible description: vega labels each point and line with its data. */
function marks(svg: string, role: 'point' | 'line mark', filter: RegExp): { label: string; d: string }[] {
  return [...svg.matchAll(/<path aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="([^"]*)"[^>]*\sd="([^"]*)"/g)]
    .filter((m) => m[2] === role && filter.test(m[1]))
    .map((m) => ({ label: m[1], d: m[3] }));
}

function size(svg: string): { width: number; height: number } {
  const m = /^<svg [^>]*width="(\d+(?:\.\d+)?)" height="(\d+(?:\.\d+)?)"/.exec(svg);
  assert.ok(m, 'the SVG states its size');
  return { width: Number(m[1]), height: Number(m[2]) };
}

/** librsvg parses and draws it: the PNG has the SVG's size, twice over. */
async function assertRenders(svg: string): Promise<void> {
  const meta = await sharp(Buffer.from(svg), { density: 144 }).png().toBuffer().then((png) => sharp(png).metadata());
  assert.equal(meta.format, 'png');
  assert.equal(meta.width, 2 * Math.round(size(svg).width));
}

function assertClean(svg: string): void {
  // Non-finite numbers must never reach coordinates or other attributes (descriptions may name them).
  assert.doesNotMatch(svg.replace(/aria-label="[^"]*"/g, ''), /="[^"]*(NaN|Infinity|undefined)[^"]*"/);
  // Self-contained: nothing scripted, linked or fetched; the only URLs are XML namespaces.
  assert.doesNotMatch(svg, /<script|<image|<link|<foreignObject|@import|\shref=/i);
  for (const url of svg.match(/https?:\/\/[^"]*/g) ?? []) assert.match(url, /^http:\/\/www\.w3\.org\/(2000\/svg|1999\/xlink)$/);
}

test('a realistic run: both panels, both series, every epoch plotted, the best epoch marked', async () => {
  const svg = await renderTrainingCurvesSvg(realistic());
  assertWellFormed(svg);
  assertClean(svg);
  const shown = texts(svg);
  assert.deepEqual(textsOf(svg, 'title-text'), ['Loss', 'Accuracy', 'Training curves']);
  assert.deepEqual(textsOf(svg, 'title-subtitle'), ['12 epochs  ·  stopped early at epoch 12  ·  saved weights: epoch 9']);
  assert.deepEqual(textsOf(svg, 'axis-title'), ['Epoch', 'Loss', 'Epoch', 'Accuracy']);
  assert.deepEqual(textsOf(svg, 'legend-label'), ['train', 'validation']);
  assert.ok(shown.includes('best: epoch 9 (val_loss 0.412)'));
  assert.ok(shown.includes('best: epoch 9 (val_accuracy 0.834)'));
  for (const panel of ['Loss', 'Accuracy']) {
    for (const series of ['train', 'validation']) {
      const of = new RegExp(`; ${panel}: [^;]+; series: ${series}$`);
      assert.equal(marks(svg, 'point', of).length, 12, `${panel} ${series} points`);
      const [line] = marks(svg, 'line mark', of);
      assert.equal(line.d.match(/M/g)?.length, 1, `${panel} ${series}: one unbroken line`);
    }
  }
  // Epoch ticks are the integers 1..12, in each panel.
  for (let e = 1; e <= 12; e++) assert.equal(shown.filter((t) => t === String(e)).length, 2, `tick ${e}`);
  const { width, height } = size(svg);
  assert.ok(width > 700 && width < 1200 && height > 300 && height < 600, `${width}x${height}`);
  await assertRenders(svg);
});

test('the accuracy axis ends at 1 and starts on a round value below the lowest accuracy', async () => {
  const svg = await renderTrainingCurvesSvg(realistic());
  const accuracyAxis = svg.slice(svg.indexOf("aria-label=\"Y-axis titled 'Accuracy'"));
  const ticks = textsOf(accuracyAxis, 'axis-label').map(Number);
  assert.equal(Math.max(...ticks), 1);
  assert.ok(ticks.every((t) => t >= 0.5), 'the axis is not stretched down to 0');
  assert.ok(ticks.includes(0.5), 'the lowest accuracy (0.54) is above the axis floor');
});

test('a title with markup is escaped text, and an over-long one is shortened', async () => {
  const title = `faces <script>alert("x")</script> & 'sad' > happy`;
  const svg = await renderTrainingCurvesSvg(realistic(), { title });
  assertWellFormed(svg);
  assertClean(svg);
  assert.equal(textsOf(svg, 'title-text').at(-1), title);
  await assertRenders(svg);
  const long = await renderTrainingCurvesSvg(realistic(), { title: 'x'.repeat(500) });
  const shown = textsOf(long, 'title-text').at(-1)!;
  assert.ok(shown.length < 200 && shown.endsWith('\u2026'), shown);
  assert.ok(size(long).width < 1200, 'the chart does not grow to fit it');
});

test('NaN and Infinity are left out and break the line; the subtitle names the epochs', async () => {
  const h = realistic();
  h.epochs[4] = { ...h.epochs[4], loss: NaN, val_loss: Infinity };
  h.epochs[7] = { ...h.epochs[7], loss: -Infinity };
  const svg = await renderTrainingCurvesSvg(h);
  assertWellFormed(svg);
  assertClean(svg);
  assert.equal(marks(svg, 'point', /; Loss: [^;]+; series: train$/).length, 10);
  assert.equal(marks(svg, 'point', /; Loss: [^;]+; series: validation$/).length, 11);
  assert.equal(marks(svg, 'point', /; Accuracy: [^;]+; series: train$/).length, 12);
  const [train] = marks(svg, 'line mark', /; Loss: [^;]+; series: train$/);
  assert.equal(train.d.match(/M/g)?.length, 3, 'a new stroke after each gap');
  assert.deepEqual(textsOf(svg, 'title-subtitle'), ['12 epochs  ·  stopped early at epoch 12  ·  saved weights: epoch 9', 'NaN/Inf not plotted: epochs 5, 8']);
  await assertRenders(svg);
});

test('without validation data only train is drawn and the legend lists only train', async () => {
  const svg = await renderTrainingCurvesSvg({ ...withoutValidation(realistic()), bestEpoch: 12 });
  assertWellFormed(svg);
  assert.deepEqual(textsOf(svg, 'legend-label'), ['train']);
  assert.match(textsOf(svg, 'title-subtitle')[0], /no validation data/);
  assert.ok(texts(svg).includes('best: epoch 12 (loss 0.200)'));
  assert.equal(marks(svg, 'point', /series: validation$/).length, 0);
  assert.equal(marks(svg, 'point', /; Loss: [^;]+; series: train$/).length, 12);
  await assertRenders(svg);
});

test('one epoch: one point per series on a single epoch tick', async () => {
  const h = realistic();
  const svg = await renderTrainingCurvesSvg({ ...h, epochs: h.epochs.slice(0, 1), bestEpoch: 1, stoppedEarly: false, interrupted: true });
  assertWellFormed(svg);
  assertClean(svg);
  assert.equal(marks(svg, 'point', /series: (train|validation)$/).length, 4);
  assert.deepEqual(textsOf(svg, 'axis-label').filter((t) => /^\d+$/.test(t)), ['1', '1'], 'the epoch axes show epoch 1 only');
  assert.match(textsOf(svg, 'title-subtitle')[0], /interrupted after epoch 1/);
  await assertRenders(svg);
});

test('sixty epochs: a handful of integer ticks', async () => {
  const epochs: EpochRecord[] = Array.from({ length: 60 }, (_, i) => ({
    epoch: i + 1,
    loss: 0.7 * Math.exp(-i / 15) + 0.05,
    accuracy: 0.5 + 0.45 * (1 - Math.exp(-i / 10)),
    val_loss: 0.7 * Math.exp(-i / 12) + 0.15,
    val_accuracy: 0.5 + 0.4 * (1 - Math.exp(-i / 9)),
    seconds: 1,
  }));
  const svg = await renderTrainingCurvesSvg({ epochs, bestEpoch: 41, monitor: 'val_loss', stoppedEarly: false, interrupted: false });
  assertWellFormed(svg);
  const ticks = textsOf(svg, 'axis-label').filter((t) => /^\d+$/.test(t));
  assert.ok(ticks.length >= 2 * 4 && ticks.length <= 2 * 14, `${ticks.length} ticks`);
  assert.equal(marks(svg, 'point', /; Loss: [^;]+; series: validation$/).length, 60);
});

test('all-NaN losses and an empty history still give a valid, drawable image', async () => {
  const h = realistic();
  const allNaN: TrainingHistory = { ...h, epochs: h.epochs.map((e) => ({ ...e, loss: NaN, val_loss: NaN })) };
  const empty: TrainingHistory = { epochs: [], monitor: 'val_loss', stoppedEarly: false, interrupted: true };
  for (const history of [allNaN, empty]) {
    const svg = await renderTrainingCurvesSvg(history);
    assertWellFormed(svg);
    assertClean(svg);
    assert.equal(marks(svg, 'point', /; Loss: /).length, 0);
    await assertRenders(svg);
  }
  assert.ok(textsOf(await renderTrainingCurvesSvg(allNaN), 'title-subtitle').includes('NaN/Inf not plotted: epochs 1, 2, 3 and 9 more'));
  assert.equal(texts(await renderTrainingCurvesSvg(empty)).filter((t) => t === 'no epochs recorded').length, 2);
});

test('renderTrainingCurves gives the SVG and its PNG at twice the size', async () => {
  const { svg, png } = await renderTrainingCurves(realistic());
  const meta = await sharp(png).metadata();
  const { width, height } = size(svg);
  assert.equal(meta.format, 'png');
  assert.equal(meta.width, 2 * Math.round(width));
  assert.equal(meta.height, 2 * Math.round(height));
});

test('writeTrainingCurves writes an SVG and a PNG and leaves no temp files', async () => {
  const root = await mkdtemp(join(tmpdir(), 'happysad-curves-'));
  try {
    const dir = join(root, 'run-1'); // does not exist yet
    const paths = await writeTrainingCurves(dir, realistic(), { title: 'happy & sad' });
    assert.deepEqual(paths, { svg: join(dir, 'training-curves.svg'), png: join(dir, 'training-curves.png') });
    assert.deepEqual((await readdir(dir)).sort(), ['training-curves.png', 'training-curves.svg']);
    const svg = await readFile(paths.svg, 'utf8');
    assert.equal(textsOf(svg, 'title-text').at(-1), 'happy & sad');
    const meta = await sharp(paths.png).metadata();
    assert.equal(meta.format, 'png');
    assert.equal(meta.width, 2 * Math.round(size(svg).width));
    // Overwriting an existing pair also leaves nothing behind.
    await writeTrainingCurves(dir, withoutValidation(realistic()));
    assert.deepEqual((await readdir(dir)).sort(), ['training-curves.png', 'training-curves.svg']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
