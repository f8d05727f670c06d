import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OptionError } from '../../src/base/errors.js';
import { initEngine } from '../../src/engine/engine.js';
import { calibrateBundle } from '../../src/evaluate/calibrateBundle.js';
import { evaluate } from '../../src/evaluate/evaluate.js';
import { defaultPreprocessSpec } from '../../src/input/preprocessSpec.js';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, type BundleMetadata, type TemperatureCalibration } from '../../src/model/bundleMetadata.js';
import { readBundle, saveBundle, type ModelBundle } from '../../src/model/modelBundle.js';
import { calibratedThreshold } from '../../src/predict/applyCalibration.js';
import { loadModel } from '../../src/predict/classifier.js';
import { buildEvaluationReportData, renderEvaluationReportHtml } from '../../src/report/evaluationReport.js';
import { BRIGHTNESS_SIZE, brightnessModel, writeBrightnessImages } from '../fixtures/brightnessData.js';
import { runCli } from '../../testkit/runCli.js';
import { tempDir } from '../../testkit/tempDir.js';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const logit = (p: number) => Math.log(p / (1 - p));

function metadata(threshold: number, calibration?: TemperatureCalibration): BundleMetadata {
  return {
    format: BUNDLE_FORMAT, formatVersion: BUNDLE_FORMAT_VERSION, name: 'brightness', arch: 'brightness', classes: ['happy', 'sad'], output: 'sigmoid',
    positiveClass: 'happy', threshold, preprocessing: defaultPreprocessSpec([BRIGHTNESS_SIZE, BRIGHTNESS_SIZE, 3]), seed: 1, training: null, dataset: null, metrics: null,
    versions: {}, createdAt: new Date(0).toISOString(), ...(calibration ? { calibration } : {}),
  };
}

let data: string;
let plainDir: string;
let bundle: ModelBundle;
before(async () => {
  await initEngine();
  data = await tempDir();
  await writeBrightnessImages(data, 8, 1, 'train');
  await writeBrightnessImages(data, 160, 2, 'val');
  await writeBrightnessImages(data, 80, 3, 'test');
  plainDir = join(await tempDir(), 'plain');
  await saveBundle(plainDir, brightnessModel(), metadata(0.4), { 'history.json': '{"epochs":[]}\n' });
  bundle = await readBundle(plainDir);
});

test('a bundle with a calibration gives calibrated probabilities through predict and evaluate, with the same decisions', async () => {
  const T = 2.5;
  const calibration: TemperatureCalibration = { method: 'temperature', temperature: T, fittedOn: 'by hand', n: 1, eceBefore: 0.3, eceAfter: 0.1 };
  const calibratedDir = join(await tempDir(), 'calibrated');
  await saveBundle(calibratedDir, bundle.model, metadata(calibratedThreshold(0.4, T), calibration));
  const plain = await loadModel(plainDir);
  const calibrated = await loadModel(calibratedDir);
  try {
    const files = (await evaluate(data, plain, { split: 'test' })).rows.slice(0, 6).map((r) => join(data, r.file));
    const [a, b] = [await plain.predict(files), await calibrated.predict(files)];
    a.forEach((row, i) => {
      const p = row.score!;
      assert.ok(Math.abs(b[i]!.score! - sigmoid(logit(p) / T)) < 1e-9, `${files[i]}: ${b[i]!.score} is not sigmoid(logit(${p}) / ${T})`);
      assert.deepEqual(b[i]!.probabilities, { happy: b[i]!.score!, sad: 1 - b[i]!.score! });
      assert.equal(b[i]!.label, row.label);
    });
    assert.ok(a.some((row, i) => Math.abs(row.score! - b[i]!.score!) > 0.05), 'the scores moved');

    const [ea, eb] = [await evaluate(data, plain, { split: 'test' }), await evaluate(data, calibrated, { split: 'test' })];
    ea.rows.forEach((row, i) => {
      assert.ok(Math.abs(eb.rows[i]!.score - sigmoid(logit(row.score) / T)) < 1e-9);
      assert.deepEqual(eb.rows[i]!.probabilities, [eb.rows[i]!.score, 1 - eb.rows[i]!.score]);
    });
    assert.deepEqual(eb.rows.map((r) => r.label), ea.rows.map((r) => r.label), 'the threshold moved with the probabilities');
    assert.deepEqual(eb.report.confusion, ea.report.confusion);
    assert.notEqual(eb.report.ece, ea.report.ece);
  } finally {
    await plain.close();
    await calibrated.close();
  }
});

test('calibrateBundle fits T on the val split, keeps the bundle as it was, and a refit replaces rather than stacks', async () => {
  const result = await calibrateBundle(bundle, data);
  const c = result.calibration;
  assert.equal(result.split, 'val');
  assert.equal(c.n, 160);
  assert.equal(c.fittedOn, `${data} (val split)`);
  assert.ok(c.temperature > 2.5 && c.temperature < 6, `a model 4 times too sure gets a temperature near 4: ${c.temperature}`);
  assert.ok(c.eceAfter < c.eceBefore / 2, `ECE ${c.eceBefore} -> ${c.eceAfter}`);
  assert.equal(result.metadata.threshold, calibratedThreshold(0.4, c.temperature));
  assert.deepEqual(result.after.confusion, result.before.confusion);
  assert.equal(bundle.metadata.calibration, undefined, 'the bundle itself is unchanged');
  assert.equal(bundle.metadata.threshold, 0.4);

  // Saved, it loads (validated), and scores held-out images with the same decisions, better calibrated.
  const dir = join(await tempDir(), 'out');
  await saveBundle(dir, bundle.model, result.metadata);
  const loaded = await readBundle(dir);
  assert.deepEqual(loaded.metadata.calibration, c);
  const plain = await loadModel(plainDir);
  const calibrated = await loadModel(dir);
  try {
    const [ea, eb] = [await evaluate(data, plain, { split: 'test' }), await evaluate(data, calibrated, { split: 'test' })];
    assert.deepEqual(eb.rows.map((r) => r.label), ea.rows.map((r) => r.label));
    assert.ok(eb.report.ece! < ea.report.ece!, `held-out ECE ${ea.report.ece} -> ${eb.report.ece}`);
  } finally {
    await plain.close();
    await calibrated.close();
  }

  // Calibrating the calibrated model starts again from the network's own outputs.
  const again = await calibrateBundle(loaded, data);
  assert.ok(Math.abs(again.calibration.temperature - c.temperature) < 1e-9, `${again.calibration.temperature} vs ${c.temperature}`);
  assert.ok(Math.abs(again.metadata.threshold - result.metadata.threshold) < 1e-12);
  assert.equal(again.calibration.eceBefore, c.eceBefore);
  loaded.model.dispose();

  await assert.rejects(calibrateBundle(bundle, data, { split: 'train' }), (e: Error) => e instanceof OptionError && /trained on; calibrating there would make it overconfident/.test(e.message));
});

test('happysad calibrate writes a calibrated copy, never touches MODEL, refuses an --out that exists; evaluate reports the ECE and draws the diagram', async () => {
  const out = join(await tempDir(), 'calibrated');
  const modelJson = await readFile(join(plainDir, 'happysad.json'), 'utf8');
  const r = runCli(['calibrate', plainDir, data, '--out', out, '--no-faces', '--workers', '1', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const printed = JSON.parse(r.stdout) as { split: string; calibration: TemperatureCalibration; threshold: number };
  assert.equal(printed.split, 'val');
  const written = JSON.parse(await readFile(join(out, 'happysad.json'), 'utf8')) as BundleMetadata;
  assert.deepEqual(written.calibration, printed.calibration);
  assert.equal(written.threshold, printed.threshold);
  assert.ok(written.calibration!.temperature > 2);
  assert.equal(await readFile(join(plainDir, 'happysad.json'), 'utf8'), modelJson, 'MODEL is left as it was');
  assert.equal(await readFile(join(out, 'history.json'), 'utf8'), '{"epochs":[]}\n', "the bundle's other files come along");

  const twice = runCli(['calibrate', plainDir, data, '--out', out, '--no-faces', '--workers', '1']);
  assert.equal(twice.code, 1);
  assert.match(twice.stderr, /already holds a model/);
  const noOut = runCli(['calibrate', plainDir, data]);
  assert.equal(noOut.code, 2);
  assert.match(noOut.stderr, /needs --out DIR.*never changed/);
  const inPlace = runCli(['calibrate', plainDir, data, '--out', plainDir]);
  assert.equal(inPlace.code, 1);
  assert.match(inPlace.stderr, /read as input/);

  const reportDir = join(await tempDir(), 'report');
  const ev = runCli(['evaluate', data, '--model', out, '--split', 'test', '--no-faces', '--workers', '1', '--json', '--report', reportDir]);
  assert.equal(ev.code, 0, ev.stderr);
  const figures = JSON.parse(ev.stdout) as { ece: number; reliability: { count: number }[] };
  assert.ok(figures.ece >= 0 && figures.ece < 1);
  assert.equal(figures.reliability.reduce((n, b) => n + b.count, 0), 80);
  const html = await readFile(join(reportDir, 'report.html'), 'utf8');
  assert.match(html, /id="reliability-diagram"/);
  assert.match(html, new RegExp(`Calibration error \\(ECE\\)</dt><dd>${figures.ece.toFixed(3)}<`));
  assert.match(html, /Calibration<\/dt><dd>temperature \d+\.\d{3}, fitted on 160 images/);
  const text = runCli(['evaluate', data, '--model', out, '--split', 'test', '--no-faces', '--workers', '1']);
  assert.match(text.stdout, new RegExp(`ECE\\s+${figures.ece.toFixed(3)}\\s+\\(expected calibration error`));
});

test('a report without calibration figures (written before they existed) still renders, without the diagram', async () => {
  const plain = await loadModel(plainDir);
  const result = await evaluate(data, plain, { split: 'test' });
  await plain.close();
  const current = buildEvaluationReportData(result, { metadata: bundle.metadata });
  const withDiagram = await renderEvaluationReportHtml(current, { root: data });
  assert.match(withDiagram, /id="reliability-diagram"/);
  assert.match(withDiagram, /Calibration<\/dt><dd>none/);
  const old = structuredClone(current);
  delete old.metrics.ece;
  delete old.metrics.reliability;
  delete old.model.calibration;
  const html = await renderEvaluationReportHtml(old, { root: data });
  assert.doesNotMatch(html, /reliability-diagram|ECE|Calibration</);
  assert.match(html, /id="roc-curve"/);
});
