import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import sharp from 'sharp';
import { loadModel } from '../../src/predict/classifier.js';

test('a photo larger than the face search gets its boxes in its own pixels', async () => {
  const model = await loadModel(resolve('models/default'));
  try {
    const photo = await readFile(resolve('examples/happy/Tom_Watson_0003.jpg'));
    const big = await sharp(photo).resize(2450, 2450).jpeg({ quality: 92 }).toBuffer(); // 7x: searched at 1600, i.e. shrunk
    const [small, large] = await model.predict([new Uint8Array(photo), new Uint8Array(big)]);
    const a = small!.faces![0]!.box;
    const b = large!.faces![0]!.box;
    for (let i = 0; i < 4; i++) assert.ok(Math.abs(b[i]! - 7 * a[i]!) <= 0.03 * 7 * a[2]!, `box ${b} vs 7 x ${a}`);
    assert.ok(b[0] + b[2] <= 2450 && b[1] + b[3] <= 2450);
  } finally {
    await model.close();
  }
});
