import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeMetrics, rocAuc, formatEvaluationReport } from '../../src/evaluate/computeMetrics.js';

test('binary metrics match a hand-computed case', () => {
  // classes [happy, sad], positive happy. truth: 4 happy, 2 sad.
  // p(happy):  .9 .8 .4 .7 | .6 .1   -> predicted (>= .5): H H S H | H S
  const pHappy = [0.9, 0.8, 0.4, 0.7, 0.6, 0.1];
  const truth = [0, 0, 0, 0, 1, 1];
  const predicted = pHappy.map((p) => (p >= 0.5 ? 0 : 1));
  const r = computeMetrics({ classes: ['happy', 'sad'], positiveClass: 'happy', threshold: 0.5, truth, predicted, probabilities: pHappy.flatMap((p) => [p, 1 - p]) });
  assert.equal(r.n, 6);
  assert.equal(r.accuracy, 4 / 6);
  // recall happy 3/4, recall sad 1/2 -> balanced 0.625
  assert.equal(r.balancedAccuracy, 0.625);
  assert.equal(r.perClass.happy.precision, 3 / 4);
  assert.equal(r.perClass.happy.recall, 3 / 4);
  assert.equal(r.perClass.sad.precision, 1 / 2);
  assert.equal(r.perClass.sad.recall, 1 / 2);
  assert.equal(r.perClass.sad.f1, 0.5);
  assert.deepEqual(r.confusion.matrix, [[3, 1], [1, 1]]);
  // Positive scores .9 .8 .4 .7 vs negatives .6 .1: pairs won = 4 + 4 + 1 + 4 = ... count: (.9>.6,.1)(.8>.6,.1)(.4>.1 only)(.7>.6,.1) = 7 of 8
  assert.equal(r.auc, 7 / 8);
  assert.match(formatEvaluationReport(r), /balanced accuracy 62\.5%/);
});

test('AUC counts ties as half and is null when a class is missing', () => {
  assert.equal(rocAuc([true, false], [0.5, 0.5]), 0.5);
  assert.equal(rocAuc([true, true, false, false], [0.9, 0.5, 0.5, 0.1]), (1 + 1 + 1 + 0.5) / 4);
  assert.equal(rocAuc([true, true], [0.1, 0.2]), null);
});

test('a class never predicted gets precision 0 rather than NaN; multi-class AUC is macro', () => {
  const truth = [0, 1, 2, 2];
  const predicted = [0, 0, 2, 2];
  const probs = [
    [0.8, 0.1, 0.1], [0.5, 0.3, 0.2], [0.1, 0.2, 0.7], [0.2, 0.2, 0.6],
  ].flat();
  const r = computeMetrics({ classes: ['a', 'b', 'c'], positiveClass: 'a', threshold: 0.5, truth, predicted, probabilities: probs });
  assert.equal(r.perClass.b.precision, 0);
  assert.equal(r.perClass.b.recall, 0);
  assert.equal(r.perClass.b.f1, 0);
  assert.equal(r.balancedAccuracy, (1 + 0 + 1) / 3);
  // a: pos .8 vs neg .5 .1 .2 -> 1. b: pos .3 vs .1 .2 .2 -> 1. c: pos .7 .6 vs .1 .2 -> 1.
  assert.equal(r.auc, 1);
});

test('truth classes a subset of the model\'s: the missing class is a column, its predictions count as wrong; AUC over the classes present', () => {
  // A happy/neutral/sad model on happy and sad images only: one of each called neutral.
  const truth = [0, 0, 2, 2];
  const predicted = [0, 1, 1, 2];
  const probs = [[0.8, 0.15, 0.05], [0.4, 0.5, 0.1], [0.1, 0.5, 0.4], [0.05, 0.15, 0.8]].flat();
  const r = computeMetrics({ classes: ['happy', 'neutral', 'sad'], positiveClass: 'happy', threshold: 0.5, truth, predicted, probabilities: probs });
  assert.deepEqual(r.confusion.matrix, [[1, 1, 0], [0, 0, 0], [0, 1, 1]]);
  assert.equal(r.accuracy, 0.5);
  assert.equal(r.balancedAccuracy, 0.5, 'the mean recall of happy and sad; neutral has no images to recall');
  assert.equal(r.perClass.neutral.support, 0);
  // happy vs rest: .8 .4 over .1 .05 -> 1; sad vs rest: .4 .8 over .05 .1 -> 1; neutral has no positives.
  assert.equal(r.auc, 1);
  assert.match(formatEvaluationReport(r), /macro one-vs-rest over the 2 classes present/);
  const none = computeMetrics({ classes: ['a', 'b', 'c'], positiveClass: 'a', threshold: 0.5, truth: [0, 0], predicted: [0, 1], probabilities: [0.5, 0.3, 0.2, 0.2, 0.5, 0.3] });
  assert.equal(none.auc, null, 'one class present: nothing to rank against');
});
