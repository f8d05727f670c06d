import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeFullImage, decodeImage } from '../../src/input/decodeImage.js';
import { rgbToModelInput } from '../../src/input/modelInput.js';
import { defaultPreprocessSpec } from '../../src/input/preprocessSpec.js';
import { resizeInside } from '../../src/pixels/resizePixels.js';
import { FACES_DIR } from '../../testkit/serveFixtures.js';

// Every new model decodes files whole and resizes by the portable definition, so a browser (which
// cannot shrink a JPEG while decoding it) computes the same input; Node's faster route must give
// those bytes exactly.

async function photos(): Promise<Buffer[]> {
  const tom = await readFile(join(FACES_DIR, 'happy', 'Tom_Watson_0003.jpg'));
  return [
    tom,
    await readFile(join(FACES_DIR, 'sad', 'KatrinaKaif_92.jpg')),
    // Big enough for sharp to shrink it 4x while decoding on the old route.
    await sharp(tom).resize(1400, 1000).jpeg({ quality: 90 }).toBuffer(),
    await sharp(tom).resize(333, 500).png().toBuffer(),
  ];
}

test('decodeImage of a new model gives rgbToModelInput\'s bytes on the fully decoded image, RGB and gray', async () => {
  for (const shape of [[128, 128, 3], [48, 48, 1], [256, 256, 3]] as const) {
    const spec = defaultPreprocessSpec([...shape]);
    assert.equal(spec.decodeFullSize, true);
    for (const [i, bytes] of (await photos()).entries()) {
      const ours = await decodeImage(bytes, spec);
      const definition = rgbToModelInput(await decodeFullImage(bytes, spec, undefined, Infinity), spec);
      assert.deepEqual([ours.width, ours.height, ours.channels], [shape[1], shape[0], shape[2]]);
      assert.ok(Buffer.from(ours.data).equals(Buffer.from(definition.data)), `photo ${i} at ${shape.join('x')}`);
    }
  }
});

test('a bundle without decodeFullSize keeps the old decoding (sharp shrinks big JPEGs while decoding)', async () => {
  const big = (await photos())[2]!;
  const spec = { ...defaultPreprocessSpec([128, 128, 3]), decodeFullSize: undefined };
  const legacy = await decodeImage(big, spec);
  const definition = rgbToModelInput(await decodeFullImage(big, spec, undefined, Infinity), spec);
  assert.ok(!Buffer.from(legacy.data).equals(Buffer.from(definition.data)), 'shrink-on-load gives other pixels, which old models were trained on');
});

test('the face search bound: a 5000-pixel JPEG decoded whole, then shrunk as resizeInside does', async () => {
  const huge = await sharp(await readFile(join(FACES_DIR, 'happy', 'Tom_Watson_0003.jpg'))).resize(5000, 3400).jpeg({ quality: 85 }).toBuffer();
  const spec = defaultPreprocessSpec([48, 48, 1]);
  const bounded = await decodeFullImage(huge, spec, undefined, 1600);
  const whole = await decodeFullImage(huge, spec, undefined, Infinity);
  const expected = resizeInside(whole, 1600, 1600);
  assert.deepEqual([bounded.width, bounded.height], [expected.width, expected.height]);
  assert.ok(Buffer.from(bounded.data).equals(Buffer.from(expected.data)));
});
