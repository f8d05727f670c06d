import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OptionError } from '../../src/base/errors.js';
import { forcedChoiceClasses, tuneForcedChoice } from '../../src/train/tuneForcedChoice.js';

const classes = ['happy', 'neutral', 'sad'];

test('the pair: the positive class and the one left besides the neither class (neutral by default)', () => {
  assert.deepEqual(forcedChoiceClasses({ classes, positiveClass: 'happy' }), ['happy', 'sad']);
  assert.deepEqual(forcedChoiceClasses({ classes, positiveClass: 'sad' }), ['sad', 'happy']);
  assert.deepEqual(forcedChoiceClasses({ classes: ['calm', 'happy', 'sad'], positiveClass: 'happy', neitherClass: 'calm' }), ['happy', 'sad']);
  // Several left: the conventional opposite; none to tell: no pair.
  assert.deepEqual(forcedChoiceClasses({ classes: ['angry', 'happy', 'neutral', 'sad'], positiveClass: 'happy' }), ['happy', 'sad']);
  assert.equal(forcedChoiceClasses({ classes: ['a', 'b', 'neutral', 'c'], positiveClass: 'a' }), undefined);
  assert.equal(forcedChoiceClasses({ classes: ['happy', 'sad'], positiveClass: 'happy' }), undefined, 'two classes: forced choice changes nothing');
  assert.equal(forcedChoiceClasses({ classes: ['calm', 'happy', 'sad'], positiveClass: 'happy' }), undefined, 'no neutral and none named');
  assert.throws(() => forcedChoiceClasses({ classes, positiveClass: 'happy', neitherClass: 'bored' }), (err: unknown) => err instanceof OptionError && /neitherClass "bored" is not one of the classes: happy, neutral, sad/.test(err.message));
  assert.throws(() => forcedChoiceClasses({ classes, positiveClass: 'happy', neitherClass: 'happy' }), OptionError);
});

test('the threshold is tuned on the two classes\' validation images only, on p(happy) / (p(happy) + p(sad))', () => {
  // Forced scores: happy images 0.9, 0.6, 0.35; sad images 0.3, 0.2, 0.1. A neutral image whose
  // forced score is 0.95 must not move the cut.
  const rows: [number, number[]][] = [
    [0, [0.45, 0.5, 0.05]], [0, [0.3, 0.5, 0.2]], [0, [0.14, 0.6, 0.26]],
    [2, [0.15, 0.5, 0.35]], [2, [0.1, 0.5, 0.4]], [2, [0.05, 0.5, 0.45]],
    [1, [0.19, 0.8, 0.01]],
  ];
  const tuned = tuneForcedChoice({ classes, positiveClass: 'happy' }, rows.map((r) => r[1]), rows.map((r) => r[0]))!;
  assert.deepEqual(tuned.record.between, ['happy', 'sad']);
  assert.equal(tuned.validationImages, 6);
  // Every happy above every sad: the cut between 0.3 and 0.35 separates them all.
  assert.ok(tuned.record.threshold > 0.3 && tuned.record.threshold <= 0.35, String(tuned.record.threshold));
  // No validation images of the two: 0.5.
  assert.equal(tuneForcedChoice({ classes, positiveClass: 'happy' }, [[0.2, 0.7, 0.1]], [1])!.record.threshold, 0.5);
  assert.equal(tuneForcedChoice({ classes: ['happy', 'sad'], positiveClass: 'happy' }, [], []), undefined);
});
