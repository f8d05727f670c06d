import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { initEngine, tf } from '../../src/engine/engine.js';
import { train } from '../../src/train/train.js';
import { evaluate } from '../../src/evaluate/evaluate.js';
import { loadModel } from '../../src/predict/classifier.js';
import { readBundle } from '../../src/model/modelBundle.js';
import { makeClassFolders, writeBytes } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';

let data: string;
let splitData: string;
before(async () => {
  data = await tempDir();
  await makeClassFolders(data, 32, { size: 48 });
  await writeBytes(join(data, 'sad/broken.jpg'), 'not an image');
  splitData = await tempDir();
  await makeClassFolders(splitData, 16, { size: 48, split: 'train' });
  await makeClassFolders(splitData, 6, { size: 48, split: 'val', seedBase: 1 });
  await makeClassFolders(splitData, 6, { size: 48, split: 'test', seedBase: 2 });
});

const quick = { arch: 'seed-a', input: [32, 32, 3] as [number, number, 3], batch: 16, epochs: 6, patience: 3 };

test('train → evaluate → predict on generated images (class-folders layout)', async () => {
  const out = join(await tempDir(), 'model');
  const warnings: string[] = [];
  const result = await train(data, { ...quick, epochs: 10, seed: 1, out, learningRate: 2e-3, onEvent: (e) => e.type === 'warning' && warnings.push(e.message) });
  // Besides the bad file, a generated face that lands in validation as a near-copy of a training
  // face is left out of validation (a leak); nothing else is skipped.
  assert.ok(warnings.some((w) => new RegExp(`skipped ${result.skipped.length} of \\d+ file`).test(w)), 'skipped files are reported with a warning, not fatal');
  assert.deepEqual(result.skipped.filter((p) => p.problem !== 'near-duplicate').map((p) => p.file), ['sad/broken.jpg']);
  for (const p of result.skipped.filter((x) => x.problem === 'near-duplicate')) assert.match(p.detail, /TRAIN\/VAL LEAK/);
  assert.equal(result.history.epochs.length >= 1, true);
  const last = result.history.epochs.at(-1)!;
  assert.ok(last.loss < result.history.epochs[0].loss, 'training loss falls');
  for (const f of ['model.json', 'weights.bin', 'happysad.json', 'history.json', 'training-curves.png', 'training-curves.svg']) assert.ok((await stat(join(out, f))).size > 0, f);
  const png = await sharp(join(out, 'training-curves.png')).metadata();
  assert.equal(png.format, 'png');

  const meta = JSON.parse(await readFile(join(out, 'happysad.json'), 'utf8'));
  assert.equal(meta.seed, 1);
  assert.deepEqual(meta.classes, ['happy', 'sad']);
  assert.equal(meta.positiveClass, 'happy');
  const leakedVal = (cls: string) => result.leaks.filter((p) => p.file.startsWith(`${cls}/`)).length;
  assert.equal(meta.dataset.fingerprint.count, 64 - result.leaks.length);
  assert.deepEqual(meta.dataset.counts.val, { happy: 6 - leakedVal('happy'), sad: 6 - leakedVal('sad') }, '20% of 32 per class, stratified, less leaks');
  assert.equal(meta.dataset.nearDuplicates, true);
  assert.equal(meta.training.completed, true);
  assert.ok(meta.metrics.validation.accuracy >= 0.8, `validation accuracy ${meta.metrics.validation.accuracy}`);

  const classifier = await loadModel(out);
  const ev = await evaluate(data, classifier);
  assert.equal(ev.report.n, 64);
  assert.ok(ev.report.accuracy >= 0.8, `accuracy ${ev.report.accuracy}`);
  const held = await evaluate(data, classifier, { split: 'val' });
  assert.equal(held.report.n, 12 - result.leaks.length, 'the validation split is rebuilt from the recorded seed, leaks left out again');
  assert.equal(held.report.accuracy, meta.metrics.validation.accuracy);
  const preds = await classifier.predict([join(data, 'happy/happy_000.png'), join(data, 'sad/broken.jpg'), join(data, 'sad/sad_001.png')]);
  assert.equal(preds.length, 3);
  assert.equal(preds[1].error?.code, 'image-not-image');
  assert.equal(preds[0].label, 'happy');
  assert.equal(preds[2].label, 'sad');
  classifier.dispose();
  result.bundle.model.dispose();
});

test('split layout trains on train, stops on val and reports test; face-model options are recorded', async () => {
  const result = await train(splitData, { ...quick, seed: 2, epochs: 3, classWeight: 'balanced', labelSmoothing: 0.1, tuneThreshold: true, testTimeFlip: true });
  assert.ok(result.validation && result.test);
  const meta = result.bundle.metadata;
  assert.ok(meta.threshold > 0 && meta.threshold < 1);
  assert.equal(result.validation.threshold, meta.threshold, 'metrics use the tuned threshold');
  assert.equal(meta.preprocessing.testTimeFlip, true);
  assert.equal((meta.training!.options as { classWeight: string }).classWeight, 'balanced');
  // 12 images each, less any that are near-copies of a training image (left out as leaks).
  const leaked = (split: string) => result.leaks.filter((p) => p.file.startsWith(`${split}/`)).length;
  assert.equal(result.validation.n, 12 - leaked('val'));
  assert.equal(result.test.n, 12 - leaked('test'));
  assert.ok(result.validation.n >= 10 && result.test.n >= 10);
  assert.equal(result.bundle.metadata.dataset!.layout, 'split');
  result.bundle.model.dispose();
});

test('the same seed gives the same model; another seed does not (dropout and augmentation included)', async () => {
  const opts = { ...quick, epochs: 2, augment: true };
  const a = await train(data, { ...opts, seed: 5 });
  const b = await train(data, { ...opts, seed: 5 });
  const c = await train(data, { ...opts, seed: 6 });
  const w = (r: typeof a) => r.bundle.model.getWeights().map((t) => Array.from(t.dataSync()));
  assert.deepEqual(w(a), w(b));
  assert.notDeepEqual(w(a), w(c));
  assert.deepEqual(a.history.epochs.map((e) => e.loss), b.history.epochs.map((e) => e.loss));
  for (const r of [a, b, c]) r.bundle.model.dispose();
});

test('an interrupted run keeps the best model so far on disk; training leaks no tensors', async () => {
  await initEngine();
  const baseline = tf.memory().numTensors;
  const out = join(await tempDir(), 'model');
  const controller = new AbortController();
  const result = await train(data, {
    ...quick, epochs: 20, seed: 3, out, signal: controller.signal,
    onEvent: (e) => { if (e.type === 'batch' && e.epoch === 2 && e.batch === 1) controller.abort(); },
  });
  assert.equal(result.history.interrupted, true);
  assert.equal(result.history.epochs.length, 1, 'the interrupted epoch is not counted');
  const saved = await readBundle(out);
  assert.equal(saved.metadata.training!.interrupted, true);
  assert.equal(saved.metadata.training!.bestEpoch, 1);
  saved.model.dispose();
  result.bundle.model.dispose();
  assert.equal(tf.memory().numTensors, baseline, 'every tensor made during training is released');
});
