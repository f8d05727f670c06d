import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initEngine, tf } from '../../src/engine/engine.js';
import { modelFromTopology } from '../../src/engine/modelFromTopology.js';
import { defaultModelDir } from '../../src/model/defaultModel.js';
import { readBundle } from '../../src/model/modelBundle.js';
import type { LayersModel, Tensor } from '@tensorflow/tfjs';

/** An ensemble's shape: a functional model whose layers are whole Sequential members. */
function nestedModel(): LayersModel {
  const member = (name: string, seed: number) => tf.sequential({
    name,
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, kernelInitializer: tf.initializers.heNormal({ seed }) }),
      tf.layers.batchNormalization(),
      tf.layers.flatten(),
      tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
  const input = tf.input({ shape: [8, 8, 1] });
  const outs = [member('m1_a', 1), member('m2_b', 7)].map((m) => m.apply(input) as ReturnType<typeof tf.input>);
  return tf.model({ inputs: input, outputs: tf.layers.average().apply(outs) as ReturnType<typeof tf.input>, name: 'ensemble' });
}

test('modelFromTopology builds the same model with every weight zero, nested members included, and keeps the initialisers in its config', async () => {
  await initEngine();
  const original = nestedModel();
  const topology = original.toJSON(null, false) as object;
  const built = await modelFromTopology(tf, topology);
  assert.deepEqual(built.toJSON(null, false), topology);
  assert.deepEqual(built.weights.map((w) => w.shape), original.weights.map((w) => w.shape));
  // tf.models.modelFromJSON draws the members' kernels at random (its fast path stops at the top level).
  for (const w of built.weights) assert.equal(w.read().abs().max().dataSync()[0], 0, `${w.name} is not zero`);
  built.setWeights(original.getWeights());
  const x = tf.randomUniform([3, 8, 8, 1], 0, 1, 'float32', 5);
  assert.deepEqual(Array.from((built.predict(x) as Tensor).dataSync()), Array.from((original.predict(x) as Tensor).dataSync()));
  for (const m of [original, built]) m.dispose();
  x.dispose();
});

test('readBundle gives the shipped ensemble exactly as tf.loadLayersModel does: configuration, weights and outputs', async () => {
  await initEngine();
  const dir = defaultModelDir();
  const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
  const bytes = await readFile(join(dir, 'weights.bin'));
  const plain = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer }));
  const { model } = await readBundle(dir);
  assert.deepEqual(model.toJSON(null, false), plain.toJSON(null, false));
  assert.equal(model.weights.length, plain.weights.length);
  model.weights.forEach((w, i) => assert.deepEqual(w.read().dataSync(), plain.weights[i]!.read().dataSync(), w.name));
  const [, h, w, c] = model.inputs[0]!.shape as number[];
  const x = tf.randomUniform([2, h!, w!, c!], 0, 1, 'float32', 3);
  assert.deepEqual(Array.from((model.predict(x) as Tensor).dataSync()), Array.from((plain.predict(x) as Tensor).dataSync()));
  for (const m of [model, plain]) m.dispose();
  x.dispose();
});
