import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { initEngine, tf } from '../../src/engine/engine.js';
import { decodeImage } from '../../src/input/decodeImage.js';
import { loadModel } from '../../src/predict/classifier.js';
import { importKerasModel, KerasImportError } from '../../src/interop/keras/index.js';
import { faceLikeImage, writeBytes } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';
import { makeKerasFile, maxAbsDiff, numpyForward } from './kerasReference.js';
import type { LayersModel, Tensor, Tensor4D } from '@tensorflow/tfjs';

/** Seeded input in [lo, hi): [0, 1) for models fed pixels / 255, [0, 255) for models that rescale themselves. */
function randomInput(shape: [number, number, number, number], lo: number, hi: number, seed: number): Tensor4D {
  return tf.randomUniform(shape, lo, hi, 'float32', seed) as Tensor4D;
}

async function expectSameAsNumpy(file: string, model: LayersModel, x: Tensor4D, dir: string): Promise<Float32Array> {
  const ours = (model.predict(x) as Tensor).dataSync() as Float32Array;
  const reference = await numpyForward(file, x.dataSync() as Float32Array, x.shape, dir);
  assert.ok(maxAbsDiff(ours, reference) < 1e-5, `happysad ${Array.from(ours)} vs numpy ${Array.from(reference)}`);
  return ours;
}

test('a Keras 2.15 Sequential written by h5py imports, predicts as numpy does, and its sigmoid is p(sad)', async () => {
  await initEngine();
  const dir = await tempDir();
  const h5 = makeKerasFile(dir, 'tiny.h5', '--arch', 'tiny', '--input', '12x12x3', '--seed', '1');
  const out = join(dir, 'bundle');
  const result = await importKerasModel(h5, { out });
  const m = result.bundle.metadata;
  assert.deepEqual([m.classes, m.output, m.positiveClass, m.threshold], [['happy', 'sad'], 'sigmoid', 'sad', 0.5]);
  assert.deepEqual([m.preprocessing.height, m.preprocessing.width, m.preprocessing.channels, m.preprocessing.scale, m.preprocessing.offset], [12, 12, 3, 1 / 255, 0]);
  assert.equal(m.source, 'imported from tiny.h5 (keras 2.15.0)');
  assert.equal(m.versions.keras, '2.15.0');
  assert.deepEqual(result.keras, { version: '2.15.0', backend: 'tensorflow', modelClass: 'Sequential', modelName: 'sequential' });
  const x = randomInput([3, 12, 12, 3], 0, 1, 2);
  await expectSameAsNumpy(h5, result.bundle.model, x, dir);
  result.bundle.model.dispose();

  // Through the saved bundle and an image file: preprocessing (resize, x 1/255) then the model.
  const photo = await writeBytes(join(dir, 'face.png'), await faceLikeImage('sad', 5, 50));
  const classifier = await loadModel(out);
  const [p] = await classifier.predict(photo);
  const pixels = (await decodeImage(photo, m.preprocessing)).data;
  const [pSad] = await numpyForward(h5, Float32Array.from(pixels, (v) => v / 255), [1, 12, 12, 3], dir);
  assert.ok(Math.abs(p.score! - pSad) < 1e-5, `score ${p.score} vs numpy ${pSad}`);
  assert.ok(Math.abs(p.probabilities!.sad - pSad) < 1e-5 && Math.abs(p.probabilities!.happy - (1 - pSad)) < 1e-5);
  assert.equal(p.label, pSad >= 0.5 ? 'sad' : 'happy');
  await classifier.close();
});

test('a functional model with BatchNormalization, same padding, strides, dilation, pooling and Rescaling matches numpy', async () => {
  await initEngine();
  const dir = await tempDir();
  const h5 = makeKerasFile(dir, 'bn.h5', '--arch', 'bn', '--input', '20x20x3', '--seed', '2');
  const out = join(dir, 'bundle');
  const result = await importKerasModel(h5, { out });
  const m = result.bundle.metadata;
  assert.equal(result.keras.modelClass, 'Functional');
  // The model divides by 255 itself, so happysad must hand it raw pixel values.
  assert.deepEqual([m.preprocessing.scale, m.preprocessing.offset], [1, 0]);
  assert.ok(result.notes.some((n) => /rescales pixels itself/.test(n)), result.notes.join('; '));
  const types = result.bundle.model.layers.map((l) => l.getClassName());
  assert.deepEqual(types, ['Rescaling', 'Conv2D', 'BatchNormalization', 'Activation', 'Conv2D', 'AveragePooling2D', 'MaxPooling2D', 'Dropout', 'Flatten', 'Dense', 'BatchNormalization', 'Activation', 'Dense']);
  await expectSameAsNumpy(h5, result.bundle.model, randomInput([4, 20, 20, 3], 0, 255, 3), dir);
  result.bundle.model.dispose();

  const photo = await writeBytes(join(dir, 'face.png'), await faceLikeImage('happy', 8, 64));
  const classifier = await loadModel(out);
  const [p] = await classifier.predict(photo);
  const pixels = (await decodeImage(photo, m.preprocessing)).data;
  const [pSad] = await numpyForward(h5, Float32Array.from(pixels), [1, 20, 20, 3], dir);
  assert.ok(Math.abs(p.probabilities!.sad - pSad) < 1e-5, `p(sad) ${p.probabilities!.sad} vs numpy ${pSad}`);
  await classifier.close();
});

test('a Resizing layer at the front becomes the bundle\'s resize, so an any-size model needs no --input', async () => {
  await initEngine();
  const dir = await tempDir();
  const h5 = makeKerasFile(dir, 'resize.h5', '--arch', 'resize', '--input', '16x16x3', '--seed', '3');
  const result = await importKerasModel(h5);
  const p = result.bundle.metadata.preprocessing;
  assert.deepEqual([p.height, p.width, p.channels, p.resize, p.kernel, p.scale], [16, 16, 3, 'fill', 'linear', 1]);
  assert.deepEqual(result.bundle.model.inputs[0].shape, [null, 16, 16, 3]);
  assert.ok(result.notes.some((n) => /Resizing 'resizing' to 16x16/.test(n)), result.notes.join('; '));
  // Keras resizing 16x16 to 16x16 is the identity, so the two must agree on 16x16 input.
  await expectSameAsNumpy(h5, result.bundle.model, randomInput([2, 16, 16, 3], 0, 255, 4), dir);
  await assert.rejects(importKerasModel(h5, { input: [32, 32, 3] }), /resizes its input to 16x16 itself/);
  result.bundle.model.dispose();
});

test('an older tf.keras layout (no InputLayer) with a softmax output: classes from --classes, in unit order', async () => {
  await initEngine();
  const dir = await tempDir();
  const h5 = makeKerasFile(dir, 'seed-a.h5', '--arch', 'seed-a', '--input', '40x40x3', '--units', '3', '--style', '2.3', '--seed', '4');
  await assert.rejects(importKerasModel(h5), (e: unknown) => e instanceof KerasImportError && e.code === 'keras-import' && /3 output classes; name them in output order with --classes/.test(e.message));
  await assert.rejects(importKerasModel(h5, { classes: ['a', 'b'] }), /has 3 outputs, so it needs 3 names/);
  const result = await importKerasModel(h5, { classes: ['angry', 'happy', 'sad'] });
  const m = result.bundle.metadata;
  assert.deepEqual([m.classes, m.output, m.positiveClass, m.source], [['angry', 'happy', 'sad'], 'softmax', 'happy', 'imported from seed-a.h5 (keras 2.3.0-tf)']);
  const ours = await expectSameAsNumpy(h5, result.bundle.model, randomInput([2, 40, 40, 3], 0, 1, 5), dir);
  assert.ok(Math.abs(ours[0] + ours[1] + ours[2] - 1) < 1e-5);
  result.bundle.model.dispose();
});

test('--classes names the two sides of a sigmoid (the second is what it measures) and --scale overrides 1/255', async () => {
  await initEngine();
  const dir = await tempDir();
  const h5 = makeKerasFile(dir, 'tiny.h5', '--arch', 'tiny', '--input', '12x12x1', '--seed', '6');
  const result = await importKerasModel(h5, { classes: ['negative', 'positive'], scale: 1 / 127.5 });
  const m = result.bundle.metadata;
  assert.deepEqual([m.classes, m.positiveClass, m.preprocessing.channels, m.preprocessing.scale], [['negative', 'positive'], 'positive', 1, 1 / 127.5]);
  await assert.rejects(importKerasModel(h5, { classes: ['a', 'b', 'c'] }), /single sigmoid output needs exactly two class names/);
  await assert.rejects(importKerasModel(h5, { input: [12, 12, 3] }), /takes 1-channel images/);
  result.bundle.model.dispose();
});

test('augmentation layers are left out and a logits output gets its sigmoid', async () => {
  await initEngine();
  const dir = await tempDir();
  const h5 = makeKerasFile(dir, 'tutorial.h5', '--arch', 'tiny', '--input', '12x12x3', '--augment', '--logits', '--seed', '11');
  const result = await importKerasModel(h5);
  assert.deepEqual(result.notes, [
    "left out RandomFlip 'random_flip' (it does nothing at inference)",
    "left out RandomRotation 'random_rotation' (it does nothing at inference)",
    "the model outputs logits; a sigmoid layer 'probabilities' was appended so that scores are probabilities",
    'the model rescales pixels itself (Rescaling layer), so images are fed as 0-255 values',
  ]);
  assert.equal(result.bundle.metadata.preprocessing.scale, 1);
  const x = randomInput([3, 12, 12, 3], 0, 255, 12);
  const ours = (result.bundle.model.predict(x) as Tensor).dataSync();
  const logits = await numpyForward(h5, x.dataSync() as Float32Array, x.shape, dir);
  assert.ok(maxAbsDiff(ours, Array.from(logits, (z) => 1 / (1 + Math.exp(-z)))) < 1e-5);
  result.bundle.model.dispose();
});

test('a model declared for any input size needs --input, and a wrong size is caught by the weight shapes', async () => {
  await initEngine();
  const dir = await tempDir();
  const h5 = makeKerasFile(dir, 'any.h5', '--arch', 'tiny', '--input', '12x12x3', '--any-size', '--seed', '7');
  await assert.rejects(importKerasModel(h5), /accepts images of any size \(anyxanyx3\); give the size it was trained at with --input HxWx3/);
  await assert.rejects(importKerasModel(h5, { input: [14, 14, 3] }), /dense\/kernel:0' has shape \[100, 1\] but layer 'dense' needs \[144, 1\].*--input/);
  const result = await importKerasModel(h5, { input: [12, 12, 3] });
  await expectSameAsNumpy(h5, result.bundle.model, randomInput([2, 12, 12, 3], 0, 1, 8), dir);
  result.bundle.model.dispose();
});

test('weights that do not fit the model are refused, naming each problem', async () => {
  await initEngine();
  const dir = await tempDir();
  const cases: [string, RegExp][] = [
    ['missing-weight', /layer 'dense' \(Dense\) needs weights kernel, bias but the file has dense\/kernel:0/],
    ['extra-weight', /layer 'conv2d' \(Conv2D\) needs weights kernel, bias but the file has conv2d\/kernel:0, conv2d\/bias:0, conv2d\/extra:0/],
    ['orphan-layer', /weights for a layer 'dense_99' \(dense_99\/kernel:0\) that the model does not have/],
    ['bad-shape', /weight 'dense\/kernel:0' has shape \[37, 1\] but layer 'dense' needs \[36, 1\]/],
  ];
  for (const [mutation, message] of cases) {
    const h5 = makeKerasFile(dir, `${mutation}.h5`, '--arch', 'tiny', '--input', '8x8x3', '--mutate', mutation);
    await assert.rejects(importKerasModel(h5), (e: unknown) => e instanceof KerasImportError && /tiny|weights do not match/.test(e.message) && message.test(e.message), mutation);
  }
});

test('an unsupported layer is named, with its type and the supported list', async () => {
  await initEngine();
  const dir = await tempDir();
  const h5 = makeKerasFile(dir, 'model.h5', '--arch', 'lstm');
  await assert.rejects(importKerasModel(h5, { out: join(dir, 'never') }), (e: unknown) => e instanceof KerasImportError
    && /^model\.h5: layer 'lstm_1' is LSTM, which happysad cannot import; supported: InputLayer, Conv2D, MaxPooling2D, AveragePooling2D, Dropout, Flatten, Dense, BatchNormalization, Activation, Rescaling, Resizing/.test(e.message));
});
