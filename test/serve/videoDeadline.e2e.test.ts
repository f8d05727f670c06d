import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tempDir } from '../../testkit/tempDir.js';
import { waitFor } from '../../testkit/runCli.js';
import { examplePhoto, startServer } from '../../testkit/serveFixtures.js';

// A posted video cannot hold the server: frames over the video limit and more sampled frames than
// the cap are refused before any is decoded, a request's deadline stops the video in its inference
// thread (ffmpeg killed, slot free), and videos take one slot at most, leaving the others to photos.

let dir: string;

/** A synthetic video from ffmpeg's test source (no faces needed: every frame is searched all the same). */
function lavfi(name: string, size: string, rate: number, seconds: number, codec: string[]): Promise<Buffer> {
  const out = join(dir, name);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=${rate}`, '-t', String(seconds), ...codec, out]);
  return readFile(out);
}
const h264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '35', '-pix_fmt', 'yuv420p'];

before(async () => {
  dir = await tempDir('happysad-video-deadline-');
});

/** ffmpeg processes started by this process (the inference threads' ffmpeg are its children). */
function ffmpegChildren(): string[] {
  try {
    return execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' }).split('\n').filter((l) => l.includes('ffmpeg'));
  } catch {
    return [];
  }
}

test('frames over the video limit, or more sampled frames than the cap: 413 at once, naming what to change', async () => {
  // 4500x2200 = 9.9 MP: over the CLI's 4096x2160, far under the image limit the server used to apply.
  const big = await lavfi('big.avi', '4500x2200', 2, 1, ['-c:v', 'mjpeg', '-q:v', '20']);
  const short = await lavfi('short.mp4', '320x240', 10, 3, h264);
  const { app, url } = await startServer({ model: resolve('models/default'), concurrency: 1, warmup: false, timeoutMs: 20_000, videoMaxFrames: 10, uploadRoot: dir });
  try {
    const started = performance.now();
    const res = await fetch(`${url}/v1/predict`, { method: 'POST', body: new Uint8Array(big) });
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(res.status, 413, error.message);
    assert.equal(error.code, 'video-too-large');
    assert.match(error.message, /^#0: frames of 4500x2200 are more than 8847360 pixels \(--max-video-pixels\); shrink the video first .*serve --max-video-pixels/);
    assert.ok(performance.now() - started < 5000, 'refused from the header, not after decoding');
    const fine = await fetch(`${url}/v1/predict?every=1`, { method: 'POST', body: new Uint8Array(short) });
    assert.equal(fine.status, 200, 'three frames are within the cap');
    const many = await fetch(`${url}/v1/predict?every=0.1`, { method: 'POST', body: new Uint8Array(short) });
    const refused = (await many.json()) as { error: { code: string; message: string } };
    assert.equal(many.status, 413, refused.error.message);
    assert.match(refused.error.message, /\?every=0\.1 samples 30 frames of this 3\.0 s video; this server samples at most 10 per video: use \?every=0\.3 or more/);
  } finally {
    await app.close();
  }
});

test('the deadline stops a video in its thread and frees the slot; videos take one slot, photos keep the other', async () => {
  // 300 frames of 1280x720 at ?every=0.1: far more work than the 3 s timeout allows.
  const long = await lavfi('long.mp4', '1280x720', 10, 30, h264);
  const { app, url } = await startServer({ model: resolve('models/default'), concurrency: 2, warmup: true, timeoutMs: 3000, uploadRoot: dir });
  const active = async () => ((await (await fetch(`${url}/healthz`)).json()) as { queue: { active: number } }).queue.active;
  try {
    const videos = [0, 1].map(() => fetch(`${url}/v1/predict?every=0.1`, { method: 'POST', body: new Uint8Array(long) }));
    await waitFor('a video running', async () => (await active()) >= 1, 10_000);
    // Both videos are in; a photo still finds a free slot.
    await new Promise((r) => setTimeout(r, 300));
    const photo = await fetch(`${url}/v1/predict`, { method: 'POST', body: await examplePhoto('happy', 'Azra_Akin_0003.jpg') });
    assert.equal(photo.status, 200, await photo.clone().text());
    const answers = await Promise.all(videos);
    for (const answer of answers) {
      assert.equal(answer.status, 503);
      assert.equal(((await answer.json()) as { error: { code: string } }).error.code, 'timeout');
    }
    const ended = performance.now();
    // Within the thread's grace period at worst; a frame or two in practice.
    await waitFor('the inference slots freed', async () => (await active()) === 0, 8000);
    assert.ok(performance.now() - ended < 8000);
    await waitFor('ffmpeg ended', () => ffmpegChildren().length === 0, 3000);
    // The slot works again.
    const again = await fetch(`${url}/v1/predict`, { method: 'POST', body: await examplePhoto('sad', 'Avinash_13.jpg') });
    assert.equal(again.status, 200);
  } finally {
    await app.close();
  }
});

test('a client that goes away stops its video: ffmpeg ends and the slot is freed long before the video would', async () => {
  const long = await lavfi('long2.mp4', '1280x720', 10, 30, h264);
  const { app, url } = await startServer({ model: resolve('models/default'), concurrency: 1, warmup: false, timeoutMs: 120_000, uploadRoot: dir });
  const active = async () => ((await (await fetch(`${url}/healthz`)).json()) as { queue: { active: number } }).queue.active;
  try {
    const client = new AbortController();
    const request = fetch(`${url}/v1/predict?every=0.1`, { method: 'POST', body: new Uint8Array(long), signal: client.signal }).catch(() => 'gone');
    await waitFor('the video running', async () => (await active()) === 1 && ffmpegChildren().length > 0, 30_000);
    client.abort();
    assert.equal(await request, 'gone');
    await waitFor('the slot freed', async () => (await active()) === 0, 8000);
    await waitFor('ffmpeg ended', () => ffmpegChildren().length === 0, 3000);
  } finally {
    await app.close();
  }
});
