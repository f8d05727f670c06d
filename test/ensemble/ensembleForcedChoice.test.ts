import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ensembleBundles } from '../../src/ensemble/ensembleBundles.js';
import { evaluate } from '../../src/evaluate/evaluate.js';
import { createClassifier } from '../../src/predict/classifier.js';
import { forcedChoiceThreshold } from '../../src/train/tuneForcedChoice.js';
import { writeBytes } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';
import { greyImage, threeClassBundle } from '../../testkit/threeClassModel.js';

// An ensemble of happy/neutral/sad models keeps their forced-choice pair, and tunes its threshold
// on the tuning data as it tunes a sigmoid's.

test('the members\' pair at the mean of their thresholds; none when they disagree', async () => {
  const a = await threeClassBundle({ forcedChoice: { between: ['happy', 'sad'], threshold: 0.3 } });
  const b = await threeClassBundle({ forcedChoice: { between: ['happy', 'sad'], threshold: 0.5 } });
  const c = await threeClassBundle();
  const same = await ensembleBundles([a, b]);
  assert.deepEqual(same.metadata.forcedChoice?.between, ['happy', 'sad']);
  assert.ok(Math.abs(same.metadata.forcedChoice!.threshold - 0.4) < 1e-12);
  assert.equal((await ensembleBundles([a, c])).metadata.forcedChoice, undefined, 'one member records none');
});

test('with tuning data, the forced choice\'s threshold is the best one on its happy and sad images', async () => {
  const dir = await tempDir();
  let seed = 1;
  const brightness = { happy: [0.7, 0.56, 0.53], neutral: [0.5, 0.49], sad: [0.48, 0.45, 0.3] };
  for (const [cls, ms] of Object.entries(brightness)) for (const m of ms) await writeBytes(join(dir, cls, `${cls}_${seed}.png`), await greyImage(m, seed++));
  const members = [await threeClassBundle(), await threeClassBundle()];
  const result = await ensembleBundles(members, { tune: { dir } });
  const fc = result.metadata.forcedChoice!;
  assert.deepEqual(fc.between, ['happy', 'sad'], 'the pair from the classes (a neutral class), none recorded by the members');
  const classifier = await createClassifier({ dir: '', model: result.model, metadata: { ...result.metadata, forcedChoice: { between: ['happy', 'sad'], threshold: 0.5 } } });
  try {
    const forced = await evaluate(dir, classifier, { forcedChoice: true });
    assert.equal(forced.rows.length, 6);
    assert.equal(fc.threshold, forcedChoiceThreshold(forced.rows.map((r) => r.score), forced.rows.map((r) => r.truth === 'happy')));
  } finally {
    await classifier.close();
  }
  assert.equal(result.validation!.classes.length, 3, 'the validation figures stay the model\'s own');
});
