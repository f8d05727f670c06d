import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { initEngine, tf } from '../../src/engine/engine.js';
import { blazeFaceModelFile } from '../../src/faces/blazeFace.js';
import { createBlazeFace, prepareBlazeNet, type BlazeFaceVariant, type BlazeNet } from '../../src/faces/blazeFaceCore.js';
import { letterbox } from '../../src/faces/letterbox.js';
import { decodeRgbImage } from '../../src/input/decodeImage.js';
import type { Pixels } from '../../src/pixels/pixels.js';

async function net(variant: BlazeFaceVariant): Promise<BlazeNet> {
  await initEngine();
  const file = blazeFaceModelFile(variant);
  const json = JSON.parse(await readFile(file, 'utf8'));
  const bytes = await readFile(file.replace(/\.json$/, '.bin'));
  const model = await tf.loadGraphModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: new Uint8Array(bytes).buffer }));
  return prepareBlazeNet(tf, model, file);
}

const gray = (side: number): Pixels<3> => ({ data: new Uint8Array(side * side * 3).fill(128), width: side, height: side, channels: 3 });

test('beside a close-up net, the full-range net is loaded only for the first image that needs it, and answers as if loaded up front', async () => {
  const [back, front] = [await net('back'), await net('front')];
  let loads = 0;
  let failNext = true;
  const loader = async () => {
    loads++;
    if (failNext) {
      failNext = false;
      throw new Error('disk hiccup');
    }
    return back;
  };
  const lazy = createBlazeFace({ tf, letterbox, net: loader, closeUp: front }, 'back');
  const eager = createBlazeFace({ tf, letterbox, net: back, closeUp: front }, 'back');

  // A portrait: the close-up net finds the big face, the full-range net is not needed.
  const portrait = await decodeRgbImage('examples/happy/Kristanna_Loken_0001.jpg');
  const found = await lazy.detect(portrait);
  assert.equal(found.length, 1);
  assert.deepEqual(found, await eager.detect(portrait));
  assert.equal(loads, 0);

  // No face for the close-up net: the full-range net is wanted. A failed load fails that image
  // only; the next one loads again, and later ones reuse the net.
  await assert.rejects(lazy.detect(gray(200)), /disk hiccup/);
  assert.deepEqual(await lazy.detect(gray(200)), await eager.detect(gray(200)));
  assert.deepEqual(await lazy.detect(gray(300)), []);
  assert.equal(loads, 2);

  // A small face in a wide frame: the close-up net sees no big face, the full-range net finds it.
  const { data, info } = await sharp('examples/happy/Kristanna_Loken_0001.jpg').resize(80, 80).extend({ top: 200, bottom: 200, left: 300, right: 300, background: '#808080' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const wide: Pixels<3> = { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 };
  const small = await lazy.detect(wide);
  assert.deepEqual(small, await eager.detect(wide));
  assert.equal(small.length, 1);
  assert.equal(loads, 2);
});
