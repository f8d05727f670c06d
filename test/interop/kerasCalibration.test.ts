import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/engine.js';
import { defaultPreprocessSpec } from '../../src/input/preprocessSpec.js';
import { getArchitecture } from '../../src/model/architectures.js';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, type BundleMetadata } from '../../src/model/bundleMetadata.js';
import { readBundle, saveBundle } from '../../src/model/modelBundle.js';
import { calibratedThreshold } from '../../src/predict/applyCalibration.js';
import { loadModel } from '../../src/predict/classifier.js';
import { exportKerasModel, importKerasModel } from '../../src/interop/keras/index.js';
import { faceLikeImage, writeBytes } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';

test('a calibrated bundle exported to Keras and imported again is calibrated as before (its threshold is on calibrated scores)', async () => {
  await initEngine();
  const dir = await tempDir();
  const calibration = { method: 'temperature' as const, temperature: 2.2, fittedOn: 'faces (val split)', n: 300, eceBefore: 0.11, eceAfter: 0.03 };
  const metadata: BundleMetadata = {
    format: BUNDLE_FORMAT, formatVersion: BUNDLE_FORMAT_VERSION, name: 'm', arch: 'seed-a', classes: ['happy', 'sad'], output: 'sigmoid', positiveClass: 'happy',
    threshold: calibratedThreshold(0.42, 2.2), preprocessing: defaultPreprocessSpec([32, 32, 3]), seed: 3, training: null, dataset: null, metrics: null,
    versions: { happysad: '0.1.0' }, createdAt: new Date(0).toISOString(), calibration,
  };
  const model = getArchitecture('seed-a').build({ input: [32, 32, 3], numClasses: 2, seed: 3 });
  const bundleDir = join(dir, 'calibrated');
  await saveBundle(bundleDir, model, metadata);
  model.dispose();
  const h5 = join(dir, 'm.h5');
  await exportKerasModel(bundleDir, h5);
  const back = await importKerasModel(h5, { out: join(dir, 'back') });
  back.bundle.model.dispose();
  assert.deepEqual(back.bundle.metadata.calibration, calibration);
  assert.equal(back.bundle.metadata.threshold, metadata.threshold);
  assert.deepEqual((await readBundle(join(dir, 'back'))).metadata.calibration, calibration);
  const photos = await Promise.all([1, 2, 3].map(async (s) => writeBytes(join(dir, `${s}.png`), await faceLikeImage(s % 2 ? 'happy' : 'sad', s, 60))));
  const [before, after] = [await loadModel(bundleDir), await loadModel(join(dir, 'back'))];
  assert.deepEqual(await after.predict(photos), await before.predict(photos));
  for (const c of [before, after]) await c.close();

  // Told other classes, the import reads the unit its own way: the old calibration does not apply.
  const relabelled = await importKerasModel(h5, { classes: ['happy', 'sad'] });
  relabelled.bundle.model.dispose();
  assert.equal(relabelled.bundle.metadata.calibration, undefined);
});
