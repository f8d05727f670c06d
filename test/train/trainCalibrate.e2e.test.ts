import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { OptionError } from '../../src/base/errors.js';
import { evaluate } from '../../src/evaluate/evaluate.js';
import { uncalibratedRule } from '../../src/evaluate/fitCalibration.js';
import { readBundle } from '../../src/model/modelBundle.js';
import { calibratedThreshold } from '../../src/predict/applyCalibration.js';
import { createClassifier } from '../../src/predict/classifier.js';
import { train } from '../../src/train/train.js';
import { BRIGHTNESS_SIZE, writeBrightnessImages } from '../fixtures/brightnessData.js';
import { runCli } from '../../testkit/runCli.js';
import { tempDir } from '../../testkit/tempDir.js';

let data: string;
let noVal: string;
before(async () => {
  data = await tempDir();
  await writeBrightnessImages(data, 96, 11, 'train');
  await writeBrightnessImages(data, 80, 12, 'val');
  noVal = await tempDir();
  await writeBrightnessImages(noVal, 24, 13);
});

const quick = { arch: 'seed-a', input: [BRIGHTNESS_SIZE, BRIGHTNESS_SIZE, 3] as [number, number, 3], batch: 16, epochs: 10, patience: 3, learningRate: 3e-3, workers: 1 };

test('train with calibrate: T fitted on validation after threshold tuning, stored, and the recorded figures are the calibrated model\'s', async () => {
  const out = join(await tempDir(), 'model');
  const stages: string[] = [];
  const result = await train(data, { ...quick, seed: 5, out, tuneThreshold: true, calibrate: true, onEvent: (e) => e.type === 'stage' && stages.push(e.message) });
  const meta = result.bundle.metadata;
  const c = meta.calibration!;
  assert.ok(c, 'the bundle records its calibration');
  assert.equal(c.method, 'temperature');
  assert.equal(c.fittedOn, `${data} (val split)`);
  assert.equal(c.n, result.validation!.n);
  assert.ok(c.eceAfter < c.eceBefore, `ECE ${c.eceBefore} -> ${c.eceAfter}`);
  assert.ok(stages.some((s) => /calibrated on validation: temperature [\d.]+, expected calibration error/.test(s)), stages.join('\n'));
  assert.equal((meta.training!.options as { calibrate: boolean }).calibrate, true);
  // The recorded validation figures are the calibrated model's: its ECE, its (moved) threshold.
  assert.equal(result.validation!.ece, c.eceAfter);
  assert.equal(result.validation!.threshold, meta.threshold);
  assert.deepEqual(meta.metrics!.validation, result.validation);

  // On disk it loads as written; against the network alone, every decision is the same.
  const loaded = await readBundle(out);
  assert.deepEqual(loaded.metadata.calibration, c);
  const network = uncalibratedRule(loaded.metadata);
  assert.notEqual(network.threshold, 0.5, 'the threshold was tuned, so moving it is under test');
  assert.ok(Math.abs(calibratedThreshold(network.threshold, c.temperature) - meta.threshold) < 1e-12);
  const calibrated = await createClassifier(loaded);
  const plain = await createClassifier({ ...loaded, metadata: network });
  try {
    const [a, b] = [await evaluate(data, plain, { split: 'val' }), await evaluate(data, calibrated, { split: 'val' })];
    assert.deepEqual(b.rows.map((r) => r.label), a.rows.map((r) => r.label), 'calibration changes no decision at the tuned threshold');
    if (Math.abs(c.temperature - 1) > 0.05) assert.ok(b.rows.some((r, i) => Math.abs(r.score - a.rows[i]!.score) > 1e-3), 'the probabilities did change');
    assert.ok(Math.abs(b.report.ece! - meta.metrics!.validation!.ece!) < 1e-9, `evaluate's ECE ${b.report.ece} is the recorded ${meta.metrics!.validation!.ece}`);
    assert.equal(b.report.accuracy, meta.metrics!.validation!.accuracy);
  } finally {
    await plain.close();
    await calibrated.close();
    loaded.model.dispose();
    result.bundle.model.dispose();
  }
});

test('a model that learned little: the NLL-fitted temperature can raise the binned ECE, and train says so', async () => {
  const warnings: string[] = [];
  // Two epochs at the default rate leave this model near 0.5 everywhere (seen: T 0.15, ECE 0.025 -> 0.10).
  const result = await train(data, { ...quick, epochs: 2, learningRate: 1e-3, seed: 5, calibrate: true, onEvent: (e) => e.type === 'warning' && warnings.push(e.message) });
  const c = result.bundle.metadata.calibration!;
  result.bundle.model.dispose();
  assert.ok(c.eceAfter > c.eceBefore, `this run is the case under test: ECE ${c.eceBefore} -> ${c.eceAfter}`);
  assert.ok(warnings.some((w) => /calibration raised the validation ECE \([\d.]+ -> [\d.]+\) while lowering its log-loss: too few validation images \(80\)/.test(w)), warnings.join('\n'));
});

test('calibrate without validation images fails before training, with what to do', async () => {
  const out = join(await tempDir(), 'model');
  const events: string[] = [];
  await assert.rejects(
    train(noVal, { ...quick, valSplit: 0, calibrate: true, out, onEvent: (e) => events.push(e.type) }),
    (e: Error) => e instanceof OptionError && /--calibrate fits on validation images and .* has none \(give --val-split above 0\)/.test(e.message),
  );
  assert.equal(events.includes('epoch-start'), false, 'no epoch was trained');
  await assert.rejects(access(out), 'nothing was written');
  const cli = runCli(['train', noVal, '--out', out, '--calibrate', '--val-split', '0', '--input', '40x40x3']);
  assert.equal(cli.code, 2, cli.stderr);
  assert.match(cli.stderr, /happysad train: --calibrate fits on validation images/);
});
