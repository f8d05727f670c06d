import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { initEngine, tf } from '../../src/engine/engine.js';
import { defaultPreprocessSpec } from '../../src/input/preprocessSpec.js';
import { getArchitecture } from '../../src/model/architectures.js';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, type BundleMetadata } from '../../src/model/bundleMetadata.js';
import { readBundle, saveBundle } from '../../src/model/modelBundle.js';
import { loadModel } from '../../src/predict/classifier.js';
import { BundleError } from '../../src/base/errors.js';
import { faceLikeImage } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';
import type { Tensor } from '@tensorflow/tfjs';

function metadataFor(input: [number, number, 1 | 3]): BundleMetadata {
  return {
    format: BUNDLE_FORMAT, formatVersion: BUNDLE_FORMAT_VERSION, name: 't', arch: 'seed-a', classes: ['happy', 'sad'], output: 'sigmoid',
    positiveClass: 'happy', threshold: 0.5, preprocessing: defaultPreprocessSpec(input), seed: 1, training: null, dataset: null, metrics: null,
    versions: {}, createdAt: new Date(0).toISOString(),
  };
}

async function savedBundle(): Promise<string> {
  await initEngine();
  const dir = join(await tempDir(), 'model');
  const model = getArchitecture('seed-a').build({ input: [40, 40, 3], numClasses: 2, seed: 11 });
  await saveBundle(dir, model, metadataFor([40, 40, 3]));
  model.dispose();
  return dir;
}

test('save then load gives identical predictions, and model.json is a plain tfjs layers model', async () => {
  await initEngine();
  const dir = join(await tempDir(), 'model');
  const model = getArchitecture('seed-b').build({ input: [48, 48, 1], numClasses: 2, seed: 3 });
  await saveBundle(dir, model, metadataFor([48, 48, 1]));
  const x = tf.randomUniform([4, 48, 48, 1], 0, 1, 'float32', 9);
  const before = (model.predict(x) as Tensor).dataSync();
  const bundle = await readBundle(dir);
  const after = (bundle.model.predict(x) as Tensor).dataSync();
  assert.deepEqual(Array.from(after), Array.from(before));
  assert.equal(bundle.metadata.positiveClass, 'happy');
  assert.deepEqual(bundle.metadata.preprocessing, metadataFor([48, 48, 1]).preprocessing);
  // The browser path: tf.loadLayersModel on model.json + weights.bin as they are on disk.
  const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
  assert.equal(json.format, 'layers-model');
  assert.deepEqual(json.weightsManifest[0].paths, ['weights.bin']);
  const weights = await readFile(join(dir, 'weights.bin'));
  const plain = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.length) }));
  assert.deepEqual(Array.from((plain.predict(x) as Tensor).dataSync()), Array.from(before));
  // And through the public API, on an image file.
  const classifier = await loadModel(dir);
  const [p] = await classifier.predict(await faceLikeImage('happy', 1, 60));
  assert.equal(typeof p.score, 'number');
  assert.ok(Math.abs(p.probabilities!.happy + p.probabilities!.sad - 1) < 1e-6);
  assert.equal(p.label, p.score! >= 0.5 ? 'happy' : 'sad');
  for (const m of [model, plain, bundle.model]) m.dispose();
  x.dispose();
});

test('a newer format version is refused with an upgrade hint', async () => {
  const dir = await savedBundle();
  const meta = JSON.parse(await readFile(join(dir, 'happysad.json'), 'utf8'));
  await writeFile(join(dir, 'happysad.json'), JSON.stringify({ ...meta, formatVersion: 99 }));
  await assert.rejects(readBundle(dir), (e: unknown) => e instanceof BundleError && /version 99 is newer.*upgrade happysad/.test(e.message));
});

test('inconsistent files are refused: wrong class count, wrong input, truncated weights, missing metadata', async () => {
  const dir = await savedBundle();
  const metaFile = join(dir, 'happysad.json');
  const meta = JSON.parse(await readFile(metaFile, 'utf8'));
  await writeFile(metaFile, JSON.stringify({ ...meta, classes: ['a', 'b', 'c'] }));
  await assert.rejects(readBundle(dir), /sigmoid output needs exactly 2 classes/);
  await writeFile(metaFile, JSON.stringify({ ...meta, preprocessing: { ...meta.preprocessing, height: 41 } }));
  await assert.rejects(readBundle(dir), /preprocessing produces 41x40x3 but the model takes 40x40x3/);
  await writeFile(metaFile, JSON.stringify(meta));
  const weights = await readFile(join(dir, 'weights.bin'));
  await writeFile(join(dir, 'weights.bin'), weights.subarray(0, weights.length - 4));
  await assert.rejects(readBundle(dir), /do not belong together/);
  await rm(metaFile);
  await assert.rejects(readBundle(dir), /is not a happysad model bundle/);
});

test('saving over an existing bundle replaces it whole and leaves no temp folders', async () => {
  const dir = await savedBundle();
  await initEngine();
  const other = getArchitecture('seed-a').build({ input: [40, 40, 3], numClasses: 2, seed: 12 });
  await saveBundle(dir, other, { ...metadataFor([40, 40, 3]), name: 'second' });
  assert.equal((await readBundle(dir)).metadata.name, 'second');
  const siblings = await readdir(join(dir, '..'));
  assert.deepEqual(siblings, ['model']);
  other.dispose();
});
