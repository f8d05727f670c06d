import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdir } from 'node:fs/promises';
import { initEngine, tf } from '../../src/engine/engine.js';
import { train } from '../../src/train/train.js';
import { distillTargets } from '../../src/train/teacherTargets.js';
import { readBundle, saveBundle } from '../../src/model/modelBundle.js';
import { createClassifier } from '../../src/predict/classifier.js';
import { OptionError } from '../../src/base/errors.js';
import { makeClassFolders } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';

// Distillation (train's `teacher`): the student learns the teacher's probabilities, mixed with the labels.
let data: string;
let alwaysSad: string;
const quick = { arch: 'seed-a', input: [32, 32, 3] as [number, number, 3], batch: 16, epochs: 4, patience: 10, workers: 1, learningRate: 3e-3 };

before(async () => {
  await initEngine();
  data = await tempDir();
  await makeClassFolders(data, 16, { size: 40 });
  // A teacher that answers sad for every image, whatever the label: its output unit's weights
  // zeroed and its bias far negative (p(happy) = σ(-12) ≈ 6e-6).
  const start = join(await tempDir(), 'start');
  const trained = await train(data, { ...quick, epochs: 1, seed: 3, out: start });
  const model = trained.bundle.model;
  const names = model.weights.map((w) => w.name);
  const weights = model.getWeights().map((w, i) => {
    if (/output\/kernel/.test(names[i]!)) return tf.zerosLike(w);
    if (/output\/bias/.test(names[i]!)) return tf.fill(w.shape, -12);
    return w;
  });
  model.setWeights(weights);
  alwaysSad = join(await tempDir(), 'always-sad');
  await saveBundle(alwaysSad, model, trained.bundle.metadata);
});

test('distillTargets mixes teacher and labels by the weight: softmax rows, and one sigmoid unit from the positive column', () => {
  const labels = Float32Array.from([1, 0, 0, 0, 0, 1]);
  const teacher = Float32Array.from([0.5, 0.3, 0.2, 0.1, 0.1, 0.8]);
  const mixed = Array.from(distillTargets(labels, teacher, 0.75, 3, 0));
  [0.625, 0.225, 0.15, 0.075, 0.075, 0.85].forEach((v, i) => assert.ok(Math.abs(mixed[i]! - v) < 1e-6, `${i}: ${mixed[i]} vs ${v}`));
  // Sigmoid: targets are p(positive); the teacher gives both classes, the positive one is index 1 here.
  const unit = Array.from(distillTargets(Float32Array.from([1, 0]), Float32Array.from([0.6, 0.4, 0.1, 0.9]), 0.5, 1, 1));
  assert.ok(Math.abs(unit[0]! - 0.7) < 1e-6 && Math.abs(unit[1]! - 0.45) < 1e-6, String(unit));
});

test('a student learns what its teacher says, not only the labels: weight 1 copies an always-sad teacher, weight 0 does not', async () => {
  const files = (await Promise.all(['happy', 'sad'].map(async (c) => (await readdir(join(data, c))).map((f) => join(data, c, f))))).flat();
  // Scored on all of the images, training ones included: this checks what the targets taught, not generalisation.
  const scores = async (distillWeight: number) => {
    const r = await train(data, { ...quick, seed: 5, teacher: alwaysSad, distillWeight });
    const classifier = await createClassifier(r.bundle);
    try {
      return { r, scores: (await classifier.predict(files)).map((p) => p.score ?? Number.NaN) };
    } finally {
      await classifier.close();
    }
  };
  const taught = await scores(1);
  assert.ok(Math.max(...taught.scores) < 0.2, `p(happy) of every face pulled down toward the teacher's ~0: max ${Math.max(...taught.scores)}`);
  // Half the labels are happy: a model fitted to them (whether or not it has yet learned which) averages near 0.5.
  const labelled = await scores(0);
  const mean = labelled.scores.reduce((a, b) => a + b, 0) / labelled.scores.length;
  assert.ok(mean > 0.3 && mean < 0.7, `weight 0 follows the labels: mean p(happy) ${mean}`);
  const options = taught.r.bundle.metadata.training!.options;
  assert.equal(options.teacher, alwaysSad, 'the bundle records its teacher');
  assert.equal(options.distillWeight, 1);
});

test('a teacher that reads other input, or lacks a class, is refused before training, naming what differs', async () => {
  await assert.rejects(train(data, { ...quick, input: [24, 24, 3], teacher: alwaysSad }), (e: unknown) => e instanceof OptionError && /reads other input.*input: teacher \[32,32,3\], student \[24,24,3\]/.test(e.message));
  const { model, metadata } = await readBundle(alwaysSad);
  const other = join(await tempDir(), 'other');
  await saveBundle(other, model, { ...metadata, classes: ['happy', 'angry'], positiveClass: 'happy' });
  await assert.rejects(train(data, { ...quick, teacher: other }), (e: unknown) => e instanceof OptionError && /cannot teach sad/.test(e.message));
  await assert.rejects(train(data, { ...quick, teacher: alwaysSad, distillWeight: 1.5 }), (e: unknown) => e instanceof OptionError && /--distill-weight must be in \[0, 1\]/.test(e.message));
});
