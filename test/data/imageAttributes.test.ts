import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { Random } from '../../src/base/random.js';
import { estimateJpegQuality, GRAYSCALE_COLOURFULNESS, imageAttributes } from '../../src/data/imageAttributes.js';
import { faceLikeImage } from '../../testkit/makeImages.js';

/** Colourful noise: every pixel a random colour, so no row or column is flat and chroma is high. */
function noise(width: number, height: number, seed: number): Buffer {
  const r = new Random(seed);
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = r.int(256);
  return data;
}
const raw = (data: Buffer, width: number, height: number) => sharp(data, { raw: { width, height, channels: 3 } });
const near = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);

test('a gray photo is grayscale, a vivid one is not, and a colour figure on white is not either', async () => {
  const face = await faceLikeImage('sad', 1, 128, 'png');
  const gray = await imageAttributes(await sharp(face).grayscale().jpeg({ quality: 85 }).toBuffer(), 'jpeg');
  assert.equal(gray.grayscale, true);
  assert.ok(gray.colourfulness < 0.01, `gray colourfulness ${gray.colourfulness}`);

  const vivid = await imageAttributes(await raw(noise(96, 64, 1), 96, 64).png().toBuffer(), 'png');
  assert.equal(vivid.grayscale, false);
  assert.ok(vivid.colourfulness > 0.3, `vivid colourfulness ${vivid.colourfulness}`);

  // Clip-art: a coloured figure on 94% white. Its mean chroma is as low as a toned photo's, but it is a colour picture.
  const figure = await sharp({ create: { width: 100, height: 100, channels: 3, background: '#ffffff' } })
    .composite([{ input: await sharp({ create: { width: 20, height: 30, channels: 3, background: '#c06040' } }).png().toBuffer(), left: 40, top: 35 }])
    .png().toBuffer();
  const clipArt = await imageAttributes(figure, 'png');
  assert.ok(clipArt.colourfulness < GRAYSCALE_COLOURFULNESS, `clip-art mean chroma ${clipArt.colourfulness}`);
  assert.equal(clipArt.grayscale, false);
});

test('brightness and contrast are the mean and spread of luma; size and aspect follow EXIF orientation', async () => {
  const midGray = await imageAttributes(await sharp({ create: { width: 80, height: 40, channels: 3, background: '#808080' } }).png().toBuffer(), 'png');
  near(midGray.brightness, 128 / 255, 0.002, 'mid-gray brightness');
  near(midGray.contrast, 0, 0.002, 'flat contrast');
  // Left half black, right half white: luma 0 or 1 in equal parts (the seam blurs one column pair).
  const halves = Buffer.alloc(128 * 64 * 3);
  for (let y = 0; y < 64; y++) halves.fill(255, (y * 128 + 64) * 3, (y * 128 + 128) * 3);
  const split = await imageAttributes(await raw(halves, 128, 64).png().toBuffer(), 'png');
  near(split.brightness, 0.5, 0.01, 'half-white brightness');
  near(split.contrast, 0.5, 0.02, 'half-white contrast');
  // Pure red has Rec. 601 luma 0.299.
  const red = await imageAttributes(await sharp({ create: { width: 40, height: 40, channels: 3, background: '#ff0000' } }).png().toBuffer(), 'png');
  near(red.brightness, 0.299, 0.003, 'red luma');
  near(red.colourfulness, 1, 0.003, 'red chroma');

  // Stored 200x100, shown rotated a quarter turn (EXIF orientation 6): 100x200 as people see it.
  const rotated = await raw(noise(200, 100, 2), 200, 100).jpeg().withMetadata({ orientation: 6 }).toBuffer();
  const a = await imageAttributes(rotated, 'jpeg');
  assert.deepEqual([a.width, a.height, a.aspect], [100, 200, 0.5]);
});

test('borders: a letterbox, a pillarbox and a frame count as their share of the area; a full-bleed photo has none', async () => {
  // A band loses at most its innermost thumbnail row, where it blurs into the picture: 1/64 per band.
  const tolerance = 2.5 / 64;
  const boxed = async (width: number, height: number, inner: { left: number; top: number; width: number; height: number }, background = '#000000') =>
    imageAttributes(await sharp({ create: { width, height, channels: 3, background } })
      .composite([{ input: await raw(noise(inner.width, inner.height, 3), inner.width, inner.height).png().toBuffer(), left: inner.left, top: inner.top }])
      .jpeg({ quality: 90 }).toBuffer(), 'jpeg');
  const letterbox = await boxed(320, 240, { left: 0, top: 30, width: 320, height: 180 });
  near(letterbox.border, 60 / 240, tolerance, 'letterbox');
  const pillarbox = await boxed(300, 200, { left: 60, top: 0, width: 180, height: 200 }, '#ffffff');
  near(pillarbox.border, 120 / 300, tolerance, 'white pillarbox');
  const frame = await boxed(200, 200, { left: 20, top: 20, width: 160, height: 160 }, '#336699');
  near(frame.border, 1 - (160 * 160) / (200 * 200), 2 * tolerance, 'frame');
  const bleed = await imageAttributes(await raw(noise(200, 150, 4), 200, 150).jpeg().toBuffer(), 'jpeg');
  assert.equal(bleed.border, 0);
  // A picture with nothing in it is all border.
  const blank = await imageAttributes(await sharp({ create: { width: 50, height: 50, channels: 3, background: '#202020' } }).png().toBuffer(), 'png');
  assert.equal(blank.border, 1);
});

test('JPEG quality is read from the quantisation tables; other formats have none', async () => {
  const pixels = raw(noise(64, 48, 5), 64, 48);
  for (const quality of [50, 75, 90]) {
    const a = await imageAttributes(await pixels.clone().jpeg({ quality }).toBuffer(), 'jpeg');
    assert.ok(a.jpegQuality !== null && Math.abs(a.jpegQuality - quality) <= 5, `quality ${quality} estimated as ${a.jpegQuality}`);
  }
  assert.equal((await imageAttributes(await pixels.clone().png().toBuffer(), 'png')).jpegQuality, null);
  assert.equal((await imageAttributes(await pixels.clone().webp().toBuffer(), 'webp')).jpegQuality, null);

  // A hand-made file: fill bytes before a marker, an APP segment to skip, then one DQT segment with a
  // 16-bit table 0 (IJG's luminance table scaled for quality 30, in zigzag order).
  const natural = [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99];
  const zigzag = [0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63];
  const scale = Math.floor(5000 / 30);
  const table = zigzag.map((i) => Math.min(255, Math.max(1, Math.floor((natural[i] * scale + 50) / 100))));
  const dqt = Buffer.alloc(2 + 1 + 128);
  dqt.writeUInt16BE(dqt.length, 0);
  dqt[2] = 0x10;
  table.forEach((v, k) => dqt.writeUInt16BE(v, 3 + 2 * k));
  const app = Buffer.from([0xff, 0xe0, 0x00, 0x04, 0x00, 0x00]);
  const file = Buffer.concat([Buffer.from([0xff, 0xd8]), app, Buffer.from([0xff, 0xff, 0xdb]), dqt, Buffer.from([0xff, 0xd9])]);
  assert.equal(estimateJpegQuality(file), 30);
  // A segment running past the end of the file ends the walk without a table.
  assert.equal(estimateJpegQuality(Buffer.from([0xff, 0xd8, 0xff, 0xdb, 0x10, 0x00, 0x00])), null);
});

test('odd files do not throw: a cut-off JPEG keeps its header facts, random bytes give NaN', async () => {
  const jpeg = await raw(noise(120, 80, 6), 120, 80).jpeg({ quality: 75 }).toBuffer();
  const cut = await imageAttributes(jpeg.subarray(0, Math.floor(jpeg.length / 2)), 'jpeg');
  assert.deepEqual([cut.width, cut.height, cut.jpegQuality], [120, 80, 75]);
  const junk = await imageAttributes(noise(40, 40, 7), 'unknown');
  assert.equal(junk.format, 'unknown');
  assert.equal(junk.jpegQuality, null);
  for (const key of ['width', 'height', 'aspect', 'colourfulness', 'brightness', 'contrast', 'border'] as const) assert.ok(Number.isNaN(junk[key]), `${key}: ${junk[key]}`);
  assert.equal(junk.grayscale, false);
  const empty = await imageAttributes(new Uint8Array(0), 'unknown');
  assert.ok(Number.isNaN(empty.width));
});
