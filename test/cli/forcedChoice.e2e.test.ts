import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Prediction } from '../../src/predict/classifier.js';
import { writeBytes } from '../../testkit/makeImages.js';
import { runCli } from '../../testkit/runCli.js';
import { makeModel } from '../../testkit/serveFixtures.js';
import { tempDir } from '../../testkit/tempDir.js';
import { greyImage, threeClassModelDir } from '../../testkit/threeClassModel.js';

// `--forced-choice` on predict (every output, --out and its resume) and evaluate, with the 3-class
// test model (it reads brightness: 0.58 is neutral to it, happy under forced choice).

let photos: string;
let modelDir: string;
let pets: string;

before(async () => {
  photos = await tempDir();
  let seed = 1;
  for (const [cls, ms] of Object.entries({ happy: [0.85, 0.58], sad: [0.15, 0.42] })) for (const m of ms) await writeBytes(join(photos, cls, `${cls}_${seed}.png`), await greyImage(m, seed++));
  modelDir = await threeClassModelDir({ forcedChoice: { between: ['happy', 'sad'], threshold: 0.5 } });
  pets = await threeClassModelDir({ name: 'pets', classes: ['cat', 'dog', 'fish'], positiveClass: 'dog' });
});

const jsonRows = (stdout: string) => stdout.trim().split('\n').map((l) => JSON.parse(l) as Prediction);

test('predict: the model\'s own labels by default; --forced-choice says happy or sad in JSON, CSV and the table', () => {
  const own = runCli(['predict', photos, '--model', modelDir, '--json', '--workers', '1']);
  assert.equal(own.code, 0, own.stderr);
  assert.deepEqual(jsonRows(own.stdout).map((r) => r.label), ['happy', 'neutral', 'sad', 'neutral']);
  const forced = runCli(['predict', photos, '--model', modelDir, '--json', '--forced-choice', '--workers', '1']);
  const rows = jsonRows(forced.stdout);
  assert.deepEqual(rows.map((r) => r.label), ['happy', 'happy', 'sad', 'sad']);
  for (const [i, r] of rows.entries()) {
    const p = jsonRows(own.stdout)[i]!.probabilities!;
    assert.ok(Math.abs(r.score! - p.happy! / (p.happy! + p.sad!)) < 1e-6);
    assert.deepEqual(Object.keys(r.probabilities!), ['happy', 'neutral', 'sad']);
    assert.equal(r.probabilities!.neutral, 0);
  }
  const csv = runCli(['predict', photos, '--model', modelDir, '--csv', '--forced-choice', '--workers', '1']).stdout.trim().split('\n');
  assert.equal(csv[0], 'file,face,box,label,score,p_happy,p_neutral,p_sad,error');
  assert.deepEqual(csv.slice(1).map((l) => l.split(',')[3]), ['happy', 'happy', 'sad', 'sad']);
  assert.ok(csv.slice(1).every((l) => l.split(',')[6] === '0'));
  const table = runCli(['predict', photos, '--model', modelDir, '--forced-choice', '--workers', '1']);
  assert.match(table.stdout, /happy_2\.png\s+happy\s/);
  assert.doesNotMatch(table.stdout, /\sneutral\s+0\.\d/, 'no row is labelled neutral');
});

test('--out: a resumed run refuses to mix forced-choice rows with the model\'s own, either way round', async () => {
  const dir = await tempDir();
  for (const [first, second] of [[['--forced-choice'], []], [[], ['--forced-choice']]] as const) {
    const out = join(dir, `${first.length ? 'forced' : 'own'}.jsonl`);
    const a = runCli(['predict', join(photos, 'happy'), '--model', modelDir, '--out', out, '--workers', '1', ...first]);
    assert.equal(a.code, 0, a.stderr);
    const before = await readFile(out, 'utf8');
    const b = runCli(['predict', photos, '--model', modelDir, '--out', out, '--resume', '--workers', '1', ...second]);
    assert.equal(b.code, 2, b.stderr);
    assert.match(b.stderr, new RegExp(`line 1 was written ${first.length ? 'with' : 'without'} --forced-choice, and this run is ${second.length ? 'with' : 'without'} it; one results file holds one kind of answer`));
    assert.equal(await readFile(out, 'utf8'), before, 'nothing was changed');
    // The same kind of run resumes it.
    const c = runCli(['predict', photos, '--model', modelDir, '--out', out, '--resume', '--workers', '1', ...first]);
    assert.equal(c.code, 0, c.stderr);
    const rows = jsonRows(await readFile(out, 'utf8'));
    assert.equal(rows.length, 4);
    assert.equal(rows.some((r) => r.label === 'neutral'), first.length === 0);
  }
  // merge keeps them apart too: the rows say which kind they are.
  const m = runCli(['merge', join(dir, 'forced.jsonl'), join(dir, 'own.jsonl'), '--out', join(dir, 'merged.jsonl')]);
  assert.equal(m.code, 2);
  assert.match(m.stderr, /was written by model three-state@\w+, and .*forced\.jsonl line 1 by three-state@\w+\+forced-choice; merge results of one model/);
});

test('a model forced choice cannot apply to is refused before anything is read; a two-class model is unchanged by it', async () => {
  const never = join(await tempDir(), 'never.jsonl');
  const r = runCli(['predict', photos, '--model', pets, '--forced-choice', '--out', never]);
  assert.equal(r.code, 2);
  assert.equal(existsSync(never), false, 'no --out file was made');
  assert.match(r.stderr, /forced choice: model "pets" has the classes cat, dog, fish and records no pair to choose between/);
  const e = runCli(['evaluate', photos, '--model', pets, '--forced-choice']);
  assert.equal(e.code, 2);
  assert.match(e.stderr, /model "pets" has the classes cat, dog, fish/);
  const s = runCli(['serve', '--model', pets, '--forced-choice', '--port', '0', '--concurrency', '1']);
  assert.equal(s.code, 2, 'serve --forced-choice does not start on it');
  assert.match(s.stderr, /model "pets" has the classes cat, dog, fish/);
  const two = await makeModel({ faces: false });
  const plain = runCli(['predict', photos, '--model', two, '--json', '--workers', '1']);
  const forced = runCli(['predict', photos, '--model', two, '--json', '--forced-choice', '--workers', '1']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(forced.stdout, plain.stdout);
});

test('evaluate: both sets of figures, in text and JSON; --forced-choice gives only the forced-choice ones', () => {
  const text = runCli(['evaluate', photos, '--model', modelDir, '--workers', '1']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /The model's own answers \(happy, neutral, sad/);
  assert.match(text.stdout, /balanced accuracy 50\.0%[\s\S]*Forced choice between happy and sad \(threshold 0\.5[\s\S]*balanced accuracy 100\.0%/);
  const both = JSON.parse(runCli(['evaluate', photos, '--model', modelDir, '--json', '--workers', '1']).stdout);
  assert.deepEqual(both.classes, ['happy', 'neutral', 'sad']);
  assert.equal(both.balancedAccuracy, 0.5);
  assert.deepEqual(both.confusion.matrix, [[1, 1, 0], [0, 0, 0], [0, 1, 1]]);
  assert.deepEqual(both.forcedChoice.classes, ['happy', 'sad']);
  assert.equal(both.forcedChoice.balancedAccuracy, 1);
  assert.equal(both.forcedChoice.auc, 1);
  const only = JSON.parse(runCli(['evaluate', photos, '--model', modelDir, '--json', '--forced-choice', '--workers', '1']).stdout);
  assert.deepEqual(only.classes, ['happy', 'sad']);
  assert.equal(only.balancedAccuracy, 1);
  assert.equal(only.forcedChoiceOnly, true);
  assert.equal(only.forcedChoice, undefined);
});
