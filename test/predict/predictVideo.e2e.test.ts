import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadModel, type Classifier } from '../../src/predict/classifier.js';
import type { VideoErrorRow, VideoRow } from '../../src/predict/predictVideo.js';
import { tempDir } from '../../testkit/tempDir.js';
import { makeVideo } from '../../testkit/makeVideo.js';
import { runCli } from '../../testkit/runCli.js';
import { cliArgs } from '../../testkit/compiledCli.js';

// Videos end to end with Debian's ffmpeg: frames sampled at the right times, one track per person,
// a moving face keeping its track, a cut file giving its rows and then an error, and a clear error
// without ffmpeg.

let dir: string;
let model: Classifier;
let still: string;
let pair: string;
let moving: string;

before(async () => {
  dir = await tempDir('happysad-video-');
  model = await loadModel(resolve('models/default'));
  // 3 s at 10 frames/s, 320x240: one face still; two faces side by side; one face crossing the frame.
  still = await makeVideo(join(dir, 'still.mp4'), { width: 320, height: 240, fps: 10, frames: 30, faces: [{ photo: 'happy/Tom_Watson_0003.jpg', at: () => ({ left: 90, top: 40, size: 150 }) }] });
  pair = await makeVideo(join(dir, 'pair.mp4'), { width: 480, height: 240, fps: 10, frames: 30, faces: [
    { photo: 'happy/Azra_Akin_0003.jpg', at: () => ({ left: 20, top: 50, size: 150 }) },
    { photo: 'sad/Jayamadhuri_196.jpg', at: () => ({ left: 300, top: 50, size: 150 }) },
  ] });
  moving = await makeVideo(join(dir, 'moving.mp4'), { width: 480, height: 240, fps: 10, frames: 30, faces: [{ photo: 'happy/Tom_Watson_0003.jpg', at: (i) => ({ left: 10 + i * 10, top: 60, size: 120 }) }] });
});
after(async () => {
  await model?.close();
});

async function rowsOf(file: string, options = {}): Promise<(VideoRow | VideoErrorRow)[]> {
  const rows: (VideoRow | VideoErrorRow)[] = [];
  for await (const row of model.predictVideo(file, options)) rows.push(row);
  return rows;
}

test('a still face: rows at every 0.5 s, one track, labelled as the photo is', async () => {
  const rows = (await rowsOf(still, { every: 0.5 })) as VideoRow[];
  assert.deepEqual(rows.map((r) => r.time), [0, 0.5, 1, 1.5, 2, 2.5]);
  assert.deepEqual(rows.map((r) => r.frame), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(new Set(rows.map((r) => r.track)), new Set([1]));
  for (const r of rows) {
    assert.equal(r.label, 'happy');
    const [x, , w] = r.box!;
    assert.ok(x > 60 && x < 130 && w > 100 && w < 200, `box ${r.box}`);
  }
});

test('two faces side by side: two tracks, each keeping its side and its label', async () => {
  const rows = (await rowsOf(pair, { every: 0.3 })) as VideoRow[];
  const byTrack = new Map<number | undefined, VideoRow[]>();
  for (const r of rows) byTrack.set(r.track, [...(byTrack.get(r.track) ?? []), r]);
  assert.equal(byTrack.size, 2, JSON.stringify(rows.map((r) => [r.time, r.track, r.box])));
  for (const track of byTrack.values()) {
    assert.equal(track.length, 10, 'seen in every sampled frame');
    const left = track[0]!.box![0] < 240;
    assert.ok(track.every((r) => (r.box![0] < 240) === left), 'a track stays on its side');
    // Steady probabilities, not always a steady label: the sad photo sits on the neutral/sad line
    // (0.49/0.49), and the frames between whole-frame searches crop it from a box a few pixels off.
    for (const c of Object.keys(track[0]!.probabilities!)) {
      const ps = track.map((r) => r.probabilities![c]!);
      assert.ok(Math.max(...ps) - Math.min(...ps) < 0.1, `p(${c}) steady: ${ps.map((p) => p.toFixed(2))}`);
    }
    if (left) assert.ok(track.every((r) => r.label === 'happy'), 'the happy face stays happy');
  }
});

test('a face moving across the frame keeps its track; --smooth adds a moving average', async () => {
  const rows = (await rowsOf(moving, { every: 0.2, smooth: 0.6 })) as VideoRow[];
  assert.equal(rows.length, 15);
  assert.deepEqual(new Set(rows.map((r) => r.track)), new Set([1]));
  assert.ok(rows.at(-1)!.box![0] - rows[0]!.box![0] > 200, 'it moved');
  const third = rows[2]!;
  assert.ok(Math.abs(third.smoothed_score! - (rows[0]!.score! + rows[1]!.score! + third.score!) / 3) < 1e-12, 'mean of the last 0.6 s');
  for (const [i, row] of rows.entries()) {
    const window = rows.slice(Math.max(0, i - 2), i + 1);
    assert.ok(Math.abs(row.smoothed_score! - window.reduce((s, r) => s + r.score!, 0) / window.length) < 1e-12, `at ${row.time} s: the mean of the last 3 frames`);
  }
});

test('a cut video gives the rows it could read, then an error row; the CLI goes on and exits 1', async () => {
  const bytes = await readFile(moving);
  const cut = join(dir, 'cut.mp4');
  await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  const rows = await rowsOf(cut, { every: 0.2 });
  const last = rows.at(-1) as VideoErrorRow;
  assert.equal(last.error.code, 'video-corrupt');
  assert.match(last.error.message, /ffmpeg stopped after \d+ sampled frame/);
  assert.ok(rows.length > 2 && rows.length < 16, `${rows.length} rows before the error`);
  const r = runCli(['predict', cut, still, '--json', '--every', '1']);
  assert.equal(r.code, 1);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(lines.some((l) => l.error?.code === 'video-corrupt') && lines.filter((l) => l.file === still).length === 3, 'the other video is still done');
});

test('the CLI: videos found by content, a per-track table, CSV rows; without ffmpeg a clear error', async () => {
  const disguised = join(dir, 'clip.jpg');
  await copyFile(still, disguised);
  const table = runCli(['predict', disguised, '--every', '0.5']);
  assert.equal(table.code, 0, table.stderr);
  // The default model's classes, one % column each (happy, neutral, sad): the happy face is happy throughout.
  const { classes } = JSON.parse(await readFile('models/default/happysad.json', 'utf8')) as { classes: string[] };
  assert.match(table.stdout, new RegExp(`file\\s+track\\s+from s\\s+to s\\s+frames\\s+${classes.map((c) => `${c} %`).join('\\s+')}\\s+mean score\\s+median score`));
  assert.match(table.stdout, new RegExp(`clip\\.jpg\\s+1\\s+0\\.0\\s+2\\.5\\s+6\\s+${classes.map((c) => (c === 'happy' ? '100' : '0')).join('\\s+')}\\s`));
  const csv = runCli(['predict', pair, '--csv', '--every', '1']);
  const [head, ...lines] = csv.stdout.trim().split('\n');
  assert.equal(head, `file,time,frame,track,box,label,score,${classes.map((c) => `p_${c}`).join(',')},smoothed_score,error`);
  assert.equal(lines.length, 6);
  const none = runCli(['predict', still], { HAPPYSAD_FFMPEG: '/nonexistent/ffmpeg' });
  assert.equal(none.code, 1);
  assert.match(none.stdout + none.stderr, /HAPPYSAD_FFMPEG=\/nonexistent\/ffmpeg is not an executable file; videos are read with ffmpeg: install it \(Debian\/Ubuntu: apt-get install ffmpeg/);
});

test('--report: a self-contained page with a timeline, a face and a summary per track; other folders refused', async () => {
  const out = join(dir, 'report');
  const r = runCli(['predict', pair, '--every', '0.5', '--smooth', '1', '--report', out]);
  assert.equal(r.code, 0, r.stderr);
  const html = await readFile(join(out, 'report.html'), 'utf8');
  assert.equal((html.match(/<svg/g) ?? []).length, 2, 'one timeline per track');
  assert.equal((html.match(/<img src="data:image\/jpeg;base64,/g) ?? []).length, 2, 'one face per track, inline');
  assert.doesNotMatch(html, /<script|src="http/);
  const data = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
  assert.equal(data.format, 'happysad-video-report');
  assert.deepEqual(data.videos[0].tracks.map((t: { frames: number }) => t.frames), [6, 6]);
  // Run again: it replaces its own report; a folder of something else is refused before any work.
  assert.equal(runCli(['predict', pair, '--every', '1', '--report', out]).code, 0);
  const refused = runCli(['predict', pair, '--report', dir]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /is a folder that already holds .* and is not a happysad report; nothing was written/);
});

test('the library streams: stopping early ends ffmpeg and returns', async () => {
  const rows: VideoRow[] = [];
  for await (const row of model.predictVideo(moving, { every: 0.1 })) {
    rows.push(row as VideoRow);
    if (rows.length === 2) break;
  }
  assert.deepEqual(rows.map((r) => r.time), [0, 0.1]);
});

test('a video of one frame, or shorter than --every, still gives its first frame (t = 0)', async () => {
  // One frame at 25 frames/s: 0.04 s, shorter than the default 0.2 s interval.
  const one = await makeVideo(join(dir, 'one.mp4'), { width: 320, height: 240, fps: 25, frames: 1, faces: [{ photo: 'happy/Tom_Watson_0003.jpg', at: () => ({ left: 90, top: 40, size: 150 }) }] });
  const rows = (await rowsOf(one)) as VideoRow[];
  assert.deepEqual(rows.map((r) => [r.time, r.frame, r.label]), [[0, 0, 'happy']]);
  assert.deepEqual(((await rowsOf(still, { every: 10 })) as VideoRow[]).map((r) => [r.time, r.frame]), [[0, 0]]);
  const r = runCli(['predict', still, '--every', '10', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').length, 1);
  assert.match(r.stderr, /still\.mp4: 1 frame\(s\) sampled every 10 s/);
});

test('a file named like an ffmpeg URL (concat:a|b) is read as the file it is, never as other files', async () => {
  // In the run's folder: a 3 s video, and a 1 s video whose name would make ffmpeg concatenate two copies of the first.
  const cwd = await tempDir('happysad-video-names-');
  await copyFile(still, join(cwd, 'a.mp4'));
  const tricky = 'concat:a.mp4|a.mp4';
  await makeVideo(join(cwd, tricky), { width: 320, height: 240, fps: 10, frames: 10, faces: [] });
  const r = spawnSync(process.execPath, [...cliArgs(), 'predict', tricky, '--every', '0.5', '--json'], { cwd, encoding: 'utf8', timeout: 180_000 });
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as VideoRow);
  assert.deepEqual(rows.map((row) => [row.file, row.time, row.face]), [[tricky, 0, 'none-found'], [tricky, 0.5, 'none-found']], 'its own two gray frames, not 6 s of faces');
});
