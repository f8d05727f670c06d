import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertRgbPixels, boxIoU, copyRegion, eyeLineAngle, mergeCandidates, sameFace, toPixelBox } from '../../src/faces/geometry.js';

const box = (x: number, y: number, w: number, h: number, score = 0.9) => ({ x, y, w, h, score });

describe('face box geometry', () => {
  it('computes IoU', () => {
    assert.equal(boxIoU([0, 0, 10, 10], [0, 0, 10, 10]), 1);
    assert.equal(boxIoU([0, 0, 10, 10], [20, 20, 5, 5]), 0);
    assert.equal(boxIoU([0, 0, 0, 0], [0, 0, 0, 0]), 0);
    assert.ok(Math.abs(boxIoU([0, 0, 10, 10], [5, 0, 10, 10]) - 50 / 150) < 1e-12);
  });

  it('treats a box nested in another as the same face even at low IoU', () => {
    const whole = box(0, 0, 100, 100);
    const part = box(10, 10, 40, 40);
    assert.ok(boxIoU([whole.x, whole.y, whole.w, whole.h], [part.x, part.y, part.w, part.h]) < 0.2);
    assert.equal(sameFace(whole, part), true);
    assert.equal(sameFace(box(0, 0, 50, 50), box(60, 0, 50, 50)), false);
  });

  it('merges duplicates keeping the best score, ties to the larger box', () => {
    const merged = mergeCandidates([box(0, 0, 50, 50, 0.6), box(2, 2, 50, 50, 0.9), box(200, 0, 40, 40, 0.9), box(300, 0, 60, 60, 0.9)]);
    assert.deepEqual(merged.map((c) => [c.x, c.score]), [[300, 0.9], [2, 0.9], [200, 0.9]]);
  });

  it('clips and rounds to integer pixel boxes inside the image', () => {
    assert.deepEqual(toPixelBox(box(-10.4, 5.6, 50, 200), 100, 100), [0, 6, 40, 94]);
    assert.equal(toPixelBox(box(120, 0, 10, 10), 100, 100), null);
    assert.equal(toPixelBox(box(10, 10, 0.2, 0.2), 100, 100), null);
  });

  it('measures the eye line angle in image coordinates (y down)', () => {
    const deg = (l: [number, number], r: [number, number]) => (eyeLineAngle({ leftEye: l, rightEye: r }) * 180) / Math.PI;
    assert.equal(deg([10, 10], [20, 10]), 0);
    // Right-hand eye lower on screen: head tilted clockwise, positive angle.
    assert.ok(Math.abs(deg([0, 0], [10, 10]) - 45) < 1e-9);
    assert.ok(Math.abs(deg([0, 10], [10, 0]) + 45) < 1e-9);
  });

  it('copies regions and validates images', () => {
    const image = { data: Uint8Array.from({ length: 4 * 3 * 3 }, (_, i) => i), width: 4, height: 3, channels: 3 as const };
    assert.deepEqual(Array.from(copyRegion(image, [1, 1, 2, 1]).data), [15, 16, 17, 18, 19, 20]);
    assert.throws(() => copyRegion(image, [3, 0, 2, 1]), RangeError);
    assert.throws(() => assertRgbPixels({ ...image, width: 5 }), RangeError);
    assert.throws(() => assertRgbPixels({ ...image, channels: 1 as unknown as 3 }), RangeError);
  });
});
