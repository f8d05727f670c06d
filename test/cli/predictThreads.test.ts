import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PHOTOS_PER_EXTRA_THREAD, predictThreads } from '../../cli/predictThreads.js';

test('predict without --workers: one thread for a few photos, one more per PHOTOS_PER_EXTRA_THREAD photos up to the cores, every core for a video', () => {
  const n = PHOTOS_PER_EXTRA_THREAD;
  assert.equal(predictThreads(1, 0, 2), 1);
  assert.equal(predictThreads(n - 1, 0, 8), 1);
  assert.equal(predictThreads(n, 0, 8), 2);
  assert.equal(predictThreads(3 * n + 1, 0, 8), 4);
  assert.equal(predictThreads(100 * n, 0, 2), 2);
  assert.equal(predictThreads(0, 1, 2), 2);
  assert.equal(predictThreads(1, 1, 4), 4);
  assert.equal(predictThreads(0, 0, 1), 1);
});
