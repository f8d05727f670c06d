import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cropFace, cropFaceSync } from '../../src/faces/cropFace.js';
import type { DetectedFace } from '../../src/faces/types.js';
import type { Pixels } from '../../src/pixels/pixels.js';

function gradient(width: number, height: number): Pixels<3> {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      data[o] = x;
      data[o + 1] = y;
      data[o + 2] = 200;
    }
  }
  return { data, width, height, channels: 3 };
}

const px = (img: Pixels<3>, x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));

/** Black image with a white bar through (cx, cy) at `deg` degrees (image coordinates, y down). */
function tiltedBar(size: number, deg: number, thickness = 6): Pixels<3> {
  const data = new Uint8Array(size * size * 3);
  const t = (deg * Math.PI) / 180;
  const c = size / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // Distance from the line through the centre with direction (cos t, sin t).
      const d = Math.abs(-(x + 0.5 - c) * Math.sin(t) + (y + 0.5 - c) * Math.cos(t));
      if (d <= thickness / 2) data.fill(255, (y * size + x) * 3, (y * size + x) * 3 + 3);
    }
  }
  return { data, width: size, height: size, channels: 3 };
}

const rowMean = (img: Pixels<3>, y: number, x0: number, x1: number) => {
  let s = 0;
  for (let x = x0; x < x1; x++) s += img.data[(y * img.width + x) * 3]!;
  return s / (x1 - x0);
};

describe('cropFace', () => {
  it('returns a square of side longer box side * (1 + 2 * margin), centred on the box', async () => {
    const image = gradient(200, 100);
    const face: DetectedFace = { box: [80, 30, 40, 20], score: 0.9 };
    const crop = await cropFace(image, face, { margin: 0.25 });
    assert.equal(crop.width, 60);
    assert.equal(crop.height, 60);
    assert.equal(crop.channels, 3);
    assert.equal(crop.data.length, 60 * 60 * 3);
    // Box centre (100, 40) lands at the crop centre: crop origin is (70, 10).
    assert.deepEqual(px(crop, 0, 0), [70, 10, 200]);
    assert.deepEqual(px(crop, 30, 30), [100, 40, 200]);
    const tight = cropFaceSync(image, face, { margin: 0 });
    assert.equal(tight.width, 40);
    assert.deepEqual(px(tight, 0, 0), [80, 20, 200]);
  });

  it('defaults the margin to 0.25', () => {
    const crop = cropFaceSync(gradient(100, 100), { box: [40, 40, 20, 20], score: 1 });
    assert.equal(crop.width, 30);
  });

  it('fills outside the image with the edge pixel or black', () => {
    const image = gradient(50, 50);
    const face: DetectedFace = { box: [0, 0, 20, 20], score: 1 };
    const edge = cropFaceSync(image, face, { margin: 0.5, fill: 'edge' });
    const black = cropFaceSync(image, face, { margin: 0.5, fill: 'black' });
    assert.equal(edge.width, 40);
    // Crop origin is (-10, -10): the top-left corner repeats pixel (0, 0).
    assert.deepEqual(px(edge, 0, 0), [0, 0, 200]);
    assert.deepEqual(px(edge, 25, 3), [15, 0, 200]);
    assert.deepEqual(px(black, 0, 0), [0, 0, 0]);
    assert.deepEqual(px(black, 25, 3), [0, 0, 0]);
    assert.deepEqual(px(black, 25, 15), [15, 5, 200]);
  });

  it('handles boxes larger than the image and 1-pixel images', () => {
    const crop = cropFaceSync({ data: new Uint8Array([9, 8, 7]), width: 1, height: 1, channels: 3 }, { box: [0, 0, 1, 1], score: 1 }, { margin: 1 });
    assert.equal(crop.width, 3);
    assert.deepEqual(Array.from(crop.data), [9, 8, 7, 9, 8, 7, 9, 8, 7, 9, 8, 7, 9, 8, 7, 9, 8, 7, 9, 8, 7, 9, 8, 7, 9, 8, 7]);
  });

  it('ignores align without landmarks and is deterministic', () => {
    const image = gradient(120, 90);
    const face: DetectedFace = { box: [30, 20, 50, 40], score: 1 };
    const a = cropFaceSync(image, face, { align: true });
    const b = cropFaceSync(image, face, { align: false });
    assert.deepEqual(a, b);
    const tilted = { ...face, landmarks: { leftEye: [40, 30] as [number, number], rightEye: [70, 40] as [number, number] } };
    assert.deepEqual(cropFaceSync(image, tilted, { align: true }), cropFaceSync(image, tilted, { align: true }));
  });

  for (const deg of [20, -20]) {
    it(`levels an eye line tilted ${deg} degrees`, () => {
      const size = 200;
      const image = tiltedBar(size, deg);
      const t = (deg * Math.PI) / 180;
      const c = size / 2;
      const face: DetectedFace = {
        box: [50, 50, 100, 100],
        score: 1,
        landmarks: { leftEye: [c - 30 * Math.cos(t), c - 30 * Math.sin(t)], rightEye: [c + 30 * Math.cos(t), c + 30 * Math.sin(t)] },
      };
      const plain = cropFaceSync(image, face, { margin: 0, align: false });
      const aligned = cropFaceSync(image, face, { margin: 0, align: true });
      assert.equal(aligned.width, 100);
      // Aligned: the bar runs along the middle rows from edge to edge, and nowhere else.
      assert.ok(rowMean(aligned, 50, 5, 95) > 240, `middle row ${rowMean(aligned, 50, 5, 95)}`);
      assert.ok(rowMean(aligned, 20, 5, 95) < 5 && rowMean(aligned, 80, 5, 95) < 5);
      // Unaligned, the middle row crosses the bar only near the centre; rotating the wrong way
      // (by +angle) would double the tilt and fail the checks above the same way.
      assert.ok(rowMean(plain, 50, 5, 95) < 60);
    });
  }

  it('rejects bad options', () => {
    const image = gradient(10, 10);
    assert.throws(() => cropFaceSync(image, { box: [0, 0, 5, 5], score: 1 }, { margin: -0.1 }), /margin/);
    assert.throws(() => cropFaceSync(image, { box: [0, 0, 0, 5], score: 1 }), RangeError);
  });
});
