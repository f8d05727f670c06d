import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { renderTrainingCurvesSvg, writeTrainingCurves } from '../../src/report/trainingCurves.js';
import type { EpochRecord, TrainingHistory } from '../../src/train/history.js';

const LOSS = [0.69, 0.61, 0.52, 0.45, 0.39, 0.34, 0.3, 0.27, 0.245, 0.225, 0.21, 0.2];
const VAL_LOSS = [0.68, 0.62, 0.55, 0.5, 0.47, 0.445, 0.43, 0.418, 0.412, 0.417, 0.425, 0.436];
const ACC = [0.54, 0.66, 0.74, 0.79, 0.83, 0.86, 0.88, 0.895, 0.905, 0.915, 0.92, 0.926];
const VAL_ACC = [0.55, 0.64, 0.71, 0.76, 0.79, 0.81, 0.82, 0.828, 0.834, 0.831, 0.829, 0.825];

function realistic(): TrainingHistory {
  return {
    epochs: LOSS.map((loss, i) => ({
      epoch: i + 1,
      loss,
      accuracy: ACC[i],
      val_loss: VAL_LOSS[i],
      val_accuracy: VAL_ACC[i],
      seconds: 30,
    })),
    bestEpoch: 9,
    monitor: 'val_loss',
    stoppedEarly: true,
    interrupted: false,
  };
}

function withoutValidation(h: TrainingHistory): TrainingHistory {
  return {
    ...h,
    monitor: 'loss',
    epochs: h.epochs.map(({ epoch, loss, accuracy, seconds }): EpochRecord => ({ epoch, loss, accuracy, seconds })),
  };
}

/**
 * A small well-formedness check: every tag matches the attribute grammar we emit, open and close
 * tags balance, and no stray `<`, `>` or unescaped `&` is left in text. Not a full XML parser, but
 * it catches exactly the failures unescaped titles or NaN-formatting bugs would cause.
 */
function assertWellFormed(svg: string): void {
  const body = svg.replace(/^<\?xml[^?]*\?>\s*/, '');
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/g;
  const stack: string[] = [];
  let last = 0;
  let m: RegExpExecArray | null;
  let roots = 0;
  while ((m = tag.exec(body))) {
    const between = body.slice(last, m.index);
    assert.doesNotMatch(between, /[<>]/, `stray markup before ${m[0]}`);
    assert.doesNotMatch(between, /&(?!(amp|lt|gt|quot|#\d+);)/, `unescaped & in ${JSON.stringify(between)}`);
    last = tag.lastIndex;
    const [, closing, name, , selfClosing] = m;
    if (closing) assert.equal(stack.pop(), name, `mismatched </${name}>`);
    else if (!selfClosing) {
      if (!stack.length) roots++;
      stack.push(name);
    }
  }
  assert.equal(body.slice(last).trim(), '', 'trailing content after the root element');
  assert.deepEqual(stack, [], 'unclosed tags');
  assert.equal(roots, 1, 'exactly one root element');
  assert.match(body, /^<svg /);
}

/** Non-finite numbers must never reach coordinates or other attributes (text may mention them). */
function assertNoBadNumbers(svg: string): void {
  assert.doesNotMatch(svg, /="[^"]*(NaN|Infinity|undefined)[^"]*"/);
  assert.doesNotMatch(svg, /\sd="[^"]*[^MLHVZ\d\s."-][^"]*"/);
}

function seriesPoints(svg: string, key: string): number | undefined {
  const m = new RegExp(`<path data-series="${key}" d="([^"]*)"`).exec(svg);
  return m ? (m[1].match(/[ML]/g) ?? []).length : undefined;
}

function textsOfClass(svg: string, cls: string): string[] {
  return [...svg.matchAll(new RegExp(`<text class="${cls}"[^>]*>([^<]*)</text>`, 'g'))].map((m) => m[1]);
}

async function renderPng(svg: string) {
  const png = await sharp(Buffer.from(svg), { density: 144 }).png().toBuffer();
  return sharp(png).metadata();
}

test('realistic history: one point per epoch per series, best epoch marked, renders', async () => {
  const svg = renderTrainingCurvesSvg(realistic());
  assertWellFormed(svg);
  for (const key of ['loss', 'val_loss', 'accuracy', 'val_accuracy']) {
    assert.equal(seriesPoints(svg, key), 12, key);
    const dots = new RegExp(`<g data-series-dots="${key}"[^>]*>([\\s\\S]*?)</g>`).exec(svg);
    assert.ok(dots, `dots for ${key}`);
    assert.equal(dots[1].match(/<circle /g)?.length, 12);
  }
  assert.match(svg, /<path data-series="val_loss"[^>]*stroke-dasharray=/, 'validation is dashed');
  assert.doesNotMatch(svg, /<path data-series="loss"[^>]*stroke-dasharray=/, 'train is solid');
  assert.equal(svg.match(/data-best-epoch="9"/g)?.length, 2, 'marked in both panels');
  assert.ok(textsOfClass(svg, 'best-label').includes('best: epoch 9 (val_loss 0.412)'));
  assert.deepEqual(textsOfClass(svg, 'title'), ['Training curves']);
  assert.match(textsOfClass(svg, 'subtitle')[0], /stopped early/);
  assert.deepEqual(textsOfClass(svg, 'x-tick').slice(0, 12), ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12']);
  // Y ticks are evenly spaced round numbers.
  for (const label of textsOfClass(svg, 'y-tick')) assert.match(label, /^\d+(\.\d{1,2})?$/);
  assert.match(svg, /font-family="DejaVu Sans, Arial, sans-serif"/);
  assertNoBadNumbers(svg);
  assert.doesNotMatch(svg, /NaN|Infinity|undefined/);
  // Self-contained: the only URL is the SVG namespace, and nothing is scripted or linked.
  assert.deepEqual(svg.match(/https?:\/\/[^"]*/g), ['http://www.w3.org/2000/svg']);
  assert.doesNotMatch(svg, /<script|<image|<link|@import|href=/);
  const meta = await renderPng(svg);
  assert.equal(meta.format, 'png');
  assert.equal(meta.width, 1920);
  assert.equal(meta.height, 840);
});

test('accuracy axis is 0-1 or a tight range on 0.05 steps', () => {
  const svg = renderTrainingCurvesSvg(realistic());
  const accuracyPanel = svg.slice(svg.indexOf('<g data-panel="accuracy">'), svg.indexOf('<g data-legend'));
  const ticks = textsOfClass(accuracyPanel, 'y-tick').map(Number);
  assert.ok(ticks.length >= 3);
  assert.ok(ticks[0] >= 0 && ticks[ticks.length - 1] <= 1);
  for (const t of ticks) assert.ok(Math.abs(t * 20 - Math.round(t * 20)) < 1e-9, `${t} is a multiple of 0.05`);
  assert.ok(Math.min(...ACC, ...VAL_ACC) >= ticks[0] && Math.max(...ACC, ...VAL_ACC) <= ticks[ticks.length - 1]);
});

test('escapes markup in titles', async () => {
  const title = `faces <script>alert("x")</script> & 'sad' > happy`;
  const svg = renderTrainingCurvesSvg(realistic(), { title });
  assertWellFormed(svg);
  assert.ok(!svg.includes('<script'));
  assert.ok(svg.includes('faces &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;sad&#39; &gt; happy'));
  assert.equal((await renderPng(svg)).format, 'png');
});

test('an over-long title is shortened rather than running off the image', () => {
  const svg = renderTrainingCurvesSvg(realistic(), { title: 'x'.repeat(500) });
  const [shown] = textsOfClass(svg, 'title');
  assert.ok(shown.length < 150 && shown.endsWith('\u2026'));
});

test('a single epoch draws one point per series and a single integer tick', async () => {
  const h = realistic();
  const one: TrainingHistory = { ...h, epochs: h.epochs.slice(0, 1), bestEpoch: 1, stoppedEarly: false, interrupted: true };
  const svg = renderTrainingCurvesSvg(one);
  assertWellFormed(svg);
  for (const key of ['loss', 'val_loss', 'accuracy', 'val_accuracy']) assert.equal(seriesPoints(svg, key), 1);
  assert.deepEqual(textsOfClass(svg, 'x-tick'), ['1', '1']);
  assert.match(textsOfClass(svg, 'subtitle')[0], /interrupted after epoch 1/);
  assertNoBadNumbers(svg);
  assert.equal((await renderPng(svg)).format, 'png');
});

test('sixty epochs get a handful of integer ticks', () => {
  const epochs: EpochRecord[] = Array.from({ length: 60 }, (_, i) => ({
    epoch: i + 1,
    loss: 0.7 * Math.exp(-i / 15) + 0.05,
    accuracy: 0.5 + 0.45 * (1 - Math.exp(-i / 10)),
    val_loss: 0.7 * Math.exp(-i / 12) + 0.15,
    val_accuracy: 0.5 + 0.4 * (1 - Math.exp(-i / 9)),
    seconds: 1,
  }));
  const svg = renderTrainingCurvesSvg({ epochs, bestEpoch: 41, monitor: 'val_loss', stoppedEarly: false, interrupted: false });
  assertWellFormed(svg);
  const ticks = textsOfClass(svg, 'x-tick');
  assert.ok(ticks.length >= 2 * 4 && ticks.length <= 2 * 12, `${ticks.length} ticks`);
  for (const t of ticks) assert.match(t, /^\d+$/);
  assert.equal(seriesPoints(svg, 'val_loss'), 60);
});

test('without validation data only train is drawn and the legend says so', async () => {
  const h = withoutValidation(realistic());
  const svg = renderTrainingCurvesSvg({ ...h, bestEpoch: 12 });
  assertWellFormed(svg);
  assert.equal(seriesPoints(svg, 'loss'), 12);
  assert.equal(seriesPoints(svg, 'accuracy'), 12);
  assert.equal(seriesPoints(svg, 'val_loss'), undefined);
  assert.equal(seriesPoints(svg, 'val_accuracy'), undefined);
  assert.match(/<g data-legend="">[\s\S]*?<\/g>/.exec(svg)![0], /no validation data/);
  assert.ok(textsOfClass(svg, 'best-label').includes('best: epoch 12 (loss 0.200)'));
  assert.equal((await renderPng(svg)).format, 'png');
});

test('NaN and Infinity losses are skipped and break the line', async () => {
  const h = realistic();
  h.epochs[4] = { ...h.epochs[4], loss: NaN, val_loss: Infinity };
  h.epochs[7] = { ...h.epochs[7], loss: -Infinity };
  const svg = renderTrainingCurvesSvg(h);
  assertWellFormed(svg);
  assert.equal(seriesPoints(svg, 'loss'), 10);
  assert.equal(seriesPoints(svg, 'val_loss'), 11);
  assert.equal(seriesPoints(svg, 'accuracy'), 12);
  const lossD = /<path data-series="loss" d="([^"]*)"/.exec(svg)![1];
  assert.equal(lossD.match(/M/g)?.length, 3, 'a new subpath after each gap');
  assertNoBadNumbers(svg);
  assert.match(textsOfClass(svg, 'subtitle')[0], /NaN\/Inf not plotted: epochs 5, 8/);
  assert.equal((await renderPng(svg)).format, 'png');
});

test('all-NaN loss and an empty history still give a valid image', async () => {
  const h = realistic();
  const allNaN: TrainingHistory = { ...h, epochs: h.epochs.map((e) => ({ ...e, loss: NaN, val_loss: NaN })) };
  const empty: TrainingHistory = { epochs: [], monitor: 'val_loss', stoppedEarly: false, interrupted: true };
  for (const history of [allNaN, empty]) {
    const svg = renderTrainingCurvesSvg(history);
    assertWellFormed(svg);
    assert.equal(seriesPoints(svg, 'loss'), undefined);
    assertNoBadNumbers(svg);
    assert.equal((await renderPng(svg)).format, 'png');
  }
  assert.match(textsOfClass(renderTrainingCurvesSvg(allNaN), 'subtitle')[0], /epochs 1, 2, 3 and 9 more/);
});

test('writeTrainingCurves writes an SVG and a PNG and leaves no temp files', async () => {
  const root = await mkdtemp(join(tmpdir(), 'happysad-curves-'));
  try {
    const dir = join(root, 'run-1'); // does not exist yet
    const paths = await writeTrainingCurves(dir, realistic(), { title: 'happy & sad' });
    assert.deepEqual(paths, { svg: join(dir, 'training-curves.svg'), png: join(dir, 'training-curves.png') });
    assert.deepEqual((await readdir(dir)).sort(), ['training-curves.png', 'training-curves.svg']);
    assert.equal(await readFile(paths.svg, 'utf8'), renderTrainingCurvesSvg(realistic(), { title: 'happy & sad' }));
    const meta = await sharp(paths.png).metadata();
    assert.equal(meta.format, 'png');
    assert.equal(meta.width, 1920);
    assert.equal(meta.height, 840);

    // Overwriting an existing pair also leaves nothing behind.
    await writeTrainingCurves(dir, withoutValidation(realistic()));
    assert.deepEqual((await readdir(dir)).sort(), ['training-curves.png', 'training-curves.svg']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
