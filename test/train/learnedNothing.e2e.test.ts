import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Tensor } from '@tensorflow/tfjs';
import { initEngine, tf } from '../../src/engine/engine.js';
import { getArchitecture } from '../../src/model/architectures.js';
import { train } from '../../src/train/train.js';
import { cleanDataset } from '../../src/data/cleanDataset.js';
import { discoverDataset } from '../../src/data/discoverDataset.js';
import { countProblems, formatProblemCounts } from '../../src/data/problemKinds.js';
import { faceLikeImage, makeClassFolders, writeBytes } from '../../testkit/makeImages.js';
import { runCli } from '../../testkit/runCli.js';
import { tempDir } from '../../testkit/tempDir.js';

/**
 * 32 generated faces a class and one file of each kind of problem: a text file (invalid), a PNG
 * cut short (corrupt), a byte-for-byte copy (exact duplicate) and three shrunk copies
 * (near-duplicates), which train keeps unless the split puts a copy in validation (a leak).
 */
let data: string;
before(async () => {
  data = await tempDir();
  await makeClassFolders(data, 32, { size: 48 });
  await writeBytes(join(data, 'sad/notes.jpg'), 'not an image');
  const whole = await faceLikeImage('happy', 999, 48);
  await writeBytes(join(data, 'happy/cut.png'), whole.subarray(0, Math.floor(whole.length * 0.6)));
  await writeBytes(join(data, 'happy/copy.png'), await readFile(join(data, 'happy/happy_000.png')));
  for (const f of ['happy/happy_001', 'happy/happy_002', 'sad/sad_001']) await writeBytes(join(data, `${f}_small.png`), await sharp(join(data, `${f}.png`)).resize(40, 40).png().toBuffer());
});

const quick = { arch: 'seed-a', input: [32, 32, 3] as [number, number, 3], batch: 16, seed: 5, valSplit: 0.3 };

/** seed-a's freshly initialised weights with its output forced: a zero kernel and a bias of +30 say "happy" (p > 0.999) to every image. */
async function alwaysHappyWeights(): Promise<Tensor[]> {
  await initEngine();
  const model = getArchitecture('seed-a').build({ input: quick.input, numClasses: 2, seed: 1 });
  const weights = model.getWeights();
  const [kernel, bias] = weights.slice(-2) as [Tensor, Tensor];
  const forced = [...weights.slice(0, -2).map((w) => w.clone()), tf.zerosLike(kernel), tf.fill(bias.shape, 30)];
  model.dispose();
  return forced;
}

test('a model that says "happy" to everything is saved with a warning in plain words and a code; clean, train and evaluate count the same problems alike', async () => {
  const out = join(await tempDir(), 'collapsed');
  const events: { code: string; message: string }[] = [];
  // A rate too small to move the forced bias: training runs, the model still answers one class.
  const result = await train(data, { ...quick, out, epochs: 1, learningRate: 1e-9, initialWeights: await alwaysHappyWeights(), onEvent: (e) => e.type === 'warning' && events.push(e) });
  assert.equal(result.validation!.perClass.happy!.recall, 1);
  const collapsed = result.warnings.find((w) => w.code === 'collapsed');
  assert.ok(collapsed, JSON.stringify(result.warnings));
  assert.match(collapsed.message, /^the model learned nothing useful: it labels 100\.0% of the \d+ validation images "happy"/);
  // It started from given weights, so --from is not suggested again; the rest is.
  assert.match(collapsed.message, /What to try: .*--faces.*--patience 10; it was 2.*add images/);
  assert.doesNotMatch(collapsed.message, /--from default/);
  assert.ok(events.some((e) => e.code === 'collapsed'), 'sent to onEvent as it happens, too');

  // Counts: clean's breakdown, and train's, which names clean's total and where it differs.
  const clean = await cleanDataset(await discoverDataset(data));
  const cleanCounts = countProblems(clean.problems);
  assert.deepEqual({ ...cleanCounts, 'near-duplicate': 0 }, { corrupt: 1, invalid: 1, 'exact-duplicate': 1, 'near-duplicate': 0, leak: 0 });
  assert.ok(cleanCounts['near-duplicate'] >= 3, formatProblemCounts(cleanCounts));
  const cleanSays = `\`happysad clean\` reports ${clean.problems.length} problem file(s) here: ${formatProblemCounts(cleanCounts)}`;
  const trainCounts = countProblems(result.skipped);
  assert.deepEqual({ ...trainCounts, leak: 0 }, { corrupt: 1, invalid: 1, 'exact-duplicate': 1, 'near-duplicate': 0, leak: 0 }, 'train keeps near-copies that do not leak');
  assert.equal(trainCounts.leak, result.leaks.length);
  const skipped = result.warnings.find((w) => w.code === 'skipped')!;
  assert.ok(skipped.message.startsWith(`skipped ${result.skipped.length} of ${clean.total} file(s): ${formatProblemCounts(trainCounts)}. ${cleanSays}. Of its `), skipped.message);

  const cli = runCli(['clean', data]);
  assert.match(cli.stdout, new RegExp(`: ${clean.total} files, ${clean.ok} ok, ${clean.problems.length} with problems: ${formatProblemCounts(cleanCounts)}\\n`));
  assert.match(cli.stdout, /happy\/happy_000\.png +exact duplicate +same content as happy\/copy\.png/);
  assert.match(cli.stdout, /sad\/notes\.jpg +invalid \(not-image\)/);

  // evaluate: the warning before the figures, the same vocabulary and the same sum as clean.
  const report = join(await tempDir(), 'report');
  const ev = runCli(['evaluate', data, '--model', out, '--report', report]);
  assert.equal(ev.code, 0, ev.stderr);
  const lines = ev.stdout.split('\n');
  assert.match(lines[1]!, new RegExp(`^skipped 3 of ${clean.total} file\\(s\\): 1 corrupt, 1 invalid, 1 exact duplicate\\. ${cleanSays.replace(/[()`]/g, '\\$&')}\\. Of its \\d+ near-cop(y|ies), none would leak`));
  assert.match(lines[3]!, /^WARNING: the model learned nothing useful: it labels 100\.0% of the \d+ images "happy".*Do not use it as it is/);
  assert.ok(ev.stdout.indexOf('WARNING') < ev.stdout.indexOf('balanced accuracy'), 'the warning comes before the figures');
  const json = JSON.parse(runCli(['evaluate', data, '--model', out, '--json']).stdout);
  assert.deepEqual(json.warnings.map((w: { code: string }) => w.code), ['collapsed']);
  assert.deepEqual(json.skippedByKind, { corrupt: 1, invalid: 1, 'exact-duplicate': 1, 'near-duplicate': 0, leak: 0 });
  const html = await readFile(join(report, 'report.html'), 'utf8');
  const header = html.slice(0, html.indexOf('</header>'));
  assert.match(header, /<p class="alert" id="warning-collapsed" role="alert"><b>Warning:<\/b> the model learned nothing useful/);
  const reportJson = JSON.parse(await readFile(join(report, 'report.json'), 'utf8'));
  assert.equal(reportJson.warnings[0].code, 'collapsed');
  result.bundle.model.dispose();
});

test('a model that learned is not warned about, in train or in evaluate', async () => {
  const out = join(await tempDir(), 'learned');
  const result = await train(data, { ...quick, out, epochs: 8, patience: 3, learningRate: 2e-3 });
  assert.ok(result.validation!.balancedAccuracy >= 0.8, `balanced accuracy ${result.validation!.balancedAccuracy}`);
  assert.deepEqual(result.warnings.filter((w) => w.code === 'collapsed' || w.code === 'at-chance'), []);
  const ev = runCli(['evaluate', data, '--model', out, '--json']);
  assert.deepEqual(JSON.parse(ev.stdout).warnings, []);
  result.bundle.model.dispose();
});

test('train --json carries its warnings with their codes', async () => {
  const r = runCli(['train', data, '--arch', 'seed-a', '--input', '24x24x1', '--epochs', '1', '--batch', '16', '--seed', '3', '--json', '--out', join(await tempDir(), 'm')]);
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  const skipped = json.warnings.find((w: { code: string }) => w.code === 'skipped');
  assert.match(skipped.message, /^skipped \d+ of \d+ file\(s\): 1 corrupt, 1 invalid, 1 exact duplicate/);
  const byKind = json.skippedByKind;
  assert.deepEqual([byKind.corrupt, byKind.invalid, byKind['exact-duplicate'], byKind['near-duplicate']], [1, 1, 1, 0]);
  assert.equal(json.skipped, 3 + byKind.leak);
  assert.match(r.stderr, /warning: skipped \d+ of/);
});
