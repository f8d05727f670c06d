import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/engine.js';
import { train } from '../../src/train/train.js';
import { readBundle } from '../../src/model/modelBundle.js';
import { OptionError } from '../../src/base/errors.js';
import { makeClassFolders } from '../../testkit/makeImages.js';
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
