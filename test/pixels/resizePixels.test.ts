import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp, { type KernelEnum } from 'sharp';
import { Random } from '../../src/base/random.js';
import { srgbToGray } from '../../src/pixels/grayscale.js';
import { letterboxPixels } from '../../src/pixels/letterboxPixels.js';
import type { Pixels } from '../../src/pixels/pixels.js';
import { resizeFill, resizeInside, type ResizeKernel } from '../../src/pixels/resizePixels.js';
import { letterbox } from '../../src/faces/letterbox.js';

// The JavaScript resampler is the definition of the model input in the browser and for Node's face
// crops; these tests hold it to sharp byte for byte, so a sharp/libvips upgrade that changes
// resampling (libvips 8.19 moves the upscaling grid) fails here instead of drifting silently.

/** Smooth structure plus noise: flat images would hide phase errors, pure noise would hide nothing. */
function testImage(width: number, height: number, channels: 1 | 3, seed: number): Pixels {
  const r = new Random(seed);
  const data = new Uint8Array(width * height * channels);
  const fx = 0.05 + r.next() * 0.3;
  const fy = 0.05 + r.next() * 0.3;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const v = 128 + 90 * Math.sin(fx * x * (c + 1) + fy * y) + (r.next() - 0.5) * 60;
        data[(y * width + x) * channels + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return { data, width, height, channels };
}

async function sharpResize(img: Pixels, w: number, h: number, kernel: ResizeKernel): Promise<Uint8Array> {
  // sharp writes a one-band image as sRGB unless told to keep it gray.
  const { data } = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels as 1 | 3 } })
    .resize(w, h, { fit: 'fill', kernel: kernel as keyof KernelEnum })
    .toColourspace(img.channels === 1 ? 'b-w' : 'srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data);
}

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length, 'sizes differ');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('resizeFill equals sharp byte for byte: shrinking and enlarging, 1 and 3 channels, each kernel', async () => {
  const cases: [number, number, number, number][] = [
    [640, 480, 109, 82], [640, 480, 128, 96], [1600, 1200, 256, 192], [30, 30, 48, 48], [339, 339, 48, 48],
    [20, 20, 48, 48], [97, 97, 48, 48], [48, 48, 48, 48], [250, 250, 109, 109], [1000, 10, 100, 1], [7, 300, 3, 48],
  ];
  const kernels: ResizeKernel[] = ['linear', 'lanczos3', 'cubic'];
  let n = 0;
  for (const [W, H, w, h] of cases) {
    for (const channels of [1, 3] as const) {
      for (const kernel of kernels) {
        const img = testImage(W, H, channels, W * 7 + H + channels);
        assert.equal(maxDiff(resizeFill(img, w, h, kernel).data, await sharpResize(img, w, h, kernel)), 0, `${W}x${H}x${channels} -> ${w}x${h} ${kernel}`);
        n++;
      }
    }
  }
  assert.equal(n, cases.length * 6);
});

test('resizeFill equals sharp on 120 random square sizes (face crops to a model input, up and down)', async () => {
  const r = new Random(2026);
  for (let i = 0; i < 120; i++) {
    const side = 8 + Math.floor(r.next() * 500);
    const out = [48, 64, 96, 128][i % 4]!;
    const kernel: ResizeKernel = i % 3 === 0 ? 'lanczos3' : 'linear';
    const img = testImage(side, side, i % 2 ? 3 : 1, i);
    assert.equal(maxDiff(resizeFill(img, out, out, kernel).data, await sharpResize(img, out, out, kernel)), 0, `${side} -> ${out} ${kernel}`);
  }
});

test('resizeInside bounds a big photo as sharp fit "inside" does', async () => {
  const img = testImage(2000, 1500, 3, 9);
  const ours = resizeInside(img, 1600, 1600);
  const { data, info } = await sharp(img.data, { raw: { width: 2000, height: 1500, channels: 3 } }).resize(1600, 1600, { fit: 'inside', withoutEnlargement: true }).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([ours.width, ours.height], [info.width, info.height]);
  assert.equal(maxDiff(ours.data, new Uint8Array(data)), 0);
  const small = testImage(300, 200, 3, 10);
  assert.deepEqual(resizeInside(small, 1600, 1600).data, small.data, 'never enlarged');
});

test('srgbToGray matches sharp grayscale() on all 16,777,216 colours: 37 are off by one level, none by more', async () => {
  // libvips' exact float evaluation order is not reproduced for a few dozen colours (summation
  // orders and fused multiply-adds were tried); one level on 0.0002% of colours moves no score.
  const N = 4096;
  const rgb = new Uint8Array(N * N * 3);
  for (let i = 0; i < N * N; i++) {
    rgb[3 * i] = i >> 16;
    rgb[3 * i + 1] = (i >> 8) & 255;
    rgb[3 * i + 2] = i & 255;
  }
  const { data } = await sharp(rgb, { raw: { width: N, height: N, channels: 3 } }).grayscale().raw().toBuffer({ resolveWithObject: true });
  const ours = srgbToGray({ data: rgb, width: N, height: N, channels: 3 }).data;
  let off = 0;
  for (let i = 0; i < ours.length; i++) {
    const d = Math.abs(ours[i]! - data[i]!);
    if (d > 1) assert.fail(`colour ${[...rgb.subarray(3 * i, 3 * i + 3)]}: ours ${ours[i]}, sharp ${data[i]}`);
    off += d;
  }
  assert.ok(off <= 40, `${off} colours off by one level (37 measured)`);
});

test('letterboxPixels equals the sharp letterbox Node detectors use, placement included', async () => {
  for (const [W, H, side, fraction] of [[640, 480, 128, 0.85], [640, 480, 256, 1], [250, 250, 256, 1 / 3], [1600, 1067, 256, 1], [90, 300, 128, 0.85], [60, 40, 256, 1]] as const) {
    const img = testImage(W, H, 3, W + H) as Pixels<3>;
    const js = letterboxPixels(img, side, side * fraction, [128, 128, 128]);
    const node = await letterbox(img, side, side * fraction, [128, 128, 128]);
    assert.deepEqual([js.left, js.top, js.sx, js.sy], [node.left, node.top, node.sx, node.sy]);
    assert.equal(maxDiff(js.view.data, node.view.data), 0, `${W}x${H} at ${side} x ${fraction}`);
  }
});
