import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { initEngine, tf } from '../../src/engine/engine.js';
import { defaultPreprocessSpec } from '../../src/input/preprocessSpec.js';
import { getArchitecture } from '../../src/model/architectures.js';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, type BundleMetadata } from '../../src/model/bundleMetadata.js';
import { ensembleBundles } from '../../src/ensemble/ensembleBundles.js';
import { readBundle, saveBundle, type ModelBundle } from '../../src/model/modelBundle.js';
import { BundleError, OptionError } from '../../src/base/errors.js';
import { bestThreshold } from '../../src/evaluate/bestThreshold.js';
import { evaluate } from '../../src/evaluate/evaluate.js';
import { createClassifier } from '../../src/predict/classifier.js';
import { exportKerasModel, KerasExportError } from '../../src/interop/keras/index.js';
import { makeClassFolders } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';
import type { LayersModel, Tensor } from '@tensorflow/tfjs';

function member(name: string, seed: number, threshold: number, arch = 'face-48'): ModelBundle {
  const model = getArchitecture(arch).build({ input: [48, 48, 1], numClasses: 2, seed });
  const metadata: BundleMetadata = {
    format: BUNDLE_FORMAT, formatVersion: BUNDLE_FORMAT_VERSION, name, arch, classes: ['happy', 'sad'], output: 'sigmoid',
    positiveClass: 'happy', threshold, preprocessing: { ...defaultPreprocessSpec([48, 48, 1]), testTimeFlip: true }, seed, training: null,
    dataset: null, metrics: null, versions: {}, createdAt: new Date(0).toISOString(),
  };
  return { dir: `models/${name}`, model, metadata };
}

const predict = (m: LayersModel, x: Tensor) => Array.from((m.predict(x) as Tensor).dataSync());

test('an ensemble predicts the mean of its members, and saves and loads as one plain model', async () => {
  await initEngine();
  const a = member('a', 1, 0.4);
  // A different architecture at the same input: the members need not share a topology.
  const c = member('b', 2, 0.6, 'seed-b');
  const x = tf.randomUniform([5, 48, 48, 1], 0, 1, 'float32', 3);
  const pa = predict(a.model, x);
  const pc = predict(c.model, x);
  // Two copies of one model too: identical layer names must not collide in the saved weights.
  const { model, metadata } = await ensembleBundles([a, c, a]);
  const want = pa.map((v, i) => (2 * v + pc[i]) / 3);
  const got = predict(model, x);
  got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-6, `example ${i}: ${v} vs ${want[i]}`));
  assert.notDeepEqual(pa, pc, 'members must differ for the mean to be a check');
  assert.equal(metadata.arch, 'ensemble(face-48, seed-b, face-48)');
  assert.ok(Math.abs(metadata.threshold - (0.4 + 0.6 + 0.4) / 3) < 1e-12);
  assert.deepEqual(metadata.members!.map((m) => [m.name, m.seed, m.threshold]), [['a', 1, 0.4], ['b', 2, 0.6], ['a', 1, 0.4]]);
  assert.equal(metadata.members![0].params, a.model.countParams());
  assert.equal(metadata.seed, null);
  assert.deepEqual(metadata.preprocessing, a.metadata.preprocessing);

  const dir = join(await tempDir(), 'ens');
  await saveBundle(dir, model, metadata);
  const loaded = await readBundle(dir);
  assert.deepEqual(predict(loaded.model, x), got);
  assert.equal(loaded.metadata.members!.length, 3);
  // Keras .h5 holds one chain of layers: an ensemble says so rather than failing on its topology.
  await assert.rejects(exportKerasModel(loaded, join(dir, 'x.h5')), (e: Error) => e instanceof KerasExportError && /averages 3 models .*export the bundles it was made from/.test(e.message));

  // An ensemble is itself a member like any other (its layers are renamed again, recursively).
  const nested = await ensembleBundles([loaded, a], { threshold: 0.5, name: 'outer' });
  const pn = predict(nested.model, x);
  pn.forEach((v, i) => assert.ok(Math.abs(v - (got[i] + pa[i]) / 2) < 1e-6));
  assert.equal(nested.metadata.threshold, 0.5);
  assert.equal(nested.metadata.name, 'outer');
  assert.equal(nested.metadata.members![0].members!.length, 3);
  const dir2 = join(await tempDir(), 'outer');
  await saveBundle(dir2, nested.model, nested.metadata);
  assert.deepEqual(predict((await readBundle(dir2)).model, x), pn);
  for (const m of [a.model, c.model, model, loaded.model, nested.model]) m.dispose();
  x.dispose();
});

test('members that would see different pixels, or answer different questions, are refused by name', async () => {
  await initEngine();
  const a = member('a', 1, 0.5);
  const noFlip = member('b', 2, 0.5);
  noFlip.metadata.preprocessing = { ...noFlip.metadata.preprocessing, testTimeFlip: false };
  await assert.rejects(ensembleBundles([a, noFlip]), (e: Error) => e instanceof BundleError && /models\/b: its preprocessing .*testTimeFlip":false.* differs from models\/a's/.test(e.message));
  const other = member('c', 3, 0.5);
  other.metadata.classes = ['happy', 'neutral'];
  await assert.rejects(ensembleBundles([a, other]), (e: Error) => e instanceof BundleError && /models\/c: classes happy, neutral differ/.test(e.message));
  const flipped = member('d', 4, 0.5);
  flipped.metadata.positiveClass = 'sad';
  await assert.rejects(ensembleBundles([a, flipped]), /models\/d: output sigmoid \(positive class sad\) differs/);
  await assert.rejects(ensembleBundles([a]), /at least 2 models, got 1/);
  // Key order in a spec is not a difference.
  const reordered = member('e', 5, 0.5);
  reordered.metadata.preprocessing = Object.fromEntries(Object.entries(reordered.metadata.preprocessing).reverse()) as typeof a.metadata.preprocessing;
  const ok = await ensembleBundles([a, reordered]);
  for (const m of [a.model, noFlip.model, other.model, flipped.model, reordered.model, ok.model]) m.dispose();
});

test('a given test-time flip replaces the members\' own: they may disagree, and the classifier runs the mirror as told', async () => {
  await initEngine();
  const a = member('a', 1, 0.5);
  const noFlip = member('b', 2, 0.5);
  noFlip.metadata.preprocessing = { ...noFlip.metadata.preprocessing, testTimeFlip: false };
  const off = await ensembleBundles([a, noFlip], { testTimeFlip: false });
  // Off is written as train writes it: no field. Everything else is the members' spec.
  assert.equal('testTimeFlip' in off.metadata.preprocessing, false);
  const { testTimeFlip: _, ...rest } = a.metadata.preprocessing;
  assert.deepEqual(off.metadata.preprocessing, rest);
  const on = await ensembleBundles([noFlip, a], { testTimeFlip: true });
  assert.equal(on.metadata.preprocessing.testTimeFlip, true);
  // What a classifier makes of it: off, one pass of the plain image; on, the mean with its mirror.
  const pixels = Uint8Array.from({ length: 48 * 48 }, (_, i) => (i * 37 + (i >> 5) * 11) % 256);
  const plain = tf.tensor4d(Float32Array.from(pixels, (v) => v / 255), [1, 48, 48, 1]);
  const mirror = tf.reverse(plain, 2);
  const scoreOf = async (b: { model: LayersModel; metadata: BundleMetadata }) => {
    const c = await createClassifier({ dir: '', ...b });
    const [d] = await c.classifyPixels(pixels, 1);
    await c.close();
    return d!.score;
  };
  assert.ok(Math.abs((await scoreOf(off)) - predict(off.model, plain)[0]!) < 1e-6);
  assert.ok(Math.abs((await scoreOf(on)) - (predict(on.model, plain)[0]! + predict(on.model, mirror)[0]!) / 2) < 1e-6);
  for (const m of [a.model, noFlip.model, off.model, on.model]) m.dispose();
  plain.dispose();
  mirror.dispose();
});

test('tune data sets the threshold from the ensemble\'s own scores there; test data is scored at it; no temp bundle', async () => {
  await initEngine();
  const data = await tempDir();
  await makeClassFolders(data, 6, { size: 48 });
  const held = await tempDir();
  await makeClassFolders(held, 4, { size: 48, seedBase: 7 });
  const plain = (m: ModelBundle): ModelBundle => ({ ...m, metadata: { ...m.metadata, preprocessing: defaultPreprocessSpec([48, 48, 1]) } });
  const a = plain(member('a', 1, 0.5));
  const b = plain(member('b', 2, 0.5));
  const r = await ensembleBundles([a, b], { tune: { dir: data }, test: { dir: held } });
  // The tuned threshold is the balanced-accuracy cut of the ensemble's scores on the tuning images.
  const classifier = await createClassifier({ dir: '', model: r.model, metadata: r.metadata });
  const ev = await evaluate(data, classifier);
  assert.equal(r.metadata.threshold, bestThreshold(ev.rows.map((x) => x.score), ev.rows.map((x) => x.truth === 'happy')));
  assert.equal(r.validation?.n, 12);
  assert.equal(r.test?.n, 8);
  assert.equal(r.test?.threshold, r.metadata.threshold);
  assert.deepEqual(r.metadata.metrics, { validation: r.validation, test: r.test });
  await classifier.close();
  // The model was lent to the classifiers, not given: it still predicts.
  assert.equal(predict(r.model, tf.zeros([1, 48, 48, 1])).length, 1);

  await assert.rejects(ensembleBundles([a, b], { tune: { dir: data }, test: { dir: data } }), (e: unknown) => e instanceof OptionError && /is the data the threshold is tuned on/.test(e.message));
  await assert.rejects(ensembleBundles([a, b], { tune: { dir: data }, threshold: 0.3 }), OptionError);
  for (const m of [a.model, b.model, r.model]) m.dispose();
});
