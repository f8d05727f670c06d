import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/engine/engine.js';
import { getArchitecture } from '../../src/model/architectures.js';
import { summarizeModel } from '../../src/model/summarizeModel.js';
import { augmentBatch } from '../../src/train/augmentBatch.js';
import { Random } from '../../src/base/random.js';
import type { LayersModel, Tensor, io } from '@tensorflow/tfjs';

// The shipped default model (models/default) is this architecture; a change to the stack would
// silently stop its weights from loading, so the count is pinned.
test('face-48 builds at 48x48x1 with 292,193 parameters and one sigmoid unit', async () => {
  await initEngine();
  const arch = getArchitecture('face-48');
  assert.deepEqual(arch.defaultInput, [48, 48, 1]);
  const m = arch.build({ input: arch.defaultInput, numClasses: 2, seed: 1 });
  const s = summarizeModel(m);
  assert.equal(s.params, 292_193);
  assert.deepEqual(s.layers.at(-1)!.outputShape, [null, 1]);
  m.dispose();
});

test('face-48-wide: the same stack with every conv half as wide again (2.25x the multiply-adds), 656,017 parameters', async () => {
  await initEngine();
  const build = (name: string) => getArchitecture(name).build({ input: [48, 48, 1], numClasses: 2, seed: 1 });
  const [narrow, wide] = [build('face-48'), build('face-48-wide')];
  assert.equal(summarizeModel(wide).params, 656_017);
  const convs = (m: LayersModel) => m.layers.filter((l) => l.getClassName() === 'Conv2D').map((l) => l.getWeights()[0]!.shape);
  const [a, b] = [convs(narrow), convs(wide)];
  assert.equal(a.length, b.length);
  a.forEach((k, i) => {
    assert.equal(b[i]![3], 1.5 * k[3]!, `conv ${i + 1}: filters`);
    if (i > 0) assert.equal(b[i]![2], 1.5 * k[2]!, `conv ${i + 1}: input channels`);
  });
  narrow.dispose();
  wide.dispose();
});

test('face-48: the same seed gives the same initial weights; another seed does not', async () => {
  await initEngine();
  const build = (seed: number) => getArchitecture('face-48').build({ input: [48, 48, 1], numClasses: 2, seed });
  const [a, b, c] = [build(5), build(5), build(6)];
  // Every conv and the output layer draw from the seed; batch-norm weights start fixed.
  const all = (m: LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
  const kernel = (m: LayersModel, layer: string) => Array.from(m.getLayer(layer).getWeights()[0].dataSync());
  assert.deepEqual(all(a), all(b));
  for (const layer of ['conv2d_1', 'conv2d_7', 'output']) assert.notDeepEqual(kernel(a, layer), kernel(c, layer));
  for (const m of [a, b, c]) m.dispose();
});

test('face-48: forward pass gives one probability per image; more classes get a softmax', async () => {
  await initEngine();
  const m = getArchitecture('face-48').build({ input: [48, 48, 1], numClasses: 2, seed: 3 });
  const y = tf.tidy(() => (m.predict(tf.randomUniform([3, 48, 48, 1], 0, 1, 'float32', 7)) as Tensor).arraySync() as number[][]);
  assert.deepEqual([y.length, y[0].length], [3, 1]);
  for (const [p] of y) assert.ok(p > 0 && p < 1);
  const k = getArchitecture('face-48').build({ input: [48, 48, 1], numClasses: 3, seed: 3 });
  assert.deepEqual(k.outputs[0].shape, [null, 3]);
  m.dispose();
  k.dispose();
});

// A browser reads the bundle with plain tf.loadLayersModel: the topology must name only stock layers.
test('face-48 round-trips through the layers format with only stock layers', async () => {
  await initEngine();
  const m = getArchitecture('face-48').build({ input: [48, 48, 1], numClasses: 2, seed: 4 });
  let artifacts: io.ModelArtifacts | undefined;
  await m.save(tf.io.withSaveHandler(async (a) => { artifacts = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
  const x = tf.randomUniform([2, 48, 48, 1], 0, 1, 'float32', 9);
  const [p, q] = [m.predict(x) as Tensor, loaded.predict(x) as Tensor];
  assert.deepEqual(Array.from(q.dataSync()), Array.from(p.dataSync()));
  const stock = new Set(['Conv2D', 'BatchNormalization', 'Activation', 'MaxPooling2D', 'GlobalAveragePooling2D', 'Dropout', 'Dense']);
  for (const l of loaded.layers) assert.ok(stock.has(l.getClassName()), l.getClassName());
  tf.dispose([x, p, q]);
  m.dispose();
  loaded.dispose();
});

// The face recipe's rotation/zoom/contrast must not change what callers passing the original
// options get: same draws, same pixels as plain flip/shift/brightness.
test('augmentBatch: flip/shift/brightness alone is whole-pixel and seed-stable; the full set stays in range and seeded', () => {
  const [n, h, w] = [2, 8, 8];
  const img = Uint8Array.from({ length: n * h * w }, (_, i) => (i * 37) % 256);
  const plain = { flip: false, shift: 0.25, brightness: 0 };
  const a = img.slice();
  augmentBatch(a, n, h, w, 1, new Random(1), plain);
  // Whole-pixel: each image comes out as a copy of itself shifted by some (dx, dy) within 25% of
  // its side, edges repeated; no resampling, no other change. Which shift the seed picks is the
  // implementation's business; that one shift explains every pixel is the behaviour.
  const clamp = (v: number, hi: number) => Math.min(hi, Math.max(0, v));
  for (let i = 0; i < n; i++) {
    const [src, out] = [img.subarray(i * h * w, (i + 1) * h * w), a.subarray(i * h * w, (i + 1) * h * w)];
    const shifts: [number, number][] = [];
    for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) {
      if (out.every((v, j) => v === src[clamp(Math.floor(j / w) - dy, h - 1) * w + clamp((j % w) - dx, w - 1)])) shifts.push([dx, dy]);
    }
    assert.ok(shifts.length > 0, `image ${i} is not a whole-pixel shift of the input`);
  }
  const again = img.slice();
  augmentBatch(again, n, h, w, 1, new Random(1), plain);
  assert.deepEqual(again, a, 'the same seed, the same shifts');
  const full = { flip: true, shift: 0.1, brightness: 0.2, rotation: 10, zoom: 0.1, contrast: 0.2 };
  const [b, c] = [img.slice(), img.slice()];
  augmentBatch(b, n, h, w, 1, new Random(2), full);
  augmentBatch(c, n, h, w, 1, new Random(2), full);
  assert.deepEqual(b, c);
  assert.notDeepEqual(b, img);
});
