import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initEngine, tf } from '../../src/engine/engine.js';
import { defaultPreprocessSpec } from '../../src/input/preprocessSpec.js';
import { getArchitecture } from '../../src/model/architectures.js';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, type BundleMetadata } from '../../src/model/bundleMetadata.js';
import { readBundle, saveBundle } from '../../src/model/modelBundle.js';
import { loadModel } from '../../src/predict/classifier.js';
import { exportKerasModel, importKerasModel, KerasExportError } from '../../src/interop/keras/index.js';
import { faceLikeImage, writeBytes } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';
import h5wasm from 'h5wasm/node';
import { inspectKerasFile, makeKerasFile, maxAbsDiff, numpyForward } from './kerasReference.js';
import type { Tensor, Tensor4D } from '@tensorflow/tfjs';

/** A bundle as `happysad train` leaves it: score = p(happy), the first class. */
function trainedMetadata(arch: string, input: [number, number, 3]): BundleMetadata {
  return {
    format: BUNDLE_FORMAT, formatVersion: BUNDLE_FORMAT_VERSION, name: arch, arch, classes: ['happy', 'sad'], output: 'sigmoid', positiveClass: 'happy',
    threshold: 0.5, preprocessing: defaultPreprocessSpec(input), seed: 11,
    training: { options: { arch, learningRate: 0.0005 }, epochsRun: 3, bestEpoch: 2, stoppedEarly: false, interrupted: false, completed: true, seconds: 1 },
    dataset: null, metrics: null, versions: { happysad: '0.1.0' }, createdAt: new Date(0).toISOString(),
  };
}

test('seed-a and seed-b export to files h5py reads as Keras does; numpy reproduces them; import restores them exactly', async () => {
  await initEngine();
  const dir = await tempDir();
  const photos = await Promise.all([['happy', 1], ['sad', 2], ['happy', 3]].map(async ([k, s]) => writeBytes(join(dir, `${k}${s}.png`), await faceLikeImage(k as 'happy', s as number, 60))));
  for (const arch of ['seed-a', 'seed-b']) {
    const bundleDir = join(dir, arch);
    const model = getArchitecture(arch).build({ input: [40, 40, 3], numClasses: 2, seed: 11 });
    await saveBundle(bundleDir, model, trainedMetadata(arch, [40, 40, 3]));
    const h5 = join(dir, `${arch}.h5`);
    const result = await exportKerasModel(bundleDir, h5);
    assert.deepEqual([result.outputNegated, result.sigmoidMeasures, result.trainingConfig], [true, 'sad', true]);

    const r = inspectKerasFile(h5);
    assert.deepEqual([r.keras_version, r.backend], ['2.12.0', 'tensorflow']);
    for (const key of ['model_config', 'keras_version', 'backend', 'training_config']) assert.equal(r.root[key].type, 'str', key);
    // Keras' loader needs these here; without them it treats the weights as Keras 1's.
    assert.deepEqual(Object.keys(r.model_weights).sort(), ['backend', 'keras_version', 'layer_names']);
    assert.match(r.model_weights.layer_names.dtype, /^\|S\d+$/);
    assert.deepEqual(r.layer_names, model.layers.map((l) => l.name));
    assert.deepEqual(r.weight_names.conv2d_1, ['conv2d_1/kernel:0', 'conv2d_1/bias:0']);
    assert.deepEqual(r.weight_names.flatten, []);
    assert.equal(r.weight_names_dtype.flatten, 'float64');
    assert.deepEqual(r.datasets['conv2d_1/conv2d_1/kernel:0'], { shape: [3, 3, 3, arch === 'seed-a' ? 32 : 16], dtype: 'float32' });
    assert.ok(r.groups.includes('top_level_model_weights'));
    const config = r.model_config;
    assert.equal(config.class_name, 'Sequential');
    assert.deepEqual(config.config.layers[0], { class_name: 'InputLayer', config: { batch_input_shape: [null, 40, 40, 3], dtype: 'float32', sparse: false, ragged: false, name: 'conv2d_1_input' } });
    assert.deepEqual(Object.keys(config.config.layers[1].config), ['name', 'trainable', 'dtype', 'filters', 'kernel_size', 'strides', 'padding', 'data_format', 'dilation_rate', 'groups', 'activation', 'use_bias', 'kernel_initializer', 'bias_initializer', 'kernel_regularizer', 'bias_regularizer', 'activity_regularizer', 'kernel_constraint', 'bias_constraint']);
    assert.doesNotMatch(JSON.stringify(config), /"[a-z]+[A-Z]\w*":/, 'Keras field names are snake_case');
    assert.deepEqual(r.training_config, {
      loss: 'binary_crossentropy', metrics: ['accuracy'], weighted_metrics: null, loss_weights: null,
      optimizer_config: { class_name: 'Adam', config: { name: 'Adam', learning_rate: 0.0005, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: false } },
    });

    // Keras code reads the unit as p(sad); happysad's score was p(happy).
    const x = tf.randomUniform([3, 40, 40, 3], 0, 1, 'float32', 12) as Tensor4D;
    const pHappy = (model.predict(x) as Tensor).dataSync();
    const pSad = await numpyForward(h5, x.dataSync() as Float32Array, x.shape, dir);
    assert.ok(maxAbsDiff(Array.from(pHappy, (p) => 1 - p), pSad) < 1e-5, `${Array.from(pHappy)} vs ${Array.from(pSad)}`);

    const backDir = join(dir, `${arch}-back`);
    const back = await importKerasModel(h5, { out: backDir });
    assert.deepEqual(Array.from((back.bundle.model.predict(x) as Tensor).dataSync()), Array.from(pHappy));
    const [was, is] = [(await readBundle(bundleDir)).metadata, back.bundle.metadata];
    for (const key of ['classes', 'output', 'positiveClass', 'threshold', 'preprocessing', 'seed', 'training', 'arch'] as const) assert.deepEqual(is[key], was[key], key);
    assert.match(is.source!, new RegExp(`^imported from ${arch}\\.h5 \\(keras 2\\.12\\.0, exported by happysad 0\\.1\\.0\\)$`));
    const [before, after] = [await loadModel(bundleDir), await loadModel(backDir)];
    assert.deepEqual(await after.predict(photos), await before.predict(photos));
    for (const c of [before, after]) await c.close();
    for (const m of [model, back.bundle.model]) m.dispose();
    x.dispose();
  }
});

test('an imported Keras model exports back to a file numpy runs the same, with BatchNormalization, Rescaling and pooling intact', async () => {
  await initEngine();
  const dir = await tempDir();
  const original = makeKerasFile(dir, 'bn.h5', '--arch', 'bn', '--input', '20x20x3', '--seed', '9');
  const bundleDir = join(dir, 'bundle');
  const imported = await importKerasModel(original, { out: bundleDir });
  const h5 = join(dir, 'again.h5');
  const result = await exportKerasModel(bundleDir, h5);
  // Already p(sad) as Keras reads it: nothing to flip, no training settings known.
  assert.deepEqual([result.outputNegated, result.sigmoidMeasures, result.trainingConfig], [false, 'sad', false]);
  const r = inspectKerasFile(h5);
  assert.equal(r.training_config, null);
  assert.deepEqual(r.model_config.config.layers.map((l) => l.class_name), ['InputLayer', 'Rescaling', 'Conv2D', 'BatchNormalization', 'Activation', 'Conv2D', 'AveragePooling2D', 'MaxPooling2D', 'Dropout', 'Flatten', 'Dense', 'BatchNormalization', 'Activation', 'Dense']);
  assert.deepEqual(r.model_config.config.layers[3].config.axis, [3]);
  assert.deepEqual(r.weight_names.batch_normalization, ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((w) => `batch_normalization/${w}:0`));
  const x = tf.randomUniform([3, 20, 20, 3], 0, 255, 'float32', 13) as Tensor4D;
  const ours = (imported.bundle.model.predict(x) as Tensor).dataSync();
  const [fromOriginal, fromExport] = [await numpyForward(original, x.dataSync() as Float32Array, x.shape, dir), await numpyForward(h5, x.dataSync() as Float32Array, x.shape, dir)];
  assert.ok(maxAbsDiff(fromOriginal, fromExport) < 1e-9);
  assert.ok(maxAbsDiff(ours, fromExport) < 1e-5);
  imported.bundle.model.dispose();
  x.dispose();
});

test('export replaces the file whole, leaves no temporary files, and refuses layers Keras 2 export does not cover', async () => {
  await initEngine();
  const dir = await tempDir();
  const h5 = join(dir, 'model.h5');
  await writeFile(h5, 'previous');
  const model = getArchitecture('seed-b').build({ input: [32, 32, 1], numClasses: 2, seed: 1 });
  const metadata = { ...trainedMetadata('seed-b', [32, 32, 3]), preprocessing: defaultPreprocessSpec([32, 32, 1]) };
  // An existing file is the user's: refused without --overwrite, kept as a copy with it.
  await assert.rejects(exportKerasModel({ dir: '', model, metadata }, h5), /already exists; pass --overwrite/);
  assert.equal(await readFile(h5, 'utf8'), 'previous');
  await exportKerasModel({ dir: '', model, metadata }, h5, { overwrite: true });
  assert.notEqual((await readFile(h5)).subarray(0, 8).toString('latin1'), 'previous');
  assert.equal(await readFile(`${h5}.previous`, 'utf8'), 'previous');
  assert.deepEqual((await readdir(dir)).sort(), ['model.h5', 'model.h5.previous']);
  model.dispose();

  const pooled = tf.sequential({ name: 'gap' });
  pooled.add(tf.layers.conv2d({ name: 'conv', filters: 2, kernelSize: 3, inputShape: [16, 16, 3] }));
  pooled.add(tf.layers.globalAveragePooling2d({ name: 'gap_pool' }));
  pooled.add(tf.layers.dense({ name: 'out', units: 1, activation: 'sigmoid' }));
  const gapMeta = { ...trainedMetadata('gap', [16, 16, 3]), positiveClass: 'sad' };
  await assert.rejects(exportKerasModel({ dir: 'models/gap', model: pooled, metadata: gapMeta }, join(dir, 'gap.h5')),
    (e: unknown) => e instanceof KerasExportError && e.code === 'keras-export' && /layer 'gap_pool' \(GlobalAveragePooling2D\): GlobalAveragePooling2D layers cannot be exported/.test(e.message));
  assert.deepEqual((await readdir(dir)).sort(), ['model.h5', 'model.h5.previous']);
  pooled.dispose();
});

test('a Keras model survives import, export and import unchanged; without happysad\'s note a file is read by Keras\' convention', async () => {
  await initEngine();
  const dir = await tempDir();
  const h5 = makeKerasFile(dir, 'tiny.h5', '--arch', 'tiny', '--input', '10x10x3', '--seed', '10');
  const first = await importKerasModel(h5);
  const exported = join(dir, 'exported.h5');
  await exportKerasModel(first.bundle, exported);
  const again = await importKerasModel(exported);
  assert.deepEqual([again.bundle.metadata.classes, again.bundle.metadata.positiveClass], [['happy', 'sad'], 'sad']);
  const x = tf.randomUniform([2, 10, 10, 3], 0, 1, 'float32', 14);
  assert.deepEqual(Array.from((again.bundle.model.predict(x) as Tensor).dataSync()), Array.from((first.bundle.model.predict(x) as Tensor).dataSync()));

  // A bundle whose unit is p(happy), exported, then re-saved by Keras (which drops the note): the
  // file's unit is p(sad) = 1 - p(happy), and that is what the import reports.
  const happyFirst = { ...first.bundle, metadata: { ...first.bundle.metadata, positiveClass: 'happy' } };
  const flipped = join(dir, 'flipped.h5');
  await exportKerasModel(happyFirst, flipped);
  await h5wasm.ready;
  const f = new h5wasm.File(flipped, 'a');
  f.delete_attribute('happysad_metadata');
  f.close();
  const bare = await importKerasModel(flipped);
  assert.deepEqual([bare.bundle.metadata.classes, bare.bundle.metadata.positiveClass], [['happy', 'sad'], 'sad']);
  const pSad = (bare.bundle.model.predict(x) as Tensor).dataSync();
  const pHappy = (first.bundle.model.predict(x) as Tensor).dataSync();
  assert.ok(maxAbsDiff(pSad, Array.from(pHappy, (p) => 1 - p)) < 1e-6);
  for (const m of [first.bundle.model, again.bundle.model, bare.bundle.model]) m.dispose();
});
