import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../../src/engine/engine.js';
import { defaultPreprocessSpec } from '../../src/input/preprocessSpec.js';
import { getArchitecture } from '../../src/model/architectures.js';
import { predictRaw } from '../../src/runtime/predictRaw.js';

test('test-time flip averages the prediction on the image and on its mirror', async () => {
  await initEngine();
  const model = getArchitecture('seed-a').build({ input: [32, 32, 3], numClasses: 2, seed: 4 });
  const pixels = Uint8Array.from({ length: 3 * 32 * 32 * 3 }, (_, i) => (i * 37) % 256);
  const mirrored = new Uint8Array(pixels.length);
  for (let n = 0; n < 3; n++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) for (let c = 0; c < 3; c++) {
    mirrored[((n * 32 + y) * 32 + (31 - x)) * 3 + c] = pixels[((n * 32 + y) * 32 + x) * 3 + c];
  }
  const plain = defaultPreprocessSpec([32, 32, 3]);
  const a = predictRaw(model, pixels, 3, plain);
  const b = predictRaw(model, mirrored, 3, plain);
  const tta = predictRaw(model, pixels, 3, { ...plain, testTimeFlip: true });
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(tta[i] - (a[i] + b[i]) / 2) < 1e-6);
  assert.notDeepEqual(Array.from(a), Array.from(b), 'the model is not already mirror-symmetric');
  // Batching does not change results.
  assert.deepEqual(Array.from(predictRaw(model, pixels, 3, plain, 1)).map((v) => v.toFixed(5)), Array.from(a).map((v) => v.toFixed(5)));
  model.dispose();
});
