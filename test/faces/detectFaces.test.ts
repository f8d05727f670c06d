import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { tf } from '../../src/engine/engine.js';
import { cropFace } from '../../src/faces/cropFace.js';
import { decodeRgbImage } from '../../src/input/decodeImage.js';
import { createFaceDetector, type FaceDetector } from '../../src/faces/detectFaces.js';
import { createFaceExpressionModel, FACE_EXPRESSIONS } from '../../bench/faceApiExpressionModel.js';
import { eyeLineAngle } from '../../src/faces/geometry.js';
import type { DetectedFace } from '../../src/faces/types.js';
import type { Pixels } from '../../src/pixels/pixels.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples');
const PHOTOS = ['happy', 'sad'].flatMap((label) => readdirSync(path.join(FIXTURES, label)).filter((f) => f.endsWith('.jpg')).sort().map((f) => path.join(FIXTURES, label, f)));

function assertPlausibleFace(face: DetectedFace, image: Pixels<3>, name: string): void {
  const [x, y, w, h] = face.box;
  assert.ok([x, y, w, h].every(Number.isInteger), `${name}: integer box ${face.box}`);
  assert.ok(x >= 0 && y >= 0 && x + w <= image.width && y + h <= image.height, `${name}: box ${face.box} inside ${image.width}x${image.height}`);
  assert.ok(face.score > 0 && face.score <= 1, `${name}: score ${face.score}`);
  // The example photos are tight portraits: one face, big and roughly central.
  const short = Math.min(image.width, image.height);
  assert.ok(w >= 0.4 * short && h >= 0.4 * short, `${name}: box ${face.box} too small for a ${image.width}x${image.height} portrait`);
  assert.ok(w <= 2 * h && h <= 2 * w, `${name}: box ${face.box} not face-shaped`);
  const [cx, cy] = [x + w / 2, y + h / 2];
  assert.ok(Math.abs(cx - image.width / 2) < 0.3 * image.width && Math.abs(cy - image.height / 2) < 0.3 * image.height, `${name}: box ${face.box} off-centre`);
}

function sorted(faces: DetectedFace[]): boolean {
  return faces.every((f, i) => i === 0 || f.score < faces[i - 1]!.score || (f.score === faces[i - 1]!.score && f.box[2] * f.box[3] <= faces[i - 1]!.box[2] * faces[i - 1]!.box[3]));
}

describe('createFaceDetector', () => {
  let photos: { name: string; image: Pixels<3> }[];
  let ssd: FaceDetector;
  let blaze: FaceDetector;
  
  before(async () => {
    assert.equal(PHOTOS.length, 6, `expected the six example photos in ${FIXTURES}`);
    photos = await Promise.all(PHOTOS.map(async (file) => ({ name: path.basename(file), image: await decodeRgbImage(file) })));
    ssd = await createFaceDetector({ detector: 'ssd', landmarks: true });
    blaze = await createFaceDetector({ landmarks: true });
  });

  it('defaults to BlazeFace at score 0.5 with context fallback; ssd and tiny keep 0.3', () => {
    assert.deepEqual(blaze.options, { detector: 'blazeface', minScore: 0.5, maxFaces: 20, landmarks: true, context: 'auto', inputSize: 416 });
    assert.deepEqual(ssd.options, { detector: 'ssd', minScore: 0.3, maxFaces: 20, landmarks: true, context: 'auto', inputSize: 416 });
  });

  for (const kind of ['blazeface', 'ssd'] as const) it(`finds one plausible face with eyes in each example photo (${kind})`, async () => {
    const detector = kind === 'ssd' ? ssd : blaze;
    const before = tf.memory().numTensors;
    for (const { name, image } of photos) {
      const faces = await detector.detect(image);
      assert.equal(faces.length, 1, `${name}: ${faces.length} faces`);
      assert.ok(faces.length >= 1, `${name}: no face`);
      assert.ok(sorted(faces), `${name}: not sorted`);
      const [face] = faces;
      assertPlausibleFace(face!, image, name);
      const { leftEye, rightEye } = face!.landmarks!;
      const [x, y, w, h] = face!.box;
      assert.ok(leftEye[0] < rightEye[0], `${name}: left eye ${leftEye} should be left of right eye ${rightEye}`);
      // Boxes are clipped to the image, keypoints are not: an eye cut by the frame (KatrinaKaif_92's
      // left one, at the image's edge) may be placed a few pixels beyond it.
      const slack = 0.05 * Math.max(w, h);
      for (const [ex, ey] of [leftEye, rightEye]) {
        assert.ok(ex >= x - slack && ex <= x + w + slack && ey >= y && ey <= y + 0.75 * h, `${name}: eye (${ex}, ${ey}) outside the upper face box ${face!.box}`);
      }
      assert.ok(Math.abs(eyeLineAngle(face!.landmarks!)) < (20 * Math.PI) / 180, `${name}: upright face, eye line ${eyeLineAngle(face!.landmarks!)} rad`);
    }
    assert.equal(tf.memory().numTensors, before, 'detect() leaked tensors');
  });

  it('finds a face in each example photo with the tiny detector', async () => {
    const tiny = await createFaceDetector({ detector: 'tiny' });
    for (const { name, image } of photos) {
      const faces = await tiny.detect(image);
      assert.ok(faces.length >= 1, `${name}: no face`);
      assertPlausibleFace(faces[0]!, image, name);
      assert.equal(faces[0]!.landmarks, undefined);
    }
  });

  it('finds no face in flat gray or noise', async () => {
    const gray: Pixels<3> = { data: new Uint8Array(320 * 240 * 3).fill(128), width: 320, height: 240, channels: 3 };
    // Fixed-seed LCG noise so the test sees the same image every run.
    let s = 12345;
    const noise: Pixels<3> = { data: Uint8Array.from({ length: 256 * 256 * 3 }, () => {
      s = (s * 1103515245 + 12345) >>> 0;
      return s >>> 24;
    }), width: 256, height: 256, channels: 3 };
    for (const detector of ['blazeface', 'ssd'] as const) {
      const always = await createFaceDetector({ detector, context: 'always' });
      for (const [name, image] of [['gray', gray], ['noise', noise]] as const) {
        assert.deepEqual(await always.detect(image), [], `${detector}: ${name}`);
      }
    }
  });

  for (const kind of ['blazeface', 'ssd'] as const) it(`measures the eye line of a tilted face with the right sign (${kind})`, async () => {
    const detector = kind === 'ssd' ? ssd : blaze;
    const file = PHOTOS.find((f) => f.endsWith('Kristanna_Loken_0001.jpg'))!;
    const angleAt = async (deg: number) => {
      const { data, info } = await sharp(file).toColourspace('srgb').rotate(deg, { background: '#808080' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const image: Pixels<3> = { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 };
      const [face] = await detector.detect(image);
      assert.ok(face?.landmarks, `no face with landmarks at ${deg} degrees`);
      return { image, face, deg: (eyeLineAngle(face.landmarks) * 180) / Math.PI };
    };
    const upright = await angleAt(0);
    // sharp turns positive angles clockwise, which lowers the right-hand eye.
    const cw = await angleAt(20);
    assert.ok(Math.abs(cw.deg - upright.deg - 20) < 8, `clockwise 20: measured ${cw.deg - upright.deg}`);
    const ccw = await angleAt(-20);
    assert.ok(Math.abs(ccw.deg - upright.deg + 20) < 8, `anticlockwise 20: measured ${ccw.deg - upright.deg}`);
    const crop = await cropFace(cw.image, cw.face, { margin: 0.25, align: true });
    assert.equal(crop.width, crop.height);
    assert.equal(crop.width, Math.round(Math.max(cw.face.box[2], cw.face.box[3]) * 1.5));
  });

  for (const kind of ['blazeface', 'ssd'] as const) it(`finds several faces in one image, best first, and honours maxFaces (${kind})`, async () => {
    // Three example photos side by side on gray: a group picture with known face positions.
    const cell = 500;
    const names = ['Azra_Akin_0003.jpg', 'Kristanna_Loken_0001.jpg', 'Jayamadhuri_196.jpg'];
    const tiles = await Promise.all(names.map((n) => sharp(PHOTOS.find((f) => f.endsWith(n))!).resize(250, 250, { fit: 'inside' }).toColourspace('srgb').png().toBuffer()));
    const { data, info } = await sharp({ create: { width: cell * 3, height: cell, channels: 3, background: { r: 128, g: 128, b: 128 } } })
      .composite(tiles.map((input, i) => ({ input, left: i * cell + 125, top: 125 })))
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const group: Pixels<3> = { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 };
    const faces = await (kind === 'ssd' ? ssd : blaze).detect(group);
    assert.equal(faces.length, 3, JSON.stringify(faces.map((f) => f.box)));
    assert.ok(sorted(faces));
    const cells = faces.map((f) => Math.floor((f.box[0] + f.box[2] / 2) / cell)).sort();
    assert.deepEqual(cells, [0, 1, 2], 'one face per photo');
    const two = await createFaceDetector({ detector: kind, maxFaces: 2, landmarks: true });
    assert.deepEqual((await two.detect(group)).map((f) => f.box), faces.slice(0, 2).map((f) => f.box));
  });

  it('rejects bad options and malformed images', async () => {
    await assert.rejects(createFaceDetector({ minScore: 1 }), /minScore/);
    await assert.rejects(createFaceDetector({ maxFaces: 0 }), /maxFaces/);
    await assert.rejects(createFaceDetector({ detector: 'mtcnn' as 'ssd' }), /detector must be one of blazeface, blazeface-front, ssd, tiny/);
    await assert.rejects(createFaceDetector({ detector: 'tiny', inputSize: 100 }), /inputSize/);
    await assert.rejects(ssd.detect({ data: new Uint8Array(5), width: 2, height: 2, channels: 3 }), RangeError);
    await assert.rejects(blaze.detect({ data: new Uint8Array(5), width: 2, height: 2, channels: 3 }), RangeError);
  });

  it('runs the face-api expression model on a detected face', async () => {
    const model = await createFaceExpressionModel();
    const { image } = photos.find((p) => p.name === 'Azra_Akin_0003.jpg')!;
    const [face] = await ssd.detect(image);
    const scores = await model.predictFace(image, face!);
    assert.deepEqual(Object.keys(scores), [...FACE_EXPRESSIONS]);
    const total = Object.values(scores).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(total - 1) < 1e-4, `softmax sums to ${total}`);
    assert.ok(scores.happy > 0.5, `a broad smile should read happy, got ${JSON.stringify(scores)}`);
  });
});
