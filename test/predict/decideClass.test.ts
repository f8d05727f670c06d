import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideClass, interpretOutput, type DecisionRule } from '../../src/predict/interpretOutput.js';

const sigmoid: DecisionRule = { classes: ['happy', 'sad'], output: 'sigmoid', positiveClass: 'happy', threshold: 0.6 };
const softmax: DecisionRule = { classes: ['angry', 'happy', 'sad'], output: 'softmax', positiveClass: 'happy', threshold: 0.5 };

test('decideClass: one sigmoid unit is decided by the threshold on p(positive), not by the larger probability', () => {
  assert.equal(decideClass([0.55, 0.45], sigmoid), 1, '0.55 is the larger but under the 0.6 threshold: sad');
  assert.equal(decideClass([0.6, 0.4], sigmoid), 0, 'at the threshold: happy');
  // The positive class need not come first.
  assert.equal(decideClass([0.3, 0.7], { ...sigmoid, positiveClass: 'sad' }), 1);
  assert.equal(decideClass([0.45, 0.55], { ...sigmoid, positiveClass: 'sad' }), 0);
});

test('decideClass: a softmax takes the most probable class, the first on a tie', () => {
  assert.equal(decideClass([0.2, 0.5, 0.3], softmax), 1);
  assert.equal(decideClass([0.1, 0.2, 0.7], softmax), 2);
  assert.equal(decideClass([0.4, 0.4, 0.2], softmax), 0);
});

test('interpretOutput decides each row with decideClass', () => {
  const raw = [0.1, 0.59, 0.6, 0.95];
  const decisions = interpretOutput(raw, raw.length, sigmoid);
  assert.deepEqual(decisions.map((d) => d.labelIndex), decisions.map((d) => decideClass(d.probabilities, sigmoid)));
  assert.deepEqual(decisions.map((d) => d.labelIndex), [1, 1, 0, 0]);
  assert.deepEqual(decisions.map((d) => d.score), raw);
  const rows = interpretOutput([0.2, 0.5, 0.3, 0.6, 0.3, 0.1], 2, softmax);
  assert.deepEqual(rows.map((d) => [d.labelIndex, d.score]), [[1, 0.5], [0, 0.3]]);
});
