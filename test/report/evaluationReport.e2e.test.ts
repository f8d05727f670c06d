import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../../testkit/chromium.js';
import { initEngine } from '../../src/engine/engine.js';
import { DEFAULT_FACE_CROP } from '../../src/faces/faceCropper.js';
import { defaultPreprocessSpec } from '../../src/input/preprocessSpec.js';
import { getArchitecture } from '../../src/model/architectures.js';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION } from '../../src/model/bundleMetadata.js';
import { saveBundle } from '../../src/model/modelBundle.js';
import { faceLikeImage, writeBytes } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';
import { cliArgs } from '../../testkit/compiledCli.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

let data: string;
let modelDir: string;
let cache: string;
let shots: string;
let browser: Browser;

function happysad(...args: string[]) {
  const r = spawnSync(process.execPath, [...cliArgs(), ...args], { cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, HAPPYSAD_CACHE: cache } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  // No silent skip: launchChromium fails loudly, saying how to install the browser, before any work.
  browser = await launchChromium();
  await initEngine();
  cache = await tempDir('happysad-cache-');
  shots = process.env.HAPPYSAD_SCREENSHOTS ? resolve(process.env.HAPPYSAD_SCREENSHOTS) : await tempDir('happysad-shots-');
  await mkdir(shots, { recursive: true });
  // The six example photos have real faces for the detector to box; a small drawn face is taken
  // whole (no box), and a text file is skipped.
  data = join(await tempDir(), 'faces & <photos>');
  await cp(join(root, 'examples'), data, { recursive: true, filter: (src) => !src.endsWith('.md') });
  await writeBytes(join(data, 'sad', 'drawn.png'), await faceLikeImage('sad', 3, 64));
  await writeBytes(join(data, 'happy', 'notes.jpg'), 'not an image');
  // An untrained model is enough for a report, and takes milliseconds to make. Threshold 0: every
  // image is called happy, so each sad image is a mistake, a known gallery.
  modelDir = join(await tempDir(), 'model');
  const model = getArchitecture('seed-a').build({ input: [32, 32, 3], numClasses: 2, seed: 1 });
  await saveBundle(modelDir, model, {
    format: BUNDLE_FORMAT, formatVersion: BUNDLE_FORMAT_VERSION, name: 'tiny <face>', arch: 'seed-a', classes: ['happy', 'sad'], output: 'sigmoid',
    positiveClass: 'happy', threshold: 0, preprocessing: { ...defaultPreprocessSpec([32, 32, 3]), faces: { ...DEFAULT_FACE_CROP, wholeImageMaxSide: 64 } },
    seed: 7, training: null, dataset: null, metrics: null, versions: {}, createdAt: new Date(0).toISOString(),
  });
  model.dispose();
});

after(async () => {
  await browser?.close();
});

test('evaluate --report writes a self-contained page and its data; Chromium shows it without a request', async (t) => {
  const out = join(await tempDir(), 'report');
  const r = happysad('evaluate', data, '--model', modelDir, '--report', out, '--workers', '1', '--json');
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.report, join(out, 'report.html'));

  const json = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
  assert.equal(json.format, 'happysad-evaluation-report');
  assert.equal(json.metrics.n, 7);
  assert.deepEqual(json.metrics.confusion.matrix, [[3, 0], [4, 0]]);
  assert.equal(json.model.name, 'tiny <face>');
  assert.equal(json.model.seed, 7);
  assert.match(json.model.preprocessing.summary, /32×32 RGB.*faces: blazeface/);
  assert.equal(json.data.path, resolve(data));
  assert.equal(json.data.count, 7);
  assert.match(json.data.sha256, /^[0-9a-f]{64}$/);
  assert.deepEqual(json.data.skipped.map((s: { file: string }) => s.file), ['happy/notes.jpg']);
  assert.ok(Math.abs(json.curves.roc.auc - json.metrics.auc) < 1e-9, 'the ROC area is the AUC evaluate reports');
  assert.equal(json.curves.roc.points.at(-1).fpr, 1);
  assert.ok(json.curves.precisionRecall.averagePrecision > 0);
  // Every sad image is a mistake; the photos carry the box of the face classified, the drawn face none.
  assert.deepEqual(json.mistakes.map((m: { file: string }) => m.file).sort(), ['sad/Avinash_13.jpg', 'sad/Jayamadhuri_196.jpg', 'sad/KatrinaKaif_92.jpg', 'sad/drawn.png']);
  for (const m of json.mistakes) assert.equal(Boolean(m.box), m.file !== 'sad/drawn.png', m.file);
  assert.equal(json.images.filter((i: { box?: number[] }) => i.box).length, 6);

  const html = await readFile(join(out, 'report.html'), 'utf8');
  for (const id of ['model', 'data', 'roc-curve', 'pr-curve', 'confusion-matrix', 'per-class', 'score-histograms', 'mistakes', 'skipped']) assert.match(html, new RegExp(`id="${id}"`), id);
  assert.equal(html.match(/<figure class="mistake">/g)?.length, 4);
  assert.equal(html.match(/whole image classified/g)?.length, 1, 'the drawn face, taken whole, says so');
  assert.ok(html.includes('tiny &lt;face&gt;') && !html.includes('tiny <face>'), 'names are escaped');
  assert.doesNotMatch(html, /<script|<link|@import|<iframe|<object/i);
  for (const m of html.matchAll(/\s(?:src|href)="([^"]*)"/g)) assert.match(m[1], /^data:image\/jpeg;base64,/);

  const page = await (await browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()}`);
  });
  page.on('request', (req) => requests.push(req.url()));
  await page.goto(pathToFileURL(join(out, 'report.html')).href);
  await page.waitForLoadState('load');
  const inside = pathToFileURL(out + sep).href;
  for (const url of requests) assert.ok(url.startsWith('data:') || url.startsWith(inside), `request outside the report: ${url.slice(0, 120)}`);
  const shown = await page.evaluate(() => ({
    charts: document.querySelectorAll('figure.chart > svg').length,
    images: [...document.querySelectorAll('.mistake img')].map((img) => (img as HTMLImageElement).naturalWidth),
    title: document.querySelector('h1')?.textContent,
    overflow: document.documentElement.scrollWidth > window.innerWidth,
  }));
  assert.equal(shown.charts, 5, 'ROC, precision-recall, confusion matrix, score histograms, reliability diagram');
  assert.equal(shown.images.length, 4);
  assert.ok(shown.images.every((w) => w > 0 && w <= 128), `thumbnails decoded: ${shown.images}`);
  assert.equal(shown.title, 'Evaluation: tiny <face> on faces & <photos>');
  assert.equal(shown.overflow, false, 'no horizontal scrolling');
  await page.screenshot({ path: join(shots, 'evaluation-report.png'), fullPage: true });
  t.diagnostic(`screenshot: ${join(shots, 'evaluation-report.png')}`);
  assert.deepEqual(problems, []);
  await page.context().close();
});

test('evaluate --report refuses a folder of other files before evaluating, and replaces its own report', async () => {
  const taken = await tempDir();
  await writeFile(join(taken, 'thesis.tex'), 'mine');
  const refused = happysad('evaluate', data, '--model', modelDir, '--report', taken);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /already holds 1 item\(s\) \(e\.g\. thesis\.tex\) and is not a happysad report; nothing was written/);
  assert.doesNotMatch(refused.stdout, /accuracy/, 'refused before the evaluation');
  assert.equal(await readFile(join(taken, 'thesis.tex'), 'utf8'), 'mine');

  const inData = happysad('evaluate', data, '--model', modelDir, '--report', join(data, 'report'));
  assert.notEqual(inData.code, 0);
  assert.match(inData.stderr, /is inside .* which is read as input/);
  assert.equal(existsSync(join(data, 'report')), false);

  const out = join(await tempDir(), 'again');
  assert.equal(happysad('evaluate', data, '--model', modelDir, '--report', out, '--workers', '1').code, 0);
  await writeFile(join(out, 'notes.txt'), 'kept');
  const first = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')).createdAt;
  const second = happysad('evaluate', data, '--model', modelDir, '--report', out, '--workers', '1');
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /report: .*report\.html \(replaces the earlier report there\)/);
  assert.notEqual(JSON.parse(await readFile(join(out, 'report.json'), 'utf8')).createdAt, first);
  assert.equal(await readFile(join(out, 'notes.txt'), 'utf8'), 'kept', 'a file put beside the report stays');
});
