import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_FACE_CROP } from '../../src/faces/faceCropDefaults.js';
import { defaultPreprocessSpec } from '../../src/input/preprocessSpec.js';
import { loadModel, type Classifier } from '../../src/predict/classifier.js';
import type { VideoErrorRow, VideoRow } from '../../src/predict/predictVideo.js';
import { TrackSummaries } from '../../src/predict/trackSummary.js';
import { buildVideoReportData, renderVideoReportHtml, trackTimelineSpec } from '../../src/report/videoReport.js';
import { makeVideo } from '../../testkit/makeVideo.js';
import { runCli } from '../../testkit/runCli.js';
import { tempDir } from '../../testkit/tempDir.js';
import { THREE_CLASSES, threeClassModelDir } from '../../testkit/threeClassModel.js';

// Video timelines with three states: a face whose brightness rises through the clip is sad, then
// neutral, then happy to the 3-class test model (it reads brightness). Smoothing averages every
// class's probability and labels the means by the model's rule; forced choice never says neutral.

let dir: string;
let modelDir: string;
let model: Classifier;
let video: string;
const near = (a: number, b: number) => Math.abs(a - b) < 1e-9;

before(async () => {
  dir = await tempDir('happysad-3state-');
  modelDir = await threeClassModelDir({ name: 'three-state-faces', preprocessing: { ...defaultPreprocessSpec([8, 8, 1]), faces: DEFAULT_FACE_CROP } });
  model = await loadModel(modelDir);
  video = await makeVideo(join(dir, 'rising.mp4'), { width: 320, height: 240, fps: 10, frames: 30, faces: [{ photo: 'happy/Tom_Watson_0003.jpg', at: () => ({ left: 90, top: 40, size: 150 }), brightness: (i) => 0.5 + i / 20 }] });
});
after(async () => {
  await model?.close();
});

async function rowsOf(options = {}): Promise<VideoRow[]> {
  const rows: (VideoRow | VideoErrorRow)[] = [];
  for await (const row of model.predictVideo(video, options)) rows.push(row);
  assert.ok(rows.every((r) => !('error' in r)), JSON.stringify(rows.at(-1)));
  return rows as VideoRow[];
}

test('--smooth averages each class\'s probability over the window and labels the means by the model\'s rule', async () => {
  const rows = await rowsOf({ every: 0.2, smooth: 0.6 });
  assert.equal(rows.length, 15);
  assert.deepEqual(new Set(rows.map((r) => r.label)), new Set(THREE_CLASSES), 'sad, neutral and happy all occur');
  for (const [i, row] of rows.entries()) {
    const window = rows.slice(Math.max(0, i - 2), i + 1);
    const mean = THREE_CLASSES.map((c) => window.reduce((s, r) => s + r.probabilities![c]!, 0) / window.length);
    THREE_CLASSES.forEach((c, k) => assert.ok(near(row.smoothed_probabilities![c]!, mean[k]!), `${c} at ${row.time} s`));
    assert.ok(near(row.smoothed_score!, mean[0]!), 'smoothed_score is the smoothed p(happy)');
    assert.equal(row.smoothed_label, THREE_CLASSES[mean.indexOf(Math.max(...mean))], `the most probable class on average at ${row.time} s`);
  }
  assert.ok(rows.some((r) => r.smoothed_label !== r.label), 'the smoothed label lags the frame\'s where the face changes');
});

test('forced choice: happy or sad in every frame and after smoothing, from the pair\'s renormalised probabilities', async () => {
  const own = await rowsOf({ every: 0.2 });
  const forced = await rowsOf({ every: 0.2, smooth: 0.6, forcedChoice: true });
  assert.equal(forced.length, own.length);
  for (const [i, row] of forced.entries()) {
    const p = own[i]!.probabilities!;
    assert.ok(near(row.score!, p.happy! / (p.happy! + p.sad!)), `frame ${row.frame}`);
    assert.equal(row.probabilities!.neutral, 0);
    assert.equal(row.label, row.score! >= 0.5 ? 'happy' : 'sad');
    assert.notEqual(row.smoothed_label, 'neutral');
    assert.equal(row.smoothed_label, row.smoothed_score! >= 0.5 ? 'happy' : 'sad');
  }
  assert.deepEqual(new Set(forced.map((r) => r.label)), new Set(['happy', 'sad']));
});

test('track summaries and the report: a share of frames for each of the model\'s classes; the chart draws every class', async () => {
  const rows = await rowsOf({ every: 0.2, smooth: 0.6 });
  const summaries = new TrackSummaries(THREE_CLASSES);
  for (const r of rows) summaries.add(r);
  const [t] = summaries.summaries();
  assert.deepEqual(Object.keys(t!.share), THREE_CLASSES);
  for (const c of THREE_CLASSES) assert.equal(t!.share[c], rows.filter((r) => r.label === c).length / rows.length, c);
  assert.ok(t!.share.neutral! > 0);
  const data = buildVideoReportData({ metadata: model.metadata, videos: [{ file: video, rows }], every: 0.2, smooth: 0.6 });
  const spec = trackTimelineSpec(rows, data, 'Track 1') as unknown as { layer: { data: { values: { class?: string; label?: string }[] } }[] };
  assert.equal(spec.layer.length, 3, 'label bands, raw probabilities, moving averages');
  assert.deepEqual(new Set(spec.layer[1]!.data.values.map((v) => v.class)), new Set(THREE_CLASSES), 'a line per class');
  assert.deepEqual(new Set(spec.layer[0]!.data.values.map((v) => v.label)), new Set(rows.map((r) => r.smoothed_label)), 'bands by the smoothed label');
  const html = await renderVideoReportHtml(data);
  assert.match(html, /each class's probability \(happy, neutral, sad\)/);
  assert.match(html, /<th>neutral<\/th>/);
});

test('the CLI: a % column per class, CSV with the smoothed label and probabilities, --forced-choice in JSON and the report', async () => {
  const table = runCli(['predict', video, '--model', modelDir, '--every', '0.2', '--workers', '1']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /track\s+from s\s+to s\s+frames\s+happy %\s+neutral %\s+sad %\s+mean score/);
  const csv = runCli(['predict', video, '--model', modelDir, '--every', '0.5', '--smooth', '1', '--csv', '--workers', '1']);
  const [head, ...lines] = csv.stdout.trim().split('\n');
  assert.equal(head, 'file,time,frame,track,box,label,score,p_happy,p_neutral,p_sad,smoothed_score,smoothed_label,smoothed_p_happy,smoothed_p_neutral,smoothed_p_sad,error');
  assert.equal(lines.length, 6);
  assert.ok(lines.every((l) => /,(happy|neutral|sad),[\d.]+,[\d.]+,[\d.]+,$/.test(l)), lines.join('\n'));
  const plain = runCli(['predict', video, '--model', modelDir, '--every', '0.5', '--csv', '--workers', '1']);
  assert.equal(plain.stdout.split('\n')[0], 'file,time,frame,track,box,label,score,p_happy,p_neutral,p_sad,smoothed_score,error', 'without --smooth the columns are as before');
  const report = join(dir, 'report');
  const forced = runCli(['predict', video, '--model', modelDir, '--every', '0.5', '--forced-choice', '--json', '--report', report, '--workers', '1']);
  assert.equal(forced.code, 0, forced.stderr);
  const rows = forced.stdout.trim().split('\n').map((l) => JSON.parse(l) as VideoRow);
  assert.ok(rows.length === 6 && rows.every((r) => r.label !== 'neutral' && r.probabilities!.neutral === 0), forced.stdout);
  const data = JSON.parse(await readFile(join(report, 'report.json'), 'utf8')) as { model: { forcedChoice?: { between: string[] }; threshold: number }; videos: { tracks: { share: Record<string, number> }[] }[] };
  assert.deepEqual(Object.keys(data.videos[0]!.tracks[0]!.share), THREE_CLASSES);
  assert.equal(data.videos[0]!.tracks[0]!.share.neutral, 0);
  assert.deepEqual(data.model.forcedChoice, { between: ['happy', 'sad'] }, 'the report says the answers were forced');
  assert.match(await readFile(join(report, 'report.html'), 'utf8'), /forced choice between happy and sad: p\(happy\) per sampled frame/);
});
