import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FaceTracker } from '../../src/predict/faceTracker.js';

test('tracks follow overlapping boxes, and a nearby box after a fast move', () => {
  const t = new FaceTracker();
  assert.deepEqual(t.assign(0, [[0, 0, 100, 100], [300, 0, 100, 100]]), [1, 2]);
  // Listed in the other order: ids follow the boxes, not the order.
  assert.deepEqual(t.assign(0.2, [[305, 5, 100, 100], [10, 0, 100, 100]]), [2, 1]);
  // Moved 90 px: almost no overlap (IoU 0.05), but the centre is within a box side: still track 1.
  assert.deepEqual(t.assign(0.4, [[100, 0, 100, 100], [305, 5, 100, 100]]), [1, 2]);
  // A new face appears: a new id.
  assert.deepEqual(t.assign(0.6, [[100, 0, 100, 100], [305, 5, 100, 100], [600, 300, 80, 80]]), [1, 2, 3]);
});

test('a face gone longer than maxGapSeconds comes back with a new id; a much bigger box is not the same face', () => {
  const t = new FaceTracker({ maxGapSeconds: 1 });
  assert.deepEqual(t.assign(0, [[0, 0, 100, 100]]), [1]);
  assert.deepEqual(t.assign(0.8, [[0, 0, 100, 100]]), [1], 'seen again within the gap');
  assert.deepEqual(t.assign(2.0, [[0, 0, 100, 100]]), [2], 'unseen for 1.2 s: a new track');
  assert.deepEqual(t.assign(2.2, [[120, 0, 300, 300]]), [3], 'three times the size, no overlap: not the same face');
});
