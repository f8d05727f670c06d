import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { OptionError } from '../../src/base/errors.js';
import { initEngine } from '../../src/engine/engine.js';
import { bestThreshold } from '../../src/evaluate/bestThreshold.js';
import { evaluate } from '../../src/evaluate/evaluate.js';
import { readBundle } from '../../src/model/modelBundle.js';
import { createClassifier } from '../../src/predict/classifier.js';
import { train } from '../../src/train/train.js';
import type { TrainEvent } from '../../src/train/trainOptions.js';
import { writeBytes } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';
import { greyImage } from '../../testkit/threeClassModel.js';

// train() on happy, neutral and sad images records the pair forced choice decides between, with
// the threshold that is best on the validation images of those two.

let data: string;
const quick = { arch: 'seed-a', input: [32, 32, 1] as [number, number, 1], batch: 12, epochs: 2, patience: 5, workers: 1, valSplit: 0.25, seed: 11 };

before(async () => {
  await initEngine();
  data = await tempDir();
  let seed = 1;
  const brightness = { happy: 0.8, neutral: 0.5, sad: 0.2 };
  for (const [cls, m] of Object.entries(brightness)) for (let i = 0; i < 12; i++) await writeBytes(join(data, cls, `${cls}_${i}.png`), await greyImage(m + (i % 4) * 0.03 - 0.045, seed++));
});

test('a happy/neutral/sad model records forcedChoice: happy vs sad, the threshold best on their validation images', async () => {
  const out = join(await tempDir(), 'model');
  const events: TrainEvent[] = [];
  const result = await train(data, { ...quick, out, onEvent: (e) => events.push(e) });
  const fc = result.bundle.metadata.forcedChoice!;
  assert.deepEqual(fc.between, ['happy', 'sad']);
  assert.ok(fc.threshold > 0 && fc.threshold < 1);
  assert.ok(events.some((e) => e.type === 'stage' && /forced choice between happy and sad: threshold [\d.]+ .*tuned on \d+ validation images/.test(e.message)), 'training says so');
  // The saved bundle holds it (and passes validation on reading).
  assert.deepEqual((await readBundle(out)).metadata.forcedChoice, fc);
  // The same threshold from the forced-choice scores of the rebuilt validation split's happy and sad images.
  const classifier = await createClassifier(result.bundle);
  try {
    const val = await evaluate(data, classifier, { split: 'val', forcedChoice: true });
    assert.ok(val.rows.length >= 4 && val.leftOut! > 0, `${val.rows.length} happy/sad validation images, ${val.leftOut} neutral left out`);
    const expected = bestThreshold(val.rows.map((r) => r.score), val.rows.map((r) => r.truth === 'happy'));
    assert.ok(Math.abs(fc.threshold - Math.min(1 - 1e-6, Math.max(1e-6, expected))) < 1e-6, `${fc.threshold} vs ${expected}`);
  } finally {
    await classifier.close();
  }
});

test('neitherClass names the class left out; one that is not a class is refused before any training', async () => {
  const out = join(await tempDir(), 'never');
  await assert.rejects(train(data, { ...quick, out, neitherClass: 'bored' }), (e: unknown) => e instanceof OptionError && /neitherClass "bored" is not one of the classes: happy, neutral, sad/.test(e.message));
  assert.equal(existsSync(join(out, 'happysad.json')), false, 'no model written');
  // Sad as the neither class: the pair is happy and neutral.
  const result = await train(data, { ...quick, epochs: 1, neitherClass: 'sad' });
  assert.deepEqual(result.bundle.metadata.forcedChoice?.between, ['happy', 'neutral']);
});
