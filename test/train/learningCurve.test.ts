import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { initEngine } from '../../src/engine/engine.js';
import { learningCurve, renderLearningCurveSvg } from '../../src/train/learningCurve.js';
import { trainSubset } from '../../src/train/trainSubset.js';
import type { ImageSet } from '../../src/data/loadImages.js';
import type { ImageRecord } from '../../src/data/prepareDataset.js';
import { makeClassFolders } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';
import { runCli } from '../../testkit/runCli.js';

/** A set of `perClass` [a, b] images of one byte each, the byte naming the image. */
function fakeSet(perClass: number[]): ImageSet<ImageRecord> {
  const items = perClass.flatMap((n, k) => Array.from({ length: n }, (_, i) => ({ classIndex: k, relPath: `${k}/${i}` }) as unknown as ImageRecord));
  return { items, pixels: Uint8Array.from(items, (_, i) => i), imageSize: 1, failed: [] };
}

test('trainSubset: each class keeps its share (at least one), pixels follow their images, shares nest under one seed', () => {
  const set = fakeSet([10, 30]);
  const half = trainSubset(set, 0.5, 7);
  assert.deepEqual([0, 1].map((k) => half.items.filter((r) => r.classIndex === k).length), [5, 15]);
  half.items.forEach((r, i) => assert.equal(set.items[half.pixels[i]!], r, 'pixel i is item i\'s'));
  const quarter = trainSubset(set, 0.25, 7);
  assert.ok(quarter.items.every((r) => half.items.includes(r)), 'a smaller share is inside a larger one');
  assert.equal(trainSubset(fakeSet([2, 2]), 0.01, 7).items.length, 2, 'never a class with none');
  assert.notDeepEqual(trainSubset(set, 0.5, 8).items, half.items, 'another seed, other images');
});

test('learningCurve: one run per share on the same validation images, growing training sets; the chart renders', async () => {
  await initEngine();
  const data = await tempDir();
  await makeClassFolders(data, 16, { size: 40 });
  const points = await learningCurve(data, { arch: 'seed-a', input: [32, 32, 3], batch: 16, epochs: 1, workers: 1 }, [0.5, 1]);
  assert.equal(points.length, 2);
  assert.equal(points[0]!.validationImages, points[1]!.validationImages);
  assert.ok(points[0]!.trainImages > 0 && points[0]!.trainImages < points[1]!.trainImages, JSON.stringify(points));
  assert.ok(Math.abs(points[0]!.trainImages - points[1]!.trainImages / 2) <= 1);
  const svg = await renderLearningCurveSvg(points);
  assert.match(svg, /<svg/);
  assert.match(svg, /training images/);
});

test('train --learning-curve writes the curve beside the model; its last point is the model\'s own validation figure', async () => {
  const data = await tempDir();
  await makeClassFolders(data, 12, { size: 40 });
  const out = join(await tempDir(), 'm');
  const r = runCli(['train', data, '--arch', 'seed-a', '--input', '32x32x1', '--epochs', '1', '--batch', '8', '--workers', '1', '--learning-curve', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(j.learningCurve.map((p: { fraction: number }) => p.fraction), [0.25, 0.5, 0.75, 1]);
  assert.equal(j.learningCurve[3].balancedAccuracy, j.validation.balancedAccuracy);
  assert.deepEqual(JSON.parse(await readFile(join(out, 'learning-curve.json'), 'utf8')), j.learningCurve);
  assert.match(await readFile(join(out, 'learning-curve.svg'), 'utf8'), /<svg/);
});
