import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BundleError } from '../../src/base/errors.js';
import { defaultPreprocessSpec } from '../../src/input/preprocessSpec.js';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, type BundleMetadata } from '../../src/model/bundleMetadata.js';
import { validateMetadata } from '../../src/model/validateMetadata.js';

const base: BundleMetadata = {
  format: BUNDLE_FORMAT, formatVersion: BUNDLE_FORMAT_VERSION, name: 'm', arch: 'seed-a', classes: ['happy', 'neutral', 'sad'], output: 'softmax',
  positiveClass: 'happy', threshold: 0.5, preprocessing: defaultPreprocessSpec([48, 48, 1]), seed: 1, training: null, dataset: null, metrics: null, versions: {}, createdAt: new Date(0).toISOString(),
};

test('forcedChoice is optional: a bundle without it (every bundle from before) stays valid', () => {
  assert.doesNotThrow(() => validateMetadata(base, 'happysad.json'));
  assert.doesNotThrow(() => validateMetadata({ ...base, forcedChoice: { between: ['happy', 'sad'], threshold: 0.43 } }, 'happysad.json'));
  assert.doesNotThrow(() => validateMetadata({ ...base, positiveClass: 'sad', forcedChoice: { between: ['sad', 'happy'], threshold: 0.5 } }, 'happysad.json'));
});

test('a damaged forcedChoice is refused with the field named', () => {
  const bad: [unknown, RegExp][] = [
    [{ between: ['happy', 'angry'], threshold: 0.5 }, /"forcedChoice\.between" must be two different classes of the model \(happy, neutral, sad\), got \["happy","angry"\]/],
    [{ between: ['happy', 'happy'], threshold: 0.5 }, /"forcedChoice\.between" must be two different classes/],
    [{ between: ['happy'], threshold: 0.5 }, /"forcedChoice\.between"/],
    [{ between: ['neutral', 'sad'], threshold: 0.5 }, /"forcedChoice\.between" must be a pair that holds the positive class "happy"/],
    [{ between: ['happy', 'sad'], threshold: 1 }, /"forcedChoice\.threshold" must be a number between 0 and 1, got 1/],
    [{ between: ['happy', 'sad'], threshold: 0 }, /"forcedChoice\.threshold"/],
    [{ between: ['happy', 'sad'] }, /"forcedChoice\.threshold"/],
    [null, /"forcedChoice" must be an object/],
  ];
  for (const [forcedChoice, message] of bad) {
    assert.throws(() => validateMetadata({ ...base, forcedChoice } as BundleMetadata, 'x/happysad.json'), (err: unknown) => err instanceof BundleError && message.test(err.message), JSON.stringify(forcedChoice));
  }
});
