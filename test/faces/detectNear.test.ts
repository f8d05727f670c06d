import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import path from 'node:path';
import sharp from 'sharp';
import { createFaceDetector, type FaceDetector } from '../../src/faces/detectFaces.js';
import { boxIoU } from '../../src/faces/geometry.js';
import type { DetectedFace } from '../../src/faces/types.js';
import type { Pixels } from '../../src/pixels/pixels.js';
import { ROOT } from '../../testkit/runCli.js';

// Following a face from an earlier video frame: found again around where it was, with the box and
// eyes a whole-frame search gives, and given up (null) when it is not there.

/** A 640x480 gray frame with an example photo pasted as a `size` px square at (left, top). */
async function frame(photo: string, placed: { left: number; top: number; size: number }[]): Promise<Pixels<3>> {
  const face = (size: number) => sharp(path.join(ROOT, 'examples', photo)).resize(size, size).toBuffer();
  const layers = await Promise.all(placed.map(async (p) => ({ input: await face(p.size), left: Math.round(p.left), top: Math.round(p.top) })));
  const data = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 120, g: 124, b: 128 } } }).composite(layers).removeAlpha().raw().toBuffer();
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: 640, height: 480, channels: 3 };
}

const eyeGap = (a: DetectedFace, b: DetectedFace) => Math.max(...(['leftEye', 'rightEye'] as const).flatMap((e) => [0, 1].map((k) => Math.abs(a.landmarks![e][k] - b.landmarks![e][k]))));

describe('FaceDetector.detectNear', () => {
  let blaze: FaceDetector;
  before(async () => {
    blaze = await createFaceDetector({ landmarks: true });
  });

  for (const size of [150, 300]) it(`finds a ${size} px face that moved, as a whole-frame search does`, async () => {
    const before = (await blaze.detect(await frame('happy/Tom_Watson_0003.jpg', [{ left: 150, top: 80, size }])))[0]!;
    assert.ok(before, 'the face is found in the first frame');
    const moved = await frame('happy/Tom_Watson_0003.jpg', [{ left: 150 + size / 6, top: 80 + size / 12, size }]);
    const whole = (await blaze.detect(moved))[0]!;
    const near = await blaze.detectNear!(moved, [before.box]);
    assert.ok(near, 'found near where it was');
    assert.equal(near.length, 1);
    assert.ok(boxIoU(near[0]!.box, whole.box) > 0.75, `near ${near[0]!.box} vs whole-frame ${whole.box}`);
    assert.ok(boxIoU(near[0]!.box, before.box) < 0.95, 'the box followed the face');
    assert.ok(eyeGap(near[0]!, whole) < 0.06 * size, `eyes within ${(0.06 * size).toFixed(0)} px of the whole-frame search's`);
  });

  it('gives up when a face it follows is gone, or jumped out of its region', async () => {
    const first = (await blaze.detect(await frame('happy/Tom_Watson_0003.jpg', [{ left: 40, top: 80, size: 150 }])))[0]!;
    const empty = await frame('happy/Tom_Watson_0003.jpg', []);
    assert.equal(await blaze.detectNear!(empty, [first.box]), null);
    const jumped = await frame('happy/Tom_Watson_0003.jpg', [{ left: 450, top: 250, size: 150 }]);
    assert.equal(await blaze.detectNear!(jumped, [first.box]), null);
    // Two faces followed, one gone: the whole frame must be searched again.
    const two = await blaze.detect(await frame('happy/Tom_Watson_0003.jpg', [{ left: 40, top: 80, size: 150 }, { left: 400, top: 200, size: 150 }]));
    assert.equal(two.length, 2);
    const one = await frame('happy/Tom_Watson_0003.jpg', [{ left: 40, top: 80, size: 150 }]);
    assert.equal(await blaze.detectNear!(one, two.map((f) => f.box)), null);
  });

  it('is not offered by the detectors without a short-range net', async () => {
    const ssd = await createFaceDetector({ detector: 'ssd' });
    assert.equal(ssd.detectNear, undefined);
    const noContext = await createFaceDetector({ context: 'never' });
    const image = await frame('happy/Tom_Watson_0003.jpg', [{ left: 150, top: 80, size: 300 }]);
    assert.equal(await noContext.detectNear!(image, [[150, 80, 300, 300]]), null);
  });
});
