import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeMetrics } from '../../src/evaluate/computeMetrics.js';
import { learnedNothing, learnedNothingAdvice, learnedNothingWarning } from '../../src/evaluate/learnedNothing.js';

/** A report from per-class counts of (true class, predicted class) pairs. */
function report(classes: string[], pairs: [truth: number, predicted: number, count: number][]) {
  const truth: number[] = [];
  const predicted: number[] = [];
  for (const [t, p, count] of pairs) {
    for (let i = 0; i < count; i++) {
      truth.push(t);
      predicted.push(p);
    }
  }
  const K = classes.length;
  const probabilities = predicted.flatMap((p) => classes.map((_, k) => (k === p ? 0.9 : 0.1 / (K - 1))));
  return computeMetrics({ classes, positiveClass: classes[0]!, threshold: 0.5, truth, predicted, probabilities });
}

test('every image labelled "sad" on balanced data: collapsed, in plain words with the share and label', () => {
  const r = report(['happy', 'sad'], [[0, 1, 43], [1, 1, 44]]);
  const found = learnedNothing(r, 'validation images');
  assert.equal(found?.code, 'collapsed');
  assert.deepEqual(found.dominant, { label: 'sad', share: 1 });
  assert.match(found.message, /labels 100\.0% of the 87 validation images "sad"/);
  // 96% one label still is a collapse; 90% is not (then it is judged on its balanced accuracy).
  assert.equal(learnedNothing(report(['happy', 'sad'], [[0, 0, 2], [0, 1, 23], [1, 1, 25]]))?.code, 'collapsed');
  assert.notEqual(learnedNothing(report(['happy', 'sad'], [[0, 0, 5], [0, 1, 20], [1, 1, 25]]))?.code, 'collapsed');
});

test('at chance: a balanced accuracy a guesser reaches by luck, with the bound growing as the data shrinks', () => {
  // 43 + 43 images: the bound is 0.5 + 1.645 * 0.5 * sqrt(2 / (4 * 43)) = 0.589.
  const big = learnedNothing(report(['happy', 'sad'], [[0, 0, 24], [0, 1, 19], [1, 1, 24], [1, 0, 19]]));
  assert.equal(big?.code, 'at-chance');
  assert.ok(Math.abs(big.luckBound - 0.5887) < 1e-3, String(big.luckBound));
  assert.match(big.message, /^the model decides no better than guessing: balanced accuracy 55\.8% on the 86 images, where guessing scores 50\.0% and reaches up to 58\.9% by luck/);
  // 0.628 on 43 + 43 clears it; the same 0.628 on 8 + 8 does not (the bound there is 0.706).
  assert.equal(learnedNothing(report(['happy', 'sad'], [[0, 0, 27], [0, 1, 16], [1, 1, 27], [1, 0, 16]])), undefined);
  const small = learnedNothing(report(['happy', 'sad'], [[0, 0, 5], [0, 1, 3], [1, 1, 5], [1, 0, 3]]));
  assert.equal(small?.code, 'at-chance');
  assert.ok(Math.abs(small.luckBound - 0.7056) < 1e-3, String(small.luckBound));
});

test('decisions at chance from scores that rank well: the threshold is named as what fails, and tuning it comes first', () => {
  // Every happy image scores above every sad one (AUC 1), but half of each class is on the wrong side of the threshold.
  const truth = [...Array(30).fill(0), ...Array(30).fill(1)];
  const predicted = truth.map((_, i) => (i % 2 === 0 ? 0 : 1));
  const pHappy = truth.map((t, i) => (t === 0 ? 0.6 + i / 100 : 0.1 + (i - 30) / 100));
  const r = computeMetrics({ classes: ['happy', 'sad'], positiveClass: 'happy', threshold: 0.5, truth, predicted, probabilities: pHappy.flatMap((p) => [p, 1 - p]) });
  assert.equal(r.auc, 1);
  const found = learnedNothing(r);
  assert.equal(found?.code, 'at-chance');
  assert.equal(found.scoresRank, true);
  assert.match(found.message, /Its scores do rank the images \(ROC AUC 1\.000\), so it is the decision threshold \(0\.5\) that fails\.$/);
  assert.match(learnedNothingWarning(r, 'validation images')!.message, /What to try: pick the threshold on validation \(train --tune-threshold\); /);
  // Scores no better than the decisions: no such note, no such advice.
  const flat = report(['happy', 'sad'], [[0, 0, 24], [0, 1, 19], [1, 1, 24], [1, 0, 19]]);
  assert.equal(learnedNothing(flat)?.scoresRank, false);
  assert.doesNotMatch(learnedNothingWarning(flat, 'images')!.message, /tune-threshold/);
});

test('three classes: chance is a third, and a model that learned is left alone', () => {
  const guess = learnedNothing(report(['happy', 'neutral', 'sad'], [[0, 0, 12], [0, 1, 10], [0, 2, 8], [1, 0, 10], [1, 1, 11], [1, 2, 9], [2, 0, 9], [2, 1, 10], [2, 2, 11]]));
  assert.equal(guess?.code, 'at-chance');
  assert.equal(guess.chance, 1 / 3);
  const good = report(['happy', 'neutral', 'sad'], [[0, 0, 25], [0, 1, 5], [1, 1, 24], [1, 2, 6], [2, 2, 26], [2, 0, 4]]);
  assert.equal(learnedNothing(good), undefined);
  assert.equal(learnedNothingWarning(good, 'images'), undefined);
});

test('no verdict where none can be given: one class present, too few images, or data that really is one class', () => {
  assert.equal(learnedNothing(report(['happy', 'sad'], [[1, 1, 40]])), undefined, 'only sad images, all labelled sad');
  assert.equal(learnedNothing(report(['happy', 'sad'], [[0, 1, 4], [1, 1, 4]])), undefined, '8 images');
  // 96% sad data labelled all sad: not a collapse (that may simply be right), but its balanced
  // accuracy is exactly chance, which is what it is.
  assert.equal(learnedNothing(report(['happy', 'sad'], [[0, 1, 2], [1, 1, 48]]))?.code, 'at-chance');
});

test('the advice names what to try, leaving out what the model already did', () => {
  const fresh = learnedNothingAdvice({ patience: 2 });
  assert.match(fresh, /--from default/);
  assert.match(fresh, /--faces/);
  assert.match(fresh, /--patience 10; it was 2/);
  assert.match(fresh, /add images/);
  const tried = learnedNothingAdvice({ faces: true, fromTrained: true, patience: 8 });
  assert.doesNotMatch(tried, /--from default|--faces/);
  assert.match(tried, /--patience 16; it was 8/);
  const w = learnedNothingWarning(report(['happy', 'sad'], [[0, 1, 20], [1, 1, 20]]), 'validation images', { patience: 2 });
  assert.equal(w?.code, 'collapsed');
  assert.match(w.message, /^the model learned nothing useful: .* Do not use it as it is\. What to try: .*--from default/);
});
