import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BundleError } from '../../src/base/errors.js';
import { initEngine } from '../../src/engine/engine.js';
import { defaultPreprocessSpec } from '../../src/input/preprocessSpec.js';
import { getArchitecture } from '../../src/model/architectures.js';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, type BundleMetadata } from '../../src/model/bundleMetadata.js';
import { readBundle, saveBundle } from '../../src/model/modelBundle.js';
import { tempDir } from '../../testkit/tempDir.js';

const calibration = { method: 'temperature', temperature: 1.8, fittedOn: 'faces (val split)', n: 500, eceBefore: 0.12, eceAfter: 0.02 };

test('calibration in happysad.json: absent is valid (older bundles), present is checked field by field', async () => {
  await initEngine();
  const dir = join(await tempDir(), 'model');
  const model = getArchitecture('seed-a').build({ input: [32, 32, 3], numClasses: 2, seed: 4 });
  const metadata: BundleMetadata = {
    format: BUNDLE_FORMAT, formatVersion: BUNDLE_FORMAT_VERSION, name: 't', arch: 'seed-a', classes: ['happy', 'sad'], output: 'sigmoid',
    positiveClass: 'happy', threshold: 0.5, preprocessing: defaultPreprocessSpec([32, 32, 3]), seed: 1, training: null, dataset: null, metrics: null,
    versions: {}, createdAt: new Date(0).toISOString(),
  };
  await saveBundle(dir, model, metadata);
  model.dispose();
  const file = join(dir, 'happysad.json');
  const original = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  assert.equal('calibration' in original, false);
  (await readBundle(dir)).model.dispose();

  const withCalibration = async (value: unknown) => writeFile(file, JSON.stringify({ ...original, calibration: value }));
  await withCalibration(calibration);
  const loaded = await readBundle(dir);
  assert.deepEqual(loaded.metadata.calibration, calibration);
  loaded.model.dispose();

  const bad: [unknown, RegExp][] = [
    [null, /"calibration" must be an object \(or absent\), got null/],
    [{ ...calibration, method: 'platt' }, /"calibration.method" must be "temperature", got "platt"/],
    [{ ...calibration, temperature: 0 }, /"calibration.temperature" must be a positive finite number, got 0/],
    [{ ...calibration, temperature: -2 }, /"calibration.temperature" must be a positive finite number/],
    [{ ...calibration, temperature: '2' }, /"calibration.temperature" must be a positive finite number, got "2"/],
    [{ ...calibration, fittedOn: 3 }, /"calibration.fittedOn"/],
    [{ ...calibration, n: 0 }, /"calibration.n" must be a positive integer/],
    [{ ...calibration, eceAfter: 1.5 }, /"calibration.eceAfter" must be a number from 0 to 1/],
    [{ ...calibration, eceBefore: undefined }, /"calibration.eceBefore" must be a number from 0 to 1/],
  ];
  for (const [value, message] of bad) {
    await withCalibration(value);
    await assert.rejects(readBundle(dir), (e: Error) => e instanceof BundleError && message.test(e.message) && /damaged or was edited by hand/.test(e.message), `${JSON.stringify(value)}`);
  }
});
