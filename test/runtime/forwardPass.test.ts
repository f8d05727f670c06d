import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/engine/engine.js';
import { readBundle } from '../../src/model/modelBundle.js';
import { forwardPass } from '../../src/runtime/forwardPass.js';

// The flip of test-time augmentation runs in the same batch as the images: every answer must be
// bit for bit the mean of the image's and its mirror's outputs, each computed on its own, as the
// two separate calls computed it before.

test('test-time flip in one batch gives, bit for bit, the mean of the image alone and its mirror alone (the default model)', async () => {
  await initEngine();
  const { model, metadata } = await readBundle('models/default');
  const spec = metadata.preprocessing;
  assert.equal(spec.testTimeFlip, true);
  const side = spec.width;
  const n = 3;
  const pixels = Uint8Array.from({ length: n * side * side }, (_, i) => (i * 37 + (i >> 7) * 11) % 256);
  const mirrored = new Uint8Array(pixels.length);
  for (let k = 0; k < n; k++) for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) {
    mirrored[(k * side + y) * side + (side - 1 - x)] = pixels[(k * side + y) * side + x]!;
  }
  const plain = { ...spec, testTimeFlip: false };
  // One sigmoid unit, or a softmax row per image.
  const units = metadata.output === 'sigmoid' ? 1 : metadata.classes.length;
  const one = (data: Uint8Array, k: number) => forwardPass(tf, model, data.subarray(k * side * side, (k + 1) * side * side), 1, plain, 1);
  for (const batch of [1, 2, 32]) {
    const got = forwardPass(tf, model, pixels, n, spec, batch);
    assert.equal(got.length, n * units);
    for (let k = 0; k < n; k++) {
      for (let c = 0; c < units; c++) {
        const expected = Math.fround(Math.fround(one(pixels, k)[c]! + one(mirrored, k)[c]!) / 2);
        assert.equal(got[k * units + c], expected, `image ${k}, output ${c}, batch ${batch}`);
      }
    }
  }
  assert.notEqual(one(pixels, 0)[0], one(mirrored, 0)[0], 'the model is not already mirror-symmetric');
  model.dispose();
});
