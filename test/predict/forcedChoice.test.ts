import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OptionError } from '../../src/base/errors.js';
import { forceChoice, forcedChoicePair } from '../../src/predict/forcedChoice.js';
import { decideClass, interpretOutput, type DecisionRule } from '../../src/predict/interpretOutput.js';

// Forced choice: a model that can say neutral answers happy or sad only, renormalised over the
// pair, decided by the pair's threshold; a two-class model is left as it is.

const three: DecisionRule = { classes: ['happy', 'neutral', 'sad'], output: 'softmax', positiveClass: 'happy', threshold: 0.5 };
const recorded: DecisionRule = { ...three, forcedChoice: { between: ['happy', 'sad'], threshold: 0.7 } };
const near = (a: number, b: number) => Math.abs(a - b) < 1e-12;

test('the pair: none for two classes, the recorded one, else happy/sad at 0.5, else a clear error naming the classes', () => {
  assert.equal(forcedChoicePair({ classes: ['happy', 'sad'], positiveClass: 'happy' }), null);
  assert.deepEqual(forcedChoicePair(recorded), { positive: 0, other: 2, threshold: 0.7 });
  assert.deepEqual(forcedChoicePair(three), { positive: 0, other: 2, threshold: 0.5 });
  // The positive class need not be first in the record, nor happy.
  assert.deepEqual(forcedChoicePair({ classes: ['happy', 'neutral', 'sad'], positiveClass: 'sad', forcedChoice: { between: ['happy', 'sad'], threshold: 0.4 } }), { positive: 2, other: 0, threshold: 0.4 });
  assert.deepEqual(forcedChoicePair({ classes: ['angry', 'happy', 'sad', 'surprise'], positiveClass: 'sad' }), { positive: 2, other: 1, threshold: 0.5 });
  assert.throws(() => forcedChoicePair({ name: 'pets', classes: ['cat', 'dog', 'fish'], positiveClass: 'dog' }), (err: unknown) => {
    assert.ok(err instanceof OptionError);
    assert.match(err.message, /model "pets" has the classes cat, dog, fish and records no pair/);
    assert.match(err.message, /lacks the classes happy and sad/);
    return true;
  });
  // happy and sad present but the score is of a third class: no pair holds it.
  assert.throws(() => forcedChoicePair({ classes: ['happy', 'neutral', 'sad'], positiveClass: 'neutral' }), OptionError);
});

test('forceChoice renormalises over the pair, zeroes the rest, and decides at the pair\'s threshold', () => {
  const pair = { positive: 0, other: 2, threshold: 0.7 };
  const d = forceChoice([0.2, 0.7, 0.1], pair);
  assert.ok(near(d.score, 0.2 / 0.3));
  assert.deepEqual(d.probabilities.map((p) => Number(p.toFixed(12))), [Number((2 / 3).toFixed(12)), 0, Number((1 / 3).toFixed(12))]);
  assert.equal(d.labelIndex, 2, '0.667 is under 0.7: sad');
  assert.equal(forceChoice([0.35, 0.5, 0.15], pair).labelIndex, 0, '0.35 / 0.5 = 0.7: at the threshold, happy');
  // Certain of neutral (the pair underflowed): no evidence either way.
  assert.deepEqual(forceChoice([0, 1, 0], { ...pair, threshold: 0.5 }), { labelIndex: 0, score: 0.5, probabilities: [0.5, 0, 0.5] });
  // Forced probabilities give themselves back: a mean of forced answers is decided the same way.
  const again = forceChoice(d.probabilities, pair);
  assert.ok(near(again.score, d.score));
  assert.equal(again.labelIndex, d.labelIndex);
});

test('interpretOutput: the model\'s own rule by default, the forced choice when asked; a two-class model is unchanged', () => {
  const raw = [0.3, 0.6, 0.1, 0.05, 0.55, 0.4, 0.8, 0.15, 0.05];
  const own = interpretOutput(raw, 3, recorded);
  assert.deepEqual(own.map((d) => d.labelIndex), [1, 1, 0], 'argmax: neutral, neutral, happy');
  assert.deepEqual(own.map((d) => d.score), [0.3, 0.05, 0.8]);
  const forced = interpretOutput(raw, 3, recorded, { forcedChoice: true });
  // 0.3/0.4 = 0.75 >= 0.7 happy; 0.05/0.45 = 0.11 sad; 0.8/0.85 = 0.94 happy.
  assert.deepEqual(forced.map((d) => d.labelIndex), [0, 2, 0]);
  assert.ok(near(forced[0]!.score, 0.75) && near(forced[1]!.score, 0.05 / 0.45) && near(forced[2]!.score, 0.8 / 0.85));
  for (const d of forced) {
    assert.equal(d.probabilities[1], 0, 'neutral gets 0');
    assert.ok(near(d.probabilities[0]! + d.probabilities[2]!, 1));
  }
  // Without a record, happy/sad at 0.5: the first row is happy too, the threshold now 0.5.
  assert.deepEqual(interpretOutput([0.3, 0.3, 0.4], 1, three, { forcedChoice: true }).map((d) => d.labelIndex), [2]);
  const sigmoid: DecisionRule = { classes: ['happy', 'sad'], output: 'sigmoid', positiveClass: 'happy', threshold: 0.6 };
  assert.deepEqual(interpretOutput([0.1, 0.59, 0.6], 3, sigmoid, { forcedChoice: true }), interpretOutput([0.1, 0.59, 0.6], 3, sigmoid));
  const softmax2: DecisionRule = { classes: ['happy', 'sad'], output: 'softmax', positiveClass: 'happy', threshold: 0.5 };
  assert.deepEqual(interpretOutput([0.4, 0.6], 1, softmax2, { forcedChoice: true }), interpretOutput([0.4, 0.6], 1, softmax2));
  assert.throws(() => interpretOutput([0.2, 0.3, 0.5], 1, { classes: ['cat', 'dog', 'fish'], output: 'softmax', positiveClass: 'dog', threshold: 0.5 }, { forcedChoice: true }), OptionError);
});

test('decideClass takes the same option: what the page and --smooth decide averaged probabilities with', () => {
  assert.equal(decideClass([0.3, 0.6, 0.1], recorded), 1);
  assert.equal(decideClass([0.3, 0.6, 0.1], recorded, { forcedChoice: true }), 0);
  assert.equal(decideClass([0.25, 0.6, 0.15], recorded, { forcedChoice: true }), 2, '0.625 is under 0.7');
  assert.equal(decideClass([0.55, 0.45], { classes: ['happy', 'sad'], output: 'sigmoid', positiveClass: 'happy', threshold: 0.6 }, { forcedChoice: true }), 1);
});
