import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../../testkit/tempDir.js';
import { makeVideo } from '../../testkit/makeVideo.js';
import { ROOT, runCli } from '../../testkit/runCli.js';

// Videos through --out and --resume as photos go: a whole video per chunk, closed by its end row,
// so an interrupted run's half video is done again and merge keeps a video's rows together.

const photo = join(ROOT, 'examples', 'happy', 'Azra_Akin_0003.jpg');
let dir: string;
let clip: string;

before(async () => {
  dir = await tempDir('happysad-video-out-');
  clip = await makeVideo(join(dir, 'clip.mp4'), { width: 320, height: 240, fps: 10, frames: 20, faces: [{ photo: 'happy/Tom_Watson_0003.jpg', at: (i) => ({ left: 60 + 3 * i, top: 40, size: 150 }) }] });
});

const lines = async (file: string) => (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

test('a video and a photo go into one --out file; --resume skips both; a cut video is done again, whole', async () => {
  const out = join(dir, 'rows.jsonl');
  const first = runCli(['predict', clip, photo, '--out', out, '--every', '0.5']);
  assert.equal(first.code, 0, first.stderr);
  const rows = await lines(out);
  const videoRows = rows.filter((r) => r.file === clip);
  const stdout = runCli(['predict', clip, '--json', '--every', '0.5']).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(videoRows.length, stdout.length + 1, 'every --json row, then the end row');
  assert.deepEqual(videoRows.slice(0, -1).map(({ sha256: _s, model: _m, ...r }) => r), stdout, 'the same rows as --json, with provenance');
  assert.deepEqual(videoRows.at(-1), { file: clip, video: { frames: 4, every: 0.5 }, sha256: videoRows[0]!.sha256, model: videoRows[0]!.model });
  assert.match(String(videoRows[0]!.sha256), /^[0-9a-f]{64}$/);
  assert.ok(rows.some((r) => r.file === photo && r.label), 'the photo is there too');

  const again = runCli(['predict', clip, photo, '--out', out, '--every', '0.5', '--resume']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /already in .*rows\.jsonl, skipped/);
  assert.deepEqual(await lines(out), rows, 'nothing added');

  // An interrupted run: the file ends inside the video's chunk (its end row and one frame lost).
  const text = await readFile(out, 'utf8');
  const videoFirst = text.indexOf(JSON.stringify({ file: clip }).slice(0, -1));
  const endRow = text.lastIndexOf(`{"file":${JSON.stringify(clip)},"video"`);
  assert.ok(videoFirst >= 0 && endRow > videoFirst);
  await truncate(out, endRow - 40);
  const resumed = runCli(['predict', clip, photo, '--out', out, '--every', '0.5', '--resume']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const after = await lines(out);
  assert.equal(after.filter((r) => r.file === clip).length, videoRows.length, 'the cut video was dropped whole and done again');
  assert.deepEqual(after.filter((r) => r.file === clip).map(({ model: _m, ...r }) => r), videoRows.map(({ model: _m, ...r }) => r));
});

test('merge keeps a video\'s rows together: the same video in two files is one, a cut one is left out', async () => {
  const a = join(dir, 'a.jsonl');
  const b = join(dir, 'b.jsonl');
  assert.equal(runCli(['predict', clip, '--out', a, '--every', '0.5']).code, 0);
  assert.equal(runCli(['predict', clip, photo, '--out', b, '--every', '0.5']).code, 0);
  const merged = join(dir, 'merged.jsonl');
  const r = runCli(['merge', a, b, '--out', merged]);
  assert.equal(r.code, 0, r.stderr);
  const rows = await lines(merged);
  const ofClip = rows.filter((x) => x.file === clip);
  assert.equal(ofClip.length, (await lines(a)).length, 'one copy of the video: its frames and its end row');
  assert.deepEqual(ofClip.at(-1)!.video, { frames: 4, every: 0.5 });
  assert.equal(rows.filter((x) => x.file === photo).length, 1);

  // A results file whose video was cut (no end row) contributes nothing for it.
  const cut = join(dir, 'cut.jsonl');
  const text = await readFile(a, 'utf8');
  await writeFile(cut, text.slice(0, text.lastIndexOf('{"file"')));
  const merged2 = join(dir, 'merged2.jsonl');
  assert.equal(runCli(['merge', cut, '--out', merged2]).code, 0);
  assert.equal((await stat(merged2)).size, 0);
});

test('videos are refused, before any work, with a CSV --out, or with the queue beyond what a worker takes', () => {
  const csv = runCli(['predict', clip, '--out', join(dir, 'rows.csv')]);
  assert.equal(csv.code, 2);
  assert.match(csv.stderr, /do not fit a CSV results file's photo columns; give --out a \.jsonl file/);
  // Refused before Redis is reached (nothing listens on port 1).
  const long = runCli(['predict', clip, '--redis', 'redis://127.0.0.1:1', '--max-seconds', '100000']);
  assert.equal(long.code, 2);
  assert.match(long.stderr, /--max-seconds 100000: a queued video is read for at most 86400 s; lower it, or run the video here \(without --redis\)/);
  const big = runCli(['predict', clip, '--redis', 'redis://127.0.0.1:1', '--max-video-pixels', '40000000']);
  assert.equal(big.code, 2);
  assert.match(big.stderr, /--max-video-pixels 40000000: queued videos may have frames of at most 33177600 pixels/);
});
