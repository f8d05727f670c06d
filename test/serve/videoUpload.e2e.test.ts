import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { tempDir } from '../../testkit/tempDir.js';
import { makeVideo } from '../../testkit/makeVideo.js';
import { startServer } from '../../testkit/serveFixtures.js';

// A short video posted to the server: its rows and a summary per person, computed in an inference
// thread from a private temporary file; long ones are refused with a pointer to the CLI.

let app: FastifyInstance;
let url: string;
let pair: Buffer;
let uploadRoot: string;

before(async () => {
  const dir = await tempDir();
  pair = await readFile(await makeVideo(join(dir, 'pair.mp4'), { width: 480, height: 240, fps: 10, frames: 30, faces: [
    { photo: 'happy/Azra_Akin_0003.jpg', at: () => ({ left: 20, top: 50, size: 150 }) },
    { photo: 'sad/Jayamadhuri_196.jpg', at: () => ({ left: 300, top: 50, size: 150 }) },
  ] }));
  uploadRoot = await tempDir('happysad-uploads-');
  ({ app, url } = await startServer({ model: resolve('models/default'), concurrency: 1, warmup: false, videoMaxSeconds: 5, uploadRoot }));
});
after(async () => {
  await app?.close();
});

test('POST a short video: its frame rows and one summary per track; its temporary file is gone after', async () => {
  // The server's private folder holds only its owner record between requests.
  const uploads = async () => {
    const [folder, ...others] = await readdir(uploadRoot);
    assert.deepEqual(others, [], 'one upload folder per server');
    return readdir(join(uploadRoot, folder!));
  };
  const before = await uploads();
  const res = await fetch(`${url}/v1/predict?every=1&smooth=2`, { method: 'POST', body: new Uint8Array(pair) });
  assert.equal(res.status, 200);
  const body = await res.json() as { results: { file: string; time: number; track: number; label: string; smoothed_score: number }[]; tracks: { track: number; frames: number; first: number; last: number }[] };
  assert.deepEqual(body.results.map((r) => r.time), [0, 0, 1, 1, 2, 2]);
  assert.ok(body.results.every((r) => r.file === 'upload' || r.file.length > 0));
  assert.ok(body.results.every((r) => typeof r.smoothed_score === 'number'));
  assert.deepEqual(body.tracks.map((t) => [t.frames, t.first, t.last]), [[3, 0, 2], [3, 0, 2]]);
  // The same video as a multipart file keeps its name.
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(pair)]), 'session-12.mp4');
  const named = await (await fetch(`${url}/v1/predict?every=1`, { method: 'POST', body: form })).json() as { results: { file: string }[] };
  assert.ok(named.results.every((r) => r.file === 'session-12.mp4'));
  assert.deepEqual(await uploads(), before, 'no temporary video left behind');
});

test('too long, damaged, or bad parameters: a clear JSON error', async () => {
  const strict = await startServer({ model: resolve('models/default'), concurrency: 1, warmup: false, videoMaxSeconds: 1 });
  try {
    const res = await fetch(`${strict.url}/v1/predict`, { method: 'POST', body: new Uint8Array(pair) });
    assert.equal(res.status, 413);
    const { error } = await res.json() as { error: { code: string; message: string } };
    assert.equal(error.code, 'video-too-large');
    assert.match(error.message, /3\.0 s is longer than this server takes \(1 s\); run longer videos with `happysad predict VIDEO`/);
  } finally {
    await strict.app.close();
  }
  // An MP4's first box and nothing ffmpeg can use after it: refused when probed.
  const header = Buffer.concat([pair.subarray(0, 32), Buffer.alloc(2000, 0x55)]);
  const cut = await fetch(`${url}/v1/predict`, { method: 'POST', body: new Uint8Array(header) });
  assert.equal(cut.status, 422);
  const { error } = (await cut.json()) as { error: { code: string; message: string } };
  assert.equal(error.code, 'video-corrupt');
  // Named as the client sent it; the server's paths are none of the client's business.
  assert.match(error.message, /^#0: ffmpeg finds no video stream in it/);
  assert.ok(!error.message.includes(uploadRoot) && !error.message.includes(tmpdir()) && !error.message.includes('.video'), error.message);
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(header)]), 'holiday.mp4');
  const named = (await (await fetch(`${url}/v1/predict`, { method: 'POST', body: form })).json()) as { error: { message: string } };
  assert.match(named.error.message, /^holiday\.mp4: ffmpeg finds no video stream in it/);
  assert.ok(!named.error.message.includes(uploadRoot), named.error.message);
  const bad = await fetch(`${url}/v1/predict?every=0`, { method: 'POST', body: new Uint8Array(pair) });
  assert.equal(bad.status, 400);
});
