import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeMetrics, rocAuc } from '../../src/evaluate/computeMetrics.js';
import { confidentMistakes } from '../../src/evaluate/confidentMistakes.js';
import { operatingPoint, precisionRecallCurve, rocCurve } from '../../src/evaluate/curves.js';
import { Random } from '../../src/base/random.js';

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) <= eps, `${a} vs ${b}`);

test('perfect separation: ROC through (0, 1) with AUC 1, precision 1 at every recall, AP 1', () => {
  const pos = [true, true, false, false];
  const scores = [0.9, 0.8, 0.3, 0.1];
  const roc = rocCurve(pos, scores)!;
  assert.deepEqual(roc.points.map((p) => [p.fpr, p.tpr]), [[0, 0], [0, 0.5], [0, 1], [0.5, 1], [1, 1]]);
  assert.deepEqual(roc.points.map((p) => p.threshold), [null, 0.9, 0.8, 0.3, 0.1]);
  assert.equal(roc.auc, 1);
  const pr = precisionRecallCurve(pos, scores)!;
  assert.deepEqual(pr.points.map((p) => [p.recall, p.precision]), [[0, 1], [0.5, 1], [1, 1], [1, 2 / 3], [1, 0.5]]);
  assert.equal(pr.averagePrecision, 1);
  assert.equal(pr.prevalence, 0.5);
});

test('reversed scores: AUC 0, and AP is the precision of the positives found last', () => {
  const pos = [true, true, false, false];
  const scores = [0.1, 0.2, 0.8, 0.9];
  const roc = rocCurve(pos, scores)!;
  assert.equal(roc.auc, 0);
  assert.deepEqual(roc.points.map((p) => [p.fpr, p.tpr]), [[0, 0], [0.5, 0], [1, 0], [1, 0.5], [1, 1]]);
  const pr = precisionRecallCurve(pos, scores)!;
  // Recall 0.5 reached at precision 1/3, recall 1 at precision 1/2 (sklearn: 0.41666...).
  close(pr.averagePrecision, 0.5 * (1 / 3) + 0.5 * 0.5);
});

test('tied scores move together: one diagonal step, AUC counts a tie as half', () => {
  const roc = rocCurve([true, false, true, false], [0.5, 0.5, 0.5, 0.5])!;
  assert.deepEqual(roc.points.map((p) => [p.fpr, p.tpr]), [[0, 0], [1, 1]]);
  assert.equal(roc.auc, 0.5);
  const pr = precisionRecallCurve([true, false, true, false], [0.5, 0.5, 0.5, 0.5])!;
  assert.deepEqual(pr.points.map((p) => [p.recall, p.precision]), [[0, 1], [1, 0.5]]);
  assert.equal(pr.averagePrecision, 0.5);
  // A partial tie: one positive and one negative share 0.7.
  const partial = rocCurve([true, true, false, false], [0.9, 0.7, 0.7, 0.2])!;
  assert.deepEqual(partial.points.map((p) => [p.fpr, p.tpr]), [[0, 0], [0, 0.5], [0.5, 1], [1, 1]]);
  assert.equal(partial.auc, 0.875);
  assert.equal(partial.auc, rocAuc([true, true, false, false], [0.9, 0.7, 0.7, 0.2]));
});

test('a missing class: no ROC curve; no PR curve without positives, but one without negatives', () => {
  assert.equal(rocCurve([true, true], [0.2, 0.9]), null);
  assert.equal(rocCurve([false, false], [0.2, 0.9]), null);
  assert.equal(rocCurve([], []), null);
  assert.equal(precisionRecallCurve([false, false], [0.2, 0.9]), null);
  assert.equal(precisionRecallCurve([true, true], [0.2, 0.9])!.averagePrecision, 1);
  assert.throws(() => rocCurve([true], [0.1, 0.2]), RangeError);
});

test('the ROC area equals computeMetrics\' AUC on random scores with many ties', () => {
  const r = new Random(7);
  for (let trial = 0; trial < 20; trial++) {
    const n = 5 + Math.floor(r.next() * 200);
    const truth = Array.from({ length: n }, () => (r.next() < 0.4 ? 0 : 1));
    // Coarse scores (two decimals) make ties common; positives lean higher so AUC is not ~0.5 only.
    const p = truth.map((t) => Math.round(Math.min(1, Math.max(0, r.next() * 0.8 + (t === 0 ? 0.2 : 0))) * 100) / 100);
    const metrics = computeMetrics({
      classes: ['happy', 'sad'], positiveClass: 'happy', threshold: 0.5, truth,
      predicted: p.map((s) => (s >= 0.5 ? 0 : 1)),
      probabilities: p.flatMap((s) => [s, 1 - s]),
    });
    const roc = rocCurve(truth.map((t) => t === 0), p);
    if (metrics.auc === null) {
      assert.equal(roc, null);
      continue;
    }
    close(roc!.auc, metrics.auc, 1e-9);
    // Monotone from (0, 0) to (1, 1).
    for (let i = 1; i < roc!.points.length; i++) {
      assert.ok(roc!.points[i].fpr >= roc!.points[i - 1].fpr && roc!.points[i].tpr >= roc!.points[i - 1].tpr);
    }
    assert.deepEqual([roc!.points.at(-1)!.fpr, roc!.points.at(-1)!.tpr], [1, 1]);
    assert.equal(roc!.points.length, new Set(p).size + 1, 'one point per distinct score');
  }
});

test('the operating point uses score >= threshold, as predict does', () => {
  const pos = [true, true, false, false, true];
  const scores = [0.9, 0.5, 0.5, 0.1, 0.2];
  const op = operatingPoint(pos, scores, 0.5)!;
  assert.deepEqual(op, { threshold: 0.5, fpr: 0.5, tpr: 2 / 3, precision: 2 / 3 });
  assert.equal(operatingPoint(pos, scores, 0.95)!.precision, null);
  assert.equal(operatingPoint([true], [0.4], 0.5), null);
});

test('confident mistakes: wrong labels only, furthest from the threshold first, ties by file', () => {
  const rows = [
    { file: 'a.jpg', truth: 'happy', label: 'sad', score: 0.3 },
    { file: 'b.jpg', truth: 'happy', label: 'happy', score: 0.99 },
    { file: 'c.jpg', truth: 'sad', label: 'happy', score: 0.95 },
    { file: 'e.jpg', truth: 'sad', label: 'happy', score: 0.7 },
    { file: 'd.jpg', truth: 'happy', label: 'sad', score: 0.3 },
  ];
  const top = confidentMistakes(rows, 0.5, 3);
  assert.deepEqual(top.map((r) => r.file), ['c.jpg', 'a.jpg', 'd.jpg']);
  close(top[0].margin, 0.45);
  assert.deepEqual(confidentMistakes(rows, 0.5, 0), []);
  assert.equal(confidentMistakes(rows, 0.5, 99).length, 4);
});
