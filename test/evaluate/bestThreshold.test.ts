import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bestThreshold } from '../../src/evaluate/bestThreshold.js';

test('bestThreshold maximises balanced accuracy and prefers cuts near 0.5 on ties', () => {
  // Positives score .6 .7 .8 .9; negatives .1 .2 .3 .65: any cut in (.3, .6) separates all but the .65 negative.
  const scores = [0.6, 0.7, 0.8, 0.9, 0.1, 0.2, 0.3, 0.65];
  const pos = [true, true, true, true, false, false, false, false];
  const t = bestThreshold(scores, pos);
  assert.ok(t > 0.3 && t <= 0.6, `threshold ${t}`);
  // Imbalanced and shifted: positives all below .5, still perfectly separable at .35.
  const t2 = bestThreshold([0.4, 0.45, 0.3, 0.1, 0.2], [true, true, false, false, false]);
  assert.ok(t2 > 0.3 && t2 <= 0.4, `threshold ${t2}`);
  assert.equal(bestThreshold([0.2, 0.9], [true, true]), 0.5, 'one class only: keep 0.5');
});
