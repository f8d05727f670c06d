import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { initEngine } from '../../src/engine/engine.js';
import { ensembleBundles } from '../../src/ensemble/ensembleBundles.js';
import { train } from '../../src/train/train.js';
import { FROM_TRAIN_DEFAULTS } from '../../src/train/trainOptions.js';
import { readBundle, saveBundle } from '../../src/model/modelBundle.js';
import { loadModel } from '../../src/predict/classifier.js';
import { evaluate } from '../../src/evaluate/evaluate.js';
import { bestThreshold } from '../../src/evaluate/bestThreshold.js';
import { computeMetrics } from '../../src/evaluate/computeMetrics.js';
import { evaluationWarning } from '../../src/evaluate/learnedNothing.js';
import { OptionError } from '../../src/base/errors.js';
import { faceLikeImage, makeClassFolders, writeBytes } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';

// train({ from }): fine-tuning a trained bundle (one model, or an ensemble member by member).
let data: string;
let start: string;
let second: string;
const quick = { batch: 16, epochs: 1, workers: 1 };

before(async () => {
  await initEngine();
  data = await tempDir();
  await makeClassFolders(data, 16, { size: 40 });
  // A face model (its face step set; these 40-pixel images count as crops already, so no detector
  // runs) with test-time flip and a calibration: everything fine-tuning must carry over or refit.
  const source = { arch: 'seed-a', input: [32, 32, 3] as [number, number, 3], batch: 16, epochs: 2, patience: 5, workers: 1, faces: 'precropped' as const, testTimeFlip: true };
  start = join(await tempDir(), 'start');
  await train(data, { ...source, seed: 3, calibrate: true, out: start });
  second = join(await tempDir(), 'second');
  await train(data, { ...source, seed: 9, out: second });
});

test('from a single bundle: its architecture, input and preprocessing carried over, fine-tuning defaults, the start recorded', async () => {
  const src = await readBundle(start);
  const stages: string[] = [];
  // Seed 3 is the source's own: the same validation split, so "before" must be what evaluate says of it.
  const result = await train(data, { ...quick, from: start, seed: 3, onEvent: (e) => e.type === 'stage' && stages.push(e.message) });
  const m = result.bundle.metadata;
  assert.equal(m.arch, 'seed-a');
  assert.deepEqual(m.preprocessing, src.metadata.preprocessing, 'face crop, input size and test-time flip are the source\'s');
  const o = m.training!.options;
  assert.equal(o.learningRate, FROM_TRAIN_DEFAULTS.learningRate);
  assert.equal(o.patience, FROM_TRAIN_DEFAULTS.patience);
  assert.equal(o.augment, true);
  assert.equal(o.classWeight, 'balanced');
  assert.equal(o.tuneThreshold, true);
  assert.equal(o.faces, 'detect', 'training images are face-cropped as the source crops photos');
  assert.equal(o.from, start);
  assert.equal(o.calibrate, true, 'the source was calibrated: the calibration is refitted');
  assert.ok(m.calibration && m.calibration.n === m.metrics!.validation!.n);
  assert.ok(stages.some((s) => /is calibrated: the fine-tuned model's calibration is refitted/.test(s)), stages.join('\n'));
  const s = m.startedFrom!;
  assert.equal(s.from, start);
  assert.equal(s.dir, resolve(start));
  assert.equal(s.name, src.metadata.name);
  assert.equal(s.createdAt, src.metadata.createdAt);
  assert.deepEqual(s.trainedOn, { root: data, count: src.metadata.dataset!.fingerprint.count, sha256: src.metadata.dataset!.fingerprint.sha256 });
  const classifier = await loadModel(start);
  const before = await evaluate(data, classifier, { split: 'val' });
  await classifier.close();
  assert.equal(s.validationBefore!.n, before.report.n);
  assert.ok(Math.abs(s.validationBefore!.balancedAccuracy - before.report.balancedAccuracy) < 1e-9, `${s.validationBefore!.balancedAccuracy} vs evaluate's ${before.report.balancedAccuracy}`);
  src.model.dispose();
});

test('an option given explicitly wins over the fine-tuning defaults', async () => {
  const result = await train(data, { ...quick, from: start, seed: 4, learningRate: 3e-4, patience: 2, augment: false, classWeight: 'none', calibrate: false });
  const o = result.bundle.metadata.training!.options;
  assert.deepEqual([o.learningRate, o.patience, o.augment, o.classWeight, o.calibrate], [3e-4, 2, false, 'none', false]);
  assert.equal(result.bundle.metadata.calibration, undefined);
});

test('a calibrated model fine-tuned without validation images: its calibration is dropped, with a warning that says so', async () => {
  const result = await train(data, { ...quick, from: start, seed: 4, valSplit: 0 });
  assert.equal(result.bundle.metadata.calibration, undefined);
  assert.equal(result.bundle.metadata.training!.options.calibrate, false);
  assert.match(result.warnings.find((w) => w.code === 'calibration-dropped')?.message ?? '', /was calibrated, but .* leaves no validation images to refit its calibration on/);
  assert.equal(result.bundle.metadata.startedFrom?.validationBefore, undefined, 'no validation images, no score before');
});

test('from a 2-member ensemble: every member fine-tuned on one split, averaged, threshold tuned there, curves kept', async () => {
  const [a, b] = [await readBundle(start), await readBundle(second)];
  const ens = await ensembleBundles([a, b], { name: 'pair' });
  const ensDir = join(await tempDir(), 'pair');
  await saveBundle(ensDir, ens.model, ens.metadata);
  const out = join(await tempDir(), 'tuned');
  const stages: string[] = [];
  const result = await train(data, { ...quick, from: ensDir, seed: 5, out, onEvent: (e) => e.type === 'stage' && stages.push(e.message) });
  const m = result.bundle.metadata;
  assert.equal(m.members?.length, 2);
  assert.deepEqual(m.members!.map((r) => r.seed), [5, 5], 'one seed, so one validation split for all');
  assert.deepEqual(m.members!.map((r) => r.training?.options.from), [ensDir, ensDir]);
  assert.equal(m.seed, 5);
  assert.equal(m.startedFrom?.members, 2);
  assert.equal(m.startedFrom?.name, 'pair');
  assert.deepEqual(m.preprocessing, a.metadata.preprocessing);
  assert.ok(stages.some((x) => /^member 2\/2 \(/.test(x)), 'progress says which member is training');
  for (const r of result.members!) assert.ok(existsSync(join(out, `training-curves-${r.name}.svg`)) && existsSync(join(out, `history-${r.name}.json`)), r.name);
  // The saved model's own validation split, rebuilt by evaluate from the recorded seed, is the one
  // its threshold was tuned on: the best cut of its scores there is the threshold it records.
  const classifier = await loadModel(out);
  const val = await evaluate(data, classifier, { split: 'val' });
  await classifier.close();
  assert.equal(val.report.n, m.metrics!.validation!.n);
  const best = bestThreshold(val.rows.map((r) => r.score), val.rows.map((r) => r.truth === 'happy'));
  assert.ok(Math.abs(best - m.threshold) < 1e-6, `recorded ${m.threshold}, best on the rebuilt split ${best}`);
  a.model.dispose();
  b.model.dispose();
});

test('from a calibrated ensemble: the average\'s calibration is refitted on the validation split, a raised ECE said', async () => {
  const [a, b] = [await readBundle(start), await readBundle(second)];
  const ens = await ensembleBundles([a, b], { name: 'pair' });
  const calibrated = { dir: '', model: ens.model, metadata: { ...ens.metadata, calibration: a.metadata.calibration! } };
  const result = await train(data, { ...quick, from: calibrated, seed: 5 });
  const c = result.bundle.metadata.calibration!;
  assert.equal(c.n, result.bundle.metadata.metrics!.validation!.n);
  assert.notEqual(c.temperature, a.metadata.calibration!.temperature, 'fitted anew, not copied');
  assert.equal(result.warnings.some((w) => w.code === 'calibration-raised-ece'), c.eceAfter > c.eceBefore);
  [a, b].forEach((x) => x.model.dispose());
  ens.model.dispose();
});

test('from a happy/neutral/sad ensemble to happy/sad photos: one unit per member from its pair, forced choice scored before', async () => {
  const three = await tempDir();
  await makeClassFolders(three, 16, { size: 40 });
  for (let i = 0; i < 16; i++) await writeBytes(join(three, 'neutral', `n_${i}.png`), await faceLikeImage(i % 2 ? 'happy' : 'sad', 90_000 + i, 40));
  const source = { arch: 'seed-a', input: [32, 32, 3] as [number, number, 3], batch: 16, epochs: 1, workers: 1, faces: 'precropped' as const };
  const members = [await train(three, { ...source, seed: 11 }), await train(three, { ...source, seed: 12 })];
  assert.ok(members[0]!.bundle.metadata.forcedChoice, 'the source records its happy/sad pair');
  const ens = await ensembleBundles(members.map((r) => r.bundle), { name: 'three' });
  const stages: string[] = [];
  const result = await train(data, { ...quick, from: { dir: '', model: ens.model, metadata: ens.metadata }, seed: 6, onEvent: (e) => e.type === 'stage' && stages.push(e.message) });
  const m = result.bundle.metadata;
  assert.deepEqual([m.output, m.classes], ['sigmoid', ['happy', 'sad']]);
  assert.equal(m.forcedChoice, undefined);
  assert.equal(stages.filter((x) => /one unit for happy against sad, from the old head's two columns/.test(x)).length, 2, stages.join('\n'));
  const before = m.startedFrom!.validationBefore!;
  assert.ok(before.forcedChoice && before.forcedChoice.n === before.n, 'every validation image is happy or sad, so all count in the forced choice');
  assert.equal(m.startedFrom!.from, 'three', 'a bundle in memory is named by its name');
  members.forEach((r) => r.bundle.model.dispose());
  ens.model.dispose();
});

test('options that contradict the model fine-tuned are refused, naming both', async () => {
  const refused = (options: Parameters<typeof train>[1], pattern: RegExp) => assert.rejects(train(data, { ...quick, from: start, ...options }), (e: unknown) => e instanceof OptionError && pattern.test(e.message));
  await refused({ arch: 'seed-b' }, /--arch seed-b conflicts with --from .*start, a seed-a model/);
  await refused({ input: [48, 48, 1] }, /--input 48x48x1 conflicts with --from .*start, whose input is 32x32x3/);
  await refused({ faceCrop: { margin: 0.3 } }, /face crop margin 0\.3 conflicts with --from .*crops faces with margin/);
  await refused({ initialWeights: start }, /give `from` or `initialWeights`, not both/);
  // A bundle in memory works as `from` too; one without a face step cannot be given one.
  const whole = await readBundle(start);
  whole.metadata.preprocessing = { ...whole.metadata.preprocessing, faces: null };
  await assert.rejects(train(data, { ...quick, from: whole, faces: 'detect' }), (e: unknown) => e instanceof OptionError && /--faces conflicts with --from .*classifies whole images/.test(e.message));
  whole.model.dispose();
});

test('a fine-tuned model that learned nothing is not told to try --from default', () => {
  const r = computeMetrics({ classes: ['happy', 'sad'], positiveClass: 'happy', threshold: 0.5, truth: [...Array(20).fill(0), ...Array(20).fill(1)], predicted: Array(40).fill(1), probabilities: Array(40).fill([0.1, 0.9]).flat() });
  const meta = { preprocessing: { faces: null }, training: { options: { patience: 5 } } } as never;
  const fromScratch = evaluationWarning({ report: r, split: 'val' }, meta);
  assert.match(fromScratch!.message, /--from default/);
  const fineTuned = evaluationWarning({ report: r, split: 'val' }, { ...(meta as object), startedFrom: { from: 'default' } } as never);
  assert.equal(fineTuned?.code, 'collapsed');
  assert.doesNotMatch(fineTuned!.message, /--from default/);
});
