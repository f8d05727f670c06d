import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import sharp from 'sharp';
import { computeMetrics } from '../../src/evaluate/computeMetrics.js';
import { rocCurve } from '../../src/evaluate/curves.js';
import type { EvaluatedImage, EvaluateResult } from '../../src/evaluate/evaluate.js';
import { DEFAULT_FACE_CROP } from '../../src/faces/faceCropper.js';
import { defaultPreprocessSpec } from '../../src/input/preprocessSpec.js';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, type BundleMetadata } from '../../src/model/bundleMetadata.js';
import { buildEvaluationReportData, describePreprocessing, renderEvaluationReportHtml } from '../../src/report/evaluationReport.js';
import { writeBytes } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';

const CLASSES = ['happy', 'sad'];

function metadata(threshold = 0.5): BundleMetadata {
  return {
    format: BUNDLE_FORMAT, formatVersion: BUNDLE_FORMAT_VERSION, name: 'm', arch: 'face-48', classes: CLASSES, output: 'sigmoid', positiveClass: 'happy', threshold,
    preprocessing: { ...defaultPreprocessSpec([48, 48, 1]), testTimeFlip: true, faces: { ...DEFAULT_FACE_CROP, wholeImageMaxSide: 96 } },
    seed: null, training: null, dataset: { root: 'fer', layout: 'split', fingerprint: { count: 10, sha256: 'ab'.repeat(32) }, counts: {}, skipped: 0 }, metrics: null, versions: {}, createdAt: '2026-01-02T03:04:05.000Z',
    members: [{ seed: 1 }, { seed: 2 }] as BundleMetadata['members'],
  };
}

/** An evaluation as evaluate() returns it, made up: rows decide everything the report shows. */
function result(rows: EvaluatedImage[], root = '/nowhere', threshold = 0.5): EvaluateResult {
  const report = computeMetrics({
    classes: CLASSES, positiveClass: 'happy', threshold,
    truth: rows.map((r) => CLASSES.indexOf(r.truth)),
    predicted: rows.map((r) => CLASSES.indexOf(r.label)),
    probabilities: rows.flatMap((r) => [r.score, 1 - r.score]),
  });
  return { report, split: 'all', skipped: [], checked: { files: rows.length, nearDuplicateProblems: [] }, rows, dataset: { root, layout: 'class-folders', fingerprint: { count: rows.length, sha256: 'cd'.repeat(32) } } };
}

const row = (file: string, truth: string, score: number, box?: [number, number, number, number]): EvaluatedImage => ({ file, truth, label: score >= 0.5 ? 'happy' : 'sad', score, probabilities: [score, 1 - score], ...(box ? { box } : {}) });

test('the report data: curves from the scores, mistakes surest first, both fingerprints', () => {
  const rows = [row('happy/a.jpg', 'happy', 0.9), row('happy/b.jpg', 'happy', 0.2, [1, 2, 3, 4]), row('sad/c.jpg', 'sad', 0.6), row('sad/d.jpg', 'sad', 0.1), row('sad/e.jpg', 'sad', 0.95)];
  const data = buildEvaluationReportData(result(rows), { metadata: metadata(), dir: 'models/m' }, { mistakes: 2 }, new Date('2026-02-03T00:00:00Z'));
  assert.equal(data.format, 'happysad-evaluation-report');
  assert.equal(data.createdAt, '2026-02-03T00:00:00.000Z');
  assert.deepEqual(data.curves.roc, rocCurve(rows.map((r) => r.truth === 'happy'), rows.map((r) => r.score)));
  assert.deepEqual(data.curves.operatingPoint, { threshold: 0.5, fpr: 2 / 3, tpr: 0.5, precision: 1 / 3 });
  assert.deepEqual(data.mistakes.map((m) => m.file), ['sad/e.jpg', 'happy/b.jpg']);
  assert.deepEqual(data.mistakes[1].box, [1, 2, 3, 4]);
  assert.equal(data.images.length, 5);
  assert.equal(data.model.path, join(process.cwd(), 'models/m'));
  assert.deepEqual(data.model.memberSeeds, [1, 2]);
  assert.deepEqual(data.model.trainedOn, { root: 'fer', count: 10, sha256: 'ab'.repeat(32) });
  assert.deepEqual({ count: data.data.count, sha256: data.data.sha256, path: data.data.path }, { count: 5, sha256: 'cd'.repeat(32), path: '/nowhere' });
  assert.equal(describePreprocessing(metadata().preprocessing), '48×48 grayscale · resize fill (linear) · pixels × 1/255 · test-time flip · faces: blazeface, margin 0.2, eyes levelled, min score 0.5, images ≤ 96 px taken as crops');
  // Data only: it survives JSON unchanged (no Infinity, undefined or class instances).
  assert.deepEqual(JSON.parse(JSON.stringify(data)), data);
});

test('the page: a thumbnail per mistake with the face boxed, a placeholder for a file gone', async () => {
  const root = await tempDir();
  // A grey photo with a white square where the "face" is: the thumbnail must draw the box over it.
  await writeBytes(join(root, 'sad', 'e.jpg'), await sharp({ create: { width: 400, height: 200, channels: 3, background: '#808080' } }).jpeg().toBuffer());
  const rows = [row('sad/e.jpg', 'sad', 0.95, [100, 50, 100, 100]), row('happy/gone.jpg', 'happy', 0.05), row('happy/a.jpg', 'happy', 0.9), row('sad/d.jpg', 'sad', 0.1)];
  const data = buildEvaluationReportData(result(rows, root), { metadata: metadata() });
  const html = await renderEvaluationReportHtml(data, { root });
  const imgs = [...html.matchAll(/<img src="data:image\/jpeg;base64,([^"]+)" width="(\d+)" height="(\d+)"/g)];
  assert.equal(imgs.length, 1);
  assert.deepEqual([imgs[0][2], imgs[0][3]], ['128', '64']);
  const thumb = sharp(Buffer.from(imgs[0][1], 'base64'));
  const { width, height } = await thumb.metadata();
  assert.deepEqual([width, height], [128, 64]);
  // The box's left edge (x = 100 * 128 / 400 = 32) is drawn; the middle of the face is not.
  const pixels = await thumb.raw().toBuffer();
  const at = (x: number, y: number) => pixels[(y * 128 + x) * 3];
  assert.ok(Math.abs(at(32, 32) - 0x80) > 40, `box edge at x=32: ${at(32, 32)}`);
  assert.ok(Math.abs(at(48, 32) - 0x80) < 12, `inside the box: ${at(48, 32)}`);
  assert.match(html, /<div class="missing" role="img" aria-label="happy\/gone\.jpg: true happy, predicted sad">image unavailable<\/div>/);
  assert.match(html, /Seed<\/dt><dd>1, 2 \(ensemble members\)/);
});

test('one class only: no curves, a note saying why, and no mistakes to show', async () => {
  const rows = [row('happy/a.jpg', 'happy', 0.9), row('happy/b.jpg', 'happy', 0.7)];
  const data = buildEvaluationReportData(result(rows), { metadata: metadata() });
  assert.equal(data.curves.roc, null);
  assert.equal(data.curves.operatingPoint, null);
  assert.ok(data.curves.precisionRecall, 'precision-recall needs only positives');
  const html = await renderEvaluationReportHtml(data, { root: '/nowhere' });
  assert.match(html, /ROC and precision–recall curves need images of happy and of another class; this data has none of sad\./);
  assert.doesNotMatch(html, /id="(roc|pr)-curve"/);
  assert.match(html, /<dt>Average precision<\/dt><dd>n\/a<\/dd>/);
  assert.match(html, /None: every image was labelled correctly\./);
  assert.match(html, /id="confusion-matrix"/);
  assert.doesNotMatch(html, /<script/i);
});
