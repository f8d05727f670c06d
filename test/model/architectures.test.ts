import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../../src/engine/engine.js';
import { getArchitecture } from '../../src/model/architectures.js';
import { summarizeModel, formatModelSummary } from '../../src/model/summarizeModel.js';
import type { LayersModel } from '@tensorflow/tfjs';

test('seed-a is Model A: 3,304,769 parameters at 128x128x3', async () => {
  await initEngine();
  const a = getArchitecture('seed-a');
  const m = a.build({ input: a.defaultInput, numClasses: 2, seed: 1 });
  const s = summarizeModel(m);
  assert.equal(s.params, 3_304_769);
  assert.deepEqual(s.layers.map((l) => l.type), ['Conv2D', 'MaxPooling2D', 'Conv2D', 'MaxPooling2D', 'Conv2D', 'MaxPooling2D', 'Flatten', 'Dense', 'Dropout', 'Dense']);
  assert.match(formatModelSummary(s), /Total params: 3,304,769/);
  m.dispose();
});

test('seed-b is Model B: 3,696,625 parameters at 256x256x3, dropout after every block', async () => {
  await initEngine();
  const b = getArchitecture('seed-b');
  const m = b.build({ input: b.defaultInput, numClasses: 2, seed: 1 });
  const s = summarizeModel(m);
  assert.equal(s.params, 3_696_625);
  assert.equal(s.layers.filter((l) => l.type === 'Dropout').length, 4);
  assert.deepEqual(s.layers.at(-1)!.outputShape, [null, 1]);
  m.dispose();
});

test('--input changes the input with the same stack; more classes get a softmax', async () => {
  await initEngine();
  const m = getArchitecture('seed-a').build({ input: [48, 48, 1], numClasses: 3, seed: 1 });
  const s = summarizeModel(m);
  assert.deepEqual(s.input, [48, 48, 1]);
  assert.deepEqual(s.layers.at(-1)!.outputShape, [null, 3]);
  // 48→46→23→21→10→8→4: 4*4*128 = 2048 inputs to dense_1
  assert.equal(s.layers.find((l) => l.name === 'dense_1')!.params, 2048 * 128 + 128);
  m.dispose();
});

test('the same seed gives the same initial weights; another seed does not', async () => {
  await initEngine();
  const build = (seed: number) => getArchitecture('seed-a').build({ input: [32, 32, 3], numClasses: 2, seed });
  const [a, b, c] = [build(5), build(5), build(6)];
  const w = (m: LayersModel) => m.getWeights()[0].dataSync();
  assert.deepEqual(w(a), w(b));
  assert.notDeepEqual(w(a), w(c));
  for (const m of [a, b, c]) m.dispose();
});
