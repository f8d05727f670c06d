import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { loadModel, type Classifier } from '../../src/predict/classifier.js';
import type { VideoRow } from '../../src/predict/predictVideo.js';
import { boxIoU } from '../../src/faces/geometry.js';
import { OptionError } from '../../src/base/errors.js';
import { tempDir } from '../../testkit/tempDir.js';
import { makeVideo } from '../../testkit/makeVideo.js';

// Video frames between whole-frame searches follow the faces of the last search (searchEvery):
// the same tracks, boxes and labels as searching every frame, and a face entering the scene is
// found at the next search.

let model: Classifier;
let moving: string;
let entering: string;

before(async () => {
  const dir = await tempDir('happysad-follow-');
  model = await loadModel(resolve('models/default'));
  // 3 s at 10 frames/s, 640x480: a 150 px face crossing the frame; then a second face entering at 1.3 s.
  moving = await makeVideo(join(dir, 'moving.mp4'), { width: 640, height: 480, fps: 10, frames: 30, faces: [{ photo: 'happy/Tom_Watson_0003.jpg', at: (i) => ({ left: 40 + i * 12, top: 100 + i * 3, size: 150 }) }] });
  entering = await makeVideo(join(dir, 'entering.mp4'), { width: 640, height: 480, fps: 10, frames: 30, faces: [
    { photo: 'happy/Tom_Watson_0003.jpg', at: () => ({ left: 40, top: 100, size: 150 }) },
    { photo: 'sad/Jayamadhuri_196.jpg', at: () => ({ left: 400, top: 200, size: 150 }), from: 13 },
  ] });
});
after(async () => {
  await model?.close();
});

async function rowsOf(file: string, options = {}): Promise<VideoRow[]> {
  const rows: VideoRow[] = [];
  for await (const row of model.predictVideo(file, { every: 0.2, ...options })) {
    assert.ok(!('error' in row), JSON.stringify(row));
    rows.push(row as VideoRow);
  }
  return rows;
}


test('a moving face followed between searches: the rows of searching every frame, boxes within a few pixels', async () => {
  const followed = await rowsOf(moving, { searchEvery: 1 });
  const searched = await rowsOf(moving, { searchEvery: 0 });
  assert.equal(followed.length, 15);
  assert.deepEqual(followed.map((r) => [r.time, r.track]), searched.map((r) => [r.time, r.track]));
  assert.ok(followed.at(-1)!.box![0] - followed[0]!.box![0] > 250, 'the face crossed the frame');
  for (const [i, r] of followed.entries()) {
    const s = searched[i]!;
    assert.ok(boxIoU(r.box!, s.box!) > 0.7, `at ${r.time} s: followed ${r.box} vs searched ${s.box}`);
    assert.equal(r.label, s.label, `at ${r.time} s`);
    assert.ok(Math.abs(r.score! - s.score!) < 0.15, `at ${r.time} s: p(happy) ${r.score} vs ${s.score}`);
  }
});

test('a face entering the scene is found at the next whole-frame search', async () => {
  const firstSeen = (rows: VideoRow[]) => rows.find((r) => r.track === 2)?.time;
  // Searches at 0, 1 and 2 s: the face that enters at 1.3 s waits for the one at 2 s.
  assert.equal(firstSeen(await rowsOf(entering, { searchEvery: 1 })), 2);
  assert.equal(firstSeen(await rowsOf(entering, { searchEvery: 0 })), 1.4);
  assert.equal(firstSeen(await rowsOf(entering, { searchEvery: 0.4 })), 1.6);
});

test('searchEvery must be 0 or more', async () => {
  await assert.rejects(rowsOf(moving, { searchEvery: -1 }), (err: unknown) => err instanceof OptionError && /searchEvery/.test(err.message));
});
