import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/engine/engine.js';
import { installSampleDropout } from '../../src/runtime/sampleDropout.js';
import { train } from '../../src/train/train.js';
import { getArchitecture } from '../../src/model/architectures.js';
import { makeClassFolders } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';
import type { Tensor } from '@tensorflow/tfjs';

test('per-sample dropout masks do not depend on how the batch is sliced', async () => {
  await initEngine();
  const model = tf.sequential({ layers: [tf.layers.dropout({ inputShape: [6, 6, 4], rate: 0.4 })] });
  const ctx = installSampleDropout(model, 123);
  const x = tf.ones([4, 6, 6, 4]);
  ctx.step = 7;
  ctx.offset = 0;
  const whole = (model.apply(x, { training: true }) as Tensor).arraySync() as number[][][][];
  const halves: number[][][][] = [];
  for (const offset of [0, 2]) {
    ctx.offset = offset;
    halves.push(...((model.apply(x.slice(offset, 2), { training: true }) as Tensor).arraySync() as number[][][][]));
  }
  assert.deepEqual(halves, whole);
  const flat = whole.flat(3);
  const dropped = flat.filter((v) => v === 0).length / flat.length;
  assert.ok(dropped > 0.3 && dropped < 0.5, `dropped fraction ${dropped}`);
  assert.ok(flat.filter((v) => v !== 0).every((v) => Math.abs(v - 1 / 0.6) < 1e-6), 'kept units are scaled by 1/keep');
  ctx.step = 8;
  ctx.offset = 0;
  assert.notDeepEqual((model.apply(x, { training: true }) as Tensor).arraySync(), whole, 'a new step draws new masks');
  assert.deepEqual((model.apply(x, { training: false }) as Tensor).arraySync(), x.arraySync(), 'inference is the identity');
  model.dispose();
});

let data: string;
before(async () => {
  data = await tempDir();
  await makeClassFolders(data, 20, { size: 40 });
});

test('training on 1, 2 and 3 workers gives the same model up to float rounding', async () => {
  const opts = { arch: 'seed-b', input: [36, 36, 3] as [number, number, 3], batch: 12, epochs: 2, seed: 21, augment: true };
  const runs: Awaited<ReturnType<typeof train>>[] = [];
  for (const workers of [1, 2, 3]) runs.push(await train(data, { ...opts, workers }));
  const weights = runs.map((r) => r.bundle.model.getWeights().map((w) => w.dataSync()));
  for (const k of [1, 2]) {
    let max = 0;
    weights[0].forEach((w, i) => w.forEach((v, j) => (max = Math.max(max, Math.abs(v - weights[k][i][j])))));
    assert.ok(max < 1e-4, `max weight difference ${max} with ${k + 1} workers`);
    runs[0].history.epochs.forEach((e, i) => assert.ok(Math.abs(e.loss - runs[k].history.epochs[i].loss) < 1e-5));
  }
  // The weights compared moved away from their initial values, so the runs really trained.
  const initial = getArchitecture('seed-b').build({ input: opts.input, numClasses: 2, seed: 21 }).getWeights().map((w) => w.dataSync());
  let moved = 0;
  initial.forEach((w, i) => w.forEach((v, j) => (moved = Math.max(moved, Math.abs(v - weights[0][i][j])))));
  assert.ok(moved > 1e-3, `weights moved by at most ${moved}`);
  for (const r of runs) r.bundle.model.dispose();
});
