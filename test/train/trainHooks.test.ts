import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { initEngine, tf } from '../../src/engine/engine.js';
import { ensembleBundles } from '../../src/ensemble/ensembleBundles.js';
import { memberBundles } from '../../src/ensemble/memberBundles.js';
import type { Tensor } from '@tensorflow/tfjs';
import { train } from '../../src/train/train.js';
import { readBundle, saveBundle } from '../../src/model/modelBundle.js';
import { OptionError } from '../../src/base/errors.js';
import { faceLikeImage, makeClassFolders, writeBytes } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';

// train()'s library hooks: initial weights, a learning-rate schedule, epoch and batch callbacks.
let data: string;
let start: string;
const quick = { arch: 'seed-a', input: [32, 32, 3] as [number, number, 3], batch: 16, epochs: 2, patience: 5, workers: 1 };

before(async () => {
  await initEngine();
  data = await tempDir();
  await makeClassFolders(data, 16, { size: 40 });
  start = join(await tempDir(), 'start');
  await train(data, { ...quick, seed: 3, out: start });
});

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

test('initialWeights start from a bundle; a schedule sets (and history records) each epoch\'s rate', async () => {
  const rates: number[] = [];
  const result = await train(data, { ...quick, seed: 4, initialWeights: start, learningRateSchedule: (e) => { rates.push(e); return 1e-12; } });
  assert.deepEqual(rates, [1, 2], 'asked once per epoch, 1-based');
  assert.deepEqual(result.history.epochs.map((r) => r.lr), [1e-12, 1e-12]);
  // At a rate of 1e-12 two epochs cannot move a weight: what comes out is what went in.
  const { model: initial } = await readBundle(start);
  const a = initial.getWeights();
  const b = result.bundle.model.getWeights();
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(maxAbsDiff(a[i]!.dataSync() as Float32Array, b[i]!.dataSync() as Float32Array) < 1e-6, `weight ${i} moved`);
  assert.equal(result.bundle.metadata.training?.options.initialWeights, start, 'the bundle says where it started from');
  assert.match(String(result.bundle.metadata.training?.options.learningRateSchedule), /custom/);
  initial.dispose();
});

test('without initialWeights the same seed starts elsewhere (the check above is not vacuous)', async () => {
  const result = await train(data, { ...quick, seed: 4, epochs: 1, learningRate: 1e-12 });
  const { model: initial } = await readBundle(start);
  const diffs = initial.getWeights().map((w, i) => maxAbsDiff(w.dataSync() as Float32Array, result.bundle.model.getWeights()[i]!.dataSync() as Float32Array));
  assert.ok(Math.max(...diffs) > 1e-3);
  initial.dispose();
});

test('onEpochEnd can stop training; the stop is recorded as the caller\'s', async () => {
  const seen: number[] = [];
  const result = await train(data, { ...quick, epochs: 5, seed: 5, onEpochEnd: ({ epoch }) => { seen.push(epoch); return epoch === 2 ? 'stop' : undefined; } });
  assert.deepEqual(seen, [1, 2]);
  assert.equal(result.history.epochs.length, 2);
  assert.equal(result.history.stoppedEarly, true);
  assert.equal(result.history.stoppedBy, 'callback');
  assert.equal(result.bundle.metadata.forcedChoice, undefined, 'two classes: no forced-choice record');
});

test('onBatchEnd is awaited for every batch and can stop mid-epoch, keeping the last finished epoch', async () => {
  const batches: string[] = [];
  const result = await train(data, {
    ...quick, epochs: 3, seed: 6,
    onBatchEnd: async ({ epoch, batch }) => {
      await new Promise((r) => setTimeout(r, 1));
      batches.push(`${epoch}.${batch}`);
      return epoch === 2 && batch === 1 ? 'stop' : undefined;
    },
  });
  // 26 training images (20% of 32 held out) at batch 16: two batches per epoch.
  assert.deepEqual(batches, ['1.1', '1.2', '2.1']);
  assert.equal(result.history.epochs.length, 1);
  assert.equal(result.history.interrupted, true);
});

test('initial weights of another architecture or size are refused, naming what differs', async () => {
  await assert.rejects(train(data, { ...quick, arch: 'seed-b', initialWeights: start }), (e: unknown) => e instanceof OptionError && /holds a seed-a model; this run trains seed-b/.test(e.message));
  await assert.rejects(train(data, { ...quick, input: [40, 40, 3], initialWeights: start }), (e: unknown) => e instanceof OptionError && /do not fit this model: tensor \d+/.test(e.message));
});

test('a 2-class bundle starts a 3-class model: body carried over, the old head kept for its classes, the new class at zero', async () => {
  const three = await tempDir();
  await makeClassFolders(three, 16, { size: 40 });
  for (let i = 0; i < 16; i++) await writeBytes(join(three, 'neutral', `n_${i}.png`), await faceLikeImage(i % 2 ? 'happy' : 'sad', 90_000 + i, 40));
  const events: string[] = [];
  const result = await train(three, { ...quick, epochs: 1, seed: 7, initialWeights: start, learningRate: 1e-12, onEvent: (e) => { if (e.type === 'stage') events.push(e.message); } });
  assert.deepEqual(result.bundle.metadata.classes, ['happy', 'neutral', 'sad']);
  assert.ok(events.some((m) => /output layer is new \(happy, sad carried over from the old head, neutral new\)/.test(m)), events.join('\n'));
  const { model: old } = await readBundle(start);
  const [a, b] = [old.getWeights(), result.bundle.model.getWeights()];
  const names = result.bundle.model.weights.map((w) => w.name);
  const kernelAt = names.findIndex((n) => /output\/kernel/.test(n));
  for (let i = 0; i < a.length; i++) {
    if (i === kernelAt || i === kernelAt + 1) continue;
    assert.ok(maxAbsDiff(a[i]!.dataSync() as Float32Array, b[i]!.dataSync() as Float32Array) < 1e-6, `body weight ${names[i]} moved`);
  }
  // Between happy and sad the new softmax decides as the old sigmoid did: p(happy) / (p(happy) + p(sad)) = σ(z).
  const x = tf.randomUniform([4, 32, 32, 3], 0, 1, 'float32', 11);
  const before = (old.predict(x) as Tensor).dataSync();
  const after = (result.bundle.model.predict(x) as Tensor).dataSync();
  for (let i = 0; i < 4; i++) {
    const [h, n, s] = [after[i * 3]!, after[i * 3 + 1]!, after[i * 3 + 2]!];
    assert.ok(Math.abs(h / (h + s) - before[i]!) < 1e-4, `image ${i}: forced choice ${h / (h + s)} vs old ${before[i]}`);
    assert.ok(n > 0 && n < 1);
  }
  // And back: that 3-class bundle starts a happy/sad model whose one unit decides as its forced choice did.
  const threeDir = join(await tempDir(), 'three');
  await saveBundle(threeDir, result.bundle.model, result.bundle.metadata);
  const two = await train(data, { ...quick, epochs: 1, seed: 8, initialWeights: threeDir, learningRate: 1e-12, onEvent: (e) => { if (e.type === 'stage') events.push(e.message); } });
  assert.ok(events.some((m) => /one unit for happy against sad, from the old head's two columns/.test(m)), events.join('\n'));
  const unit = (two.bundle.model.predict(x) as Tensor).dataSync();
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(unit[i]! - before[i]!) < 1e-4, `image ${i}: ${unit[i]} vs ${before[i]}`);
  old.dispose();
});

test('an ensemble is refused as initial weights, pointing to memberBundles', async () => {
  const { model, metadata } = await readBundle(start);
  const ens = await ensembleBundles([{ dir: start, model, metadata }, await readBundle(start)]);
  const dir = join(await tempDir(), 'ens');
  await saveBundle(dir, ens.model, ens.metadata);
  await assert.rejects(train(data, { ...quick, initialWeights: dir }), (e: unknown) => e instanceof OptionError && /is an ensemble of 2 models.*memberBundles/.test(e.message));
  // The members come back out with the weights they went in with.
  const members = await memberBundles(await readBundle(dir));
  assert.equal(members.length, 2);
  const w0 = model.getWeights();
  members[1]!.model.getWeights().forEach((w, i) => assert.ok(maxAbsDiff(w.dataSync() as Float32Array, w0[i]!.dataSync() as Float32Array) < 1e-7));
  assert.equal(members[0]!.metadata.members, undefined);
  assert.match(members[0]!.metadata.source ?? '', /member 1 of ensemble/);
});
