import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../../src/engine/engine.js';
import { calibrateBundle } from '../../src/evaluate/calibrateBundle.js';
import { ensembleBundles } from '../../src/ensemble/ensembleBundles.js';
import { memberBundles } from '../../src/ensemble/memberBundles.js';
import { defaultPreprocessSpec } from '../../src/input/preprocessSpec.js';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, type BundleMetadata } from '../../src/model/bundleMetadata.js';
import type { ModelBundle } from '../../src/model/modelBundle.js';
import { calibratedThreshold } from '../../src/predict/applyCalibration.js';
import { BRIGHTNESS_SIZE, brightnessModel, writeBrightnessImages } from '../fixtures/brightnessData.js';
import { tempDir } from '../../testkit/tempDir.js';

function member(name: string, k: number, threshold: number, temperature?: number): ModelBundle {
  const metadata: BundleMetadata = {
    format: BUNDLE_FORMAT, formatVersion: BUNDLE_FORMAT_VERSION, name, arch: 'brightness', classes: ['happy', 'sad'], output: 'sigmoid', positiveClass: 'happy',
    threshold: temperature ? calibratedThreshold(threshold, temperature) : threshold, preprocessing: defaultPreprocessSpec([BRIGHTNESS_SIZE, BRIGHTNESS_SIZE, 3]),
    seed: 1, training: null, dataset: null, metrics: null, versions: {}, createdAt: new Date(0).toISOString(),
    ...(temperature ? { calibration: { method: 'temperature', temperature, fittedOn: 'x', n: 10, eceBefore: 0.2, eceAfter: 0.1 } } : {}),
  };
  return { dir: '', model: brightnessModel(k), metadata };
}

test('ensembles average networks, not calibrations: thresholds as the networks see them; a calibrated ensemble splits into uncalibrated members', async () => {
  await initEngine();
  const a = member('a', 3, 0.3, 2);
  const b = member('b', 5, 0.5);
  const { model, metadata } = await ensembleBundles([a, b]);
  assert.equal(metadata.calibration, undefined, "a member's temperature does not fit the average");
  assert.ok(Math.abs(metadata.threshold - 0.4) < 1e-12, `the mean of the networks' own thresholds 0.3 and 0.5, got ${metadata.threshold}`);
  assert.ok(Math.abs(metadata.members![0]!.threshold - 0.3) < 1e-12);

  // The lead's path for the default model: calibrate the ensemble as a whole.
  const data = await tempDir();
  await writeBrightnessImages(data, 120, 21);
  const ensemble: ModelBundle = { dir: '', model, metadata };
  const calibrated = await calibrateBundle(ensemble, data);
  assert.ok(calibrated.calibration.temperature > 2, `members 3 and 5 times too sure: T ${calibrated.calibration.temperature}`);
  assert.deepEqual(calibrated.after.confusion, calibrated.before.confusion);
  const members = await memberBundles({ ...ensemble, metadata: calibrated.metadata });
  assert.deepEqual(members.map((m) => m.metadata.calibration), [undefined, undefined]);
  assert.deepEqual(members.map((m) => Number(m.metadata.threshold.toFixed(12))), [0.3, 0.5]);
  for (const m of [a.model, b.model, model, ...members.map((x) => x.model)]) m.dispose();
});
