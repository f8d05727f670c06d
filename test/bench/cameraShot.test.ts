import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cameraShot, SHOT_FILL } from '../../bench/cameraShot.js';
import type { FaceBox } from '../../src/faces/types.js';
import type { Pixels } from '../../src/pixels/pixels.js';

// bench/followFaces.ts measures following on frames made by cameraShot: its figures mean something
// only if the face lands where cameraShot says, at the size asked.

/** A blue photo with a red rectangle standing for the face. */
function photo(width: number, height: number, [x, y, w, h]: FaceBox): Pixels<3> {
  const data = new Uint8Array(width * height * 3);
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      const inFace = u >= x && u < x + w && v >= y && v < y + h;
      data.set(inFace ? [220, 20, 20] : [20, 20, 220], (v * width + u) * 3);
    }
  }
  return { data, width, height, channels: 3 };
}

const at = (p: Pixels<3>, u: number, v: number) => Array.from(p.data.subarray((v * p.width + u) * 3, (v * p.width + u) * 3 + 3));
/** The red pixels' bounding box in a frame. */
function redBox(p: Pixels<3>): FaceBox {
  let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
  for (let v = 0; v < p.height; v++) {
    for (let u = 0; u < p.width; u++) {
      const [r, , b] = at(p, u, v);
      if (r! > 150 && b! < 80) [x0, y0, x1, y1] = [Math.min(x0, u), Math.min(y0, v), Math.max(x1, u), Math.max(y1, v)];
    }
  }
  return [x0, y0, x1 - x0 + 1, y1 - y0 + 1];
}

describe('cameraShot', () => {
  it('puts the face box at the asked size and centre, the rest of the photo around it, gray beyond', async () => {
    const { frame, face } = await cameraShot(photo(400, 300, [100, 80, 60, 80]), [100, 80, 60, 80], { width: 640, height: 480, faceSide: 160, centre: [320, 240] });
    assert.deepEqual([frame.width, frame.height, frame.channels], [640, 480, 3]);
    // Scale 2: the 60x80 face is 120x160 centred at (320, 240).
    for (const [got, want] of face.map((g, i) => [g, [260, 160, 120, 160][i]!])) assert.ok(Math.abs(got! - want) <= 1, `face ${face}`);
    const red = redBox(frame);
    for (const [got, want] of red.map((g, i) => [g, face[i]!])) assert.ok(Math.abs(got! - want) <= 2, `red ${red} vs face ${face}`);
    // The photo's blue around the face, and the photo's edge (200 px left of the face at scale 2) then gray.
    assert.deepEqual(at(frame, 200, 240), [20, 20, 220]);
    assert.deepEqual(at(frame, 10, 240), [SHOT_FILL, SHOT_FILL, SHOT_FILL]);
  });

  it('crops what leaves the frame and shrinks a big photo', async () => {
    const { frame, face } = await cameraShot(photo(2000, 1500, [1500, 1000, 400, 300]), [1500, 1000, 400, 300], { width: 640, height: 480, faceSide: 100, centre: [600, 450] });
    // Scale 1/4: 100x75 centred at (600, 450), partly out of the frame on the right and bottom.
    for (const [got, want] of face.map((g, i) => [g, [550, 412.5, 100, 75][i]!])) assert.ok(Math.abs(got! - want) <= 1, `face ${face}`);
    const red = redBox(frame);
    assert.ok(Math.abs(red[0] - 550) <= 2 && Math.abs(red[1] - 413) <= 2, `red ${red}`);
    assert.equal(red[0] + red[2], 640, 'the face runs to the frame edge');
    await assert.rejects(cameraShot(photo(100, 100, [10, 10, 20, 20]), [10, 10, 20, 20], { width: 640, height: 480, faceSide: 40, centre: [-500, 240] }), /leaves nothing/);
  });
});
