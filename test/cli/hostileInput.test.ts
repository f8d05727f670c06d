/**
 * Regression suite for the hostile-input probe (issue "nothing lost, nothing hangs"): each test
 * drives the real CLI the way a careless user would and asserts that nothing of theirs is lost,
 * nothing hangs, and the answer is a clear message rather than a stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { initEngine } from '../../src/engine/engine.js';
import { defaultPreprocessSpec } from '../../src/input/preprocessSpec.js';
import { getArchitecture } from '../../src/model/architectures.js';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, type BundleMetadata } from '../../src/model/bundleMetadata.js';
import { saveBundle } from '../../src/model/modelBundle.js';
import { faceLikeImage, makeClassFolders, writeBytes } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';
import { cliArgs } from '../../testkit/compiledCli.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
// By absolute path: some cases run from a folder outside the repo.
const cli = [process.execPath, ...cliArgs()];

function happysad(args: string[], options: { cwd?: string; asUser?: boolean } = {}) {
  // As root every folder is readable; the permission cases run the CLI as nobody instead.
  const asNobody = options.asUser && process.getuid?.() === 0;
  const [cmd, ...rest] = asNobody ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...cli] : cli;
  const r = spawnSync(cmd, [...rest, ...args], { cwd: options.cwd ?? root, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertNoStack(stderr: string): void {
  assert.doesNotMatch(stderr, /\n\s+at .+:\d+:\d+/, `a stack trace was printed:\n${stderr}`);
}

/** Every file below dir with its content hash: what "nothing was lost" compares. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string, rel: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name), `${rel}${e.name}/`);
      else out[`${rel}${e.name}`] = createHash('sha256').update(await readFile(join(d, e.name))).digest('hex');
    }
  };
  await walk(dir, '');
  return out;
}

let modelDir: string | undefined;
/** An untrained 32x32 gray bundle: enough for predict's input handling, no training needed. */
async function tinyModel(): Promise<string> {
  if (modelDir) return modelDir;
  await initEngine();
  const model = getArchitecture('seed-a').build({ input: [32, 32, 1], numClasses: 2, seed: 1 });
  const metadata: BundleMetadata = {
    format: BUNDLE_FORMAT, formatVersion: BUNDLE_FORMAT_VERSION, name: 'tiny', arch: 'seed-a', classes: ['happy', 'sad'], output: 'sigmoid',
    positiveClass: 'happy', threshold: 0.5, preprocessing: defaultPreprocessSpec([32, 32, 1]), seed: 1, training: null, dataset: null, metrics: null,
    versions: {}, createdAt: new Date(0).toISOString(),
  };
  const parent = await tempDir();
  await chmod(parent, 0o755); // readable by the unprivileged user of the permission test
  modelDir = join(parent, 'tiny');
  await saveBundle(modelDir, model, metadata);
  model.dispose();
  return modelDir;
}

const TRAIN_FAST = ['--arch', 'seed-a', '--input', '32x32x1', '--epochs', '1', '--batch', '8', '--seed', '3'];

test('train --out refuses the dataset itself, a path inside it, a file and a foreign folder, and deletes nothing', async () => {
  const data = await tempDir();
  await makeClassFolders(data, 4, { size: 40 });
  const before = await snapshot(data);
  for (const out of [data, join(data, 'happy'), join(data, 'model')]) {
    const r = happysad(['train', data, ...TRAIN_FAST, '--out', out]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /is inside .*read as input/);
    assertNoStack(r.stderr);
  }
  const notes = await writeBytes(join(await tempDir(), 'notes.txt'), 'my notes');
  let r = happysad(['train', data, ...TRAIN_FAST, '--out', notes]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /is a file, not a folder/);
  assert.equal(await readFile(notes, 'utf8'), 'my notes');

  // `--out .` from a folder of the user's own: refused whole, no temp folders left behind.
  const work = await tempDir();
  await writeBytes(join(work, 'thesis.tex'), 'chapter 1');
  r = happysad(['train', data, ...TRAIN_FAST, '--out', '.'], { cwd: work });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not a happysad model/);
  assertNoStack(r.stderr);
  assert.deepEqual(await readdir(work), ['thesis.tex']);
  assert.deepEqual(await readdir(join(work, '..')).then((names) => names.filter((n) => n.endsWith('.tmp') && n.includes(work.split('/').pop()!))), []);
  assert.deepEqual(await snapshot(data), before);
});

test('retraining over a model needs --overwrite, and the old model is kept whole as .previous', async () => {
  const data = await tempDir();
  await makeClassFolders(data, 4, { size: 40 });
  const out = join(await tempDir(), 'model');
  assert.equal(happysad(['train', data, ...TRAIN_FAST, '--out', out]).code, 0);
  const first = await snapshot(out);
  const refused = happysad(['train', data, ...TRAIN_FAST, '--seed', '9', '--out', out]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /already holds a model; pass --overwrite/);
  assert.deepEqual(await snapshot(out), first);
  const again = happysad(['train', data, ...TRAIN_FAST, '--seed', '9', '--out', out, '--overwrite']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /kept as .*model\.previous/);
  assert.deepEqual(await snapshot(`${out}.previous`), first);
  assert.equal(JSON.parse(await readFile(join(out, 'happysad.json'), 'utf8')).seed, 9);
  // A third run keeps the second model too, under the next free name.
  assert.equal(happysad(['train', data, ...TRAIN_FAST, '--seed', '11', '--out', out, '--overwrite']).code, 0);
  assert.equal(JSON.parse(await readFile(join(`${out}.previous-2`, 'happysad.json'), 'utf8')).seed, 9);
});

test('a class whose every file fails the checks stops training with the class named', async () => {
  const data = await tempDir();
  await makeClassFolders(data, 4, { size: 40 });
  for (const f of await readdir(join(data, 'sad'))) {
    // BMP: sniffed, then refused as unsupported; the folder still "has files".
    await writeFile(join(data, 'sad', f.replace('.png', '.bmp')), Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)]));
    await writeFile(join(data, 'sad', f), 'not an image');
  }
  const r = happysad(['train', data, ...TRAIN_FAST, '--out', join(await tempDir(), 'm')]);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /class "sad" has no usable training images \(8 of its file\(s\) failed the checks/);
  assertNoStack(r.stderr);
});

test('links to folders inside a folder are followed by predict and clean; a link loop is reported, not followed', async () => {
  const model = await tinyModel();
  const photos = await tempDir();
  const elsewhere = await tempDir();
  await writeBytes(join(photos, 'a.png'), await faceLikeImage('happy', 1, 48));
  await writeBytes(join(elsewhere, 'b.png'), await faceLikeImage('sad', 2, 48));
  await mkdir(join(photos, 'sub'));
  await symlink(elsewhere, join(photos, 'sub', 'linked'));
  await symlink(photos, join(photos, 'sub', 'loop'));
  const r = happysad(['predict', photos, '--model', model, '--json']);
  assertNoStack(r.stderr);
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(rows.filter((x) => x.label).map((x) => x.file.split('/').pop()), ['a.png', 'b.png']);
  assert.match(rows.find((x) => x.error)?.error.message ?? '', /symbolic link loop/);

  const data = await tempDir();
  await makeClassFolders(data, 2, { size: 40 });
  const extra = await tempDir();
  await makeClassFolders(extra, 1, { size: 40, seedBase: 9 });
  await symlink(join(extra, 'happy'), join(data, 'happy', 'more'));
  const c = happysad(['clean', data, '--json']);
  assert.equal(c.code, 0, c.stdout);
  const report = JSON.parse(c.stdout);
  assert.equal(report.total, 5);
  assert.equal(report.ok, 5);
});

test('an unreadable subfolder is reported by clean, predict and train, and the rest goes on', async () => {
  const model = await tinyModel();
  const data = await tempDir();
  await chmod(data, 0o755);
  await makeClassFolders(data, 4, { size: 40 });
  await writeBytes(join(data, 'happy', 'locked', 'x.png'), await faceLikeImage('happy', 5, 40));
  await chmod(join(data, 'happy', 'locked'), 0o000);
  try {
    const c = happysad(['clean', data, '--json'], { asUser: true });
    assertNoStack(c.stderr);
    assert.equal(c.code, 1, `${c.stderr}|${c.stdout}`);
    const report = JSON.parse(c.stdout);
    assert.deepEqual(report.problems.map((p: { file: string; problem: string }) => [p.file, p.problem]), [['happy/locked', 'unreadable']]);
    assert.equal(report.ok, 8);

    const p = happysad(['predict', join(data, 'happy'), '--model', model, '--json'], { asUser: true });
    assertNoStack(p.stderr);
    assert.equal(p.code, 1, p.stderr);
    const rows = p.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows.filter((x) => x.label).length, 4);
    assert.match(rows.find((x) => x.error).error.message, /locked: cannot read folder \(EACCES\)/);

    const outParent = await tempDir();
    await chmod(outParent, 0o777);
    const t = happysad(['train', data, ...TRAIN_FAST, '--out', join(outParent, 'm')], { asUser: true });
    assertNoStack(t.stderr);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stderr, /found 8 files/);
    assert.match(t.stderr, /skipped 1 of 8 file\(s\): 1 corrupt \(run `happysad clean/);
  } finally {
    await chmod(join(data, 'happy', 'locked'), 0o755);
  }
});

test('an input size the architecture cannot take is refused before building, naming the smallest that works', () => {
  for (const [arch, input, min] of [['seed-a', '16x16x3', '22x22'], ['seed-b', '21x64x3', '22x22'], ['face-48', '8x8x1', '16x16']]) {
    const r = happysad(['arch', arch, '--input', input]);
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.stderr, new RegExp(`too small for ${arch}: its layers need at least ${min}`));
    assertNoStack(r.stderr);
  }
  assert.equal(happysad(['arch', 'seed-a', '--input', '22x22x3']).code, 0);
});

test('train --input too small fails at once, before reading the dataset', async () => {
  const data = await tempDir();
  await makeClassFolders(data, 2, { size: 40 });
  const r = happysad(['train', data, '--arch', 'seed-a', '--input', '16x16x1', '--out', join(await tempDir(), 'm')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /too small for seed-a/);
  assert.doesNotMatch(r.stderr, /found \d+ files/);
});

test('quarantine refuses a folder inside the dataset, and one file that cannot move does not stop the others', async () => {
  const data = await tempDir();
  await makeClassFolders(data, 2, { size: 40 });
  for (const i of [1, 2, 3]) await writeBytes(join(data, 'happy', `bad${i}.jpg`), 'not an image');
  const inside = happysad(['clean', data, '--quarantine', join(data, 'quarantine')]);
  assert.equal(inside.code, 2);
  assert.match(inside.stderr, /inside the dataset/);
  assert.equal((await readdir(join(data, 'happy'))).length, 5);

  const q = await tempDir();
  await writeBytes(join(q, 'happy', 'bad2.jpg'), 'already here');
  const r = happysad(['clean', data, '--quarantine', q, '--json']);
  assert.equal(r.code, 1);
  const out = JSON.parse(r.stdout);
  assert.equal(out.quarantined, 2);
  assert.deepEqual(out.notMoved.map((f: { file: string }) => f.file), ['happy/bad2.jpg']);
  assert.equal(await readFile(join(q, 'happy', 'bad2.jpg'), 'utf8'), 'already here');
  assert.equal(await readFile(join(data, 'happy', 'bad2.jpg'), 'utf8'), 'not an image');
  assert.deepEqual((await readdir(join(q, 'happy'))).sort(), ['bad1.jpg', 'bad2.jpg', 'bad3.jpg']);
  // A hidden quarantine inside the dataset is allowed: discovery skips dot-folders.
  await writeBytes(join(data, 'sad', 'bad4.jpg'), 'not an image');
  const hidden = happysad(['clean', data, '--quarantine', join(data, '.quarantine')]);
  assert.equal(hidden.code, 1, hidden.stderr);
  assert.equal(happysad(['clean', data]).code, 0);
});

test('predict applies the same acceptance checks as clean and serve', async () => {
  const model = await tinyModel();
  const dir = await tempDir();
  await writeBytes(join(dir, 'vector.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64"/></svg>');
  await writeBytes(join(dir, 'tiny.png'), await sharp({ create: { width: 10, height: 10, channels: 3, background: '#888' } }).png().toBuffer());
  await writeBytes(join(dir, 'strip.png'), await sharp({ create: { width: 1, height: 10000, channels: 3, background: '#888' } }).png().toBuffer());
  await writeBytes(join(dir, 'ok.png'), await faceLikeImage('happy', 3, 48));
  const r = happysad(['predict', dir, '--model', model, '--json']);
  assert.equal(r.code, 1);
  const rows = Object.fromEntries(r.stdout.trim().split('\n').map((l) => JSON.parse(l)).map((x) => [x.file.split('/').pop(), x]));
  assert.equal(rows['vector.svg'].error.code, 'image-unsupported');
  assert.equal(rows['tiny.png'].error.code, 'image-too-small');
  assert.equal(rows['strip.png'].error.code, 'image-too-small');
  assert.ok(rows['ok.png'].label);
});

test('CSV quotes a carriage return in a file name, so every row stays one row', async () => {
  const model = await tinyModel();
  const dir = await tempDir();
  await writeBytes(join(dir, 'odd\rname.png'), await faceLikeImage('happy', 4, 48));
  await writeBytes(join(dir, 'plain.png'), await faceLikeImage('sad', 5, 48));
  const r = happysad(['predict', dir, '--model', model, '--csv']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter(Boolean);
  assert.equal(lines.length, 3);
  assert.ok(lines[1].startsWith(`"${join(dir, 'odd\rname.png')}"`), JSON.stringify(lines[1]));
});

test('predict: no images is an error, a closed pipe ends quietly, a FIFO does not hang', async () => {
  const model = await tinyModel();
  const empty = await tempDir();
  await writeBytes(join(empty, 'README.txt'), 'notes');
  const e = happysad(['predict', empty, '--model', model]);
  assert.equal(e.code, 1);
  assert.match(e.stderr, /no image files found/);

  const dir = await tempDir();
  for (let i = 0; i < 40; i++) await writeBytes(join(dir, `f${String(i).padStart(2, '0')}.png`), await faceLikeImage('happy', 100 + i, 40));
  execFileSync('mkfifo', [join(dir, 'pipe.png')]);
  const piped = spawnSync('bash', ['-c', `"$@" | head -1`, 'bash', ...cli, 'predict', dir, '--model', model, '--json', '--batch', '4'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  assert.equal(piped.error, undefined, 'timed out: a FIFO or a closed pipe hung predict');
  assert.equal(piped.stdout.trim().split('\n').length, 1);
  assert.doesNotMatch(piped.stderr, /EPIPE|Error/);

  const all = happysad(['predict', dir, '--model', model, '--json']);
  assert.equal(all.code, 0, all.stderr);
  assert.equal(all.stdout.trim().split('\n').length, 40);
});

test('a single Ctrl-C of train keeps the best model and exits 130, not 0', async () => {
  const data = await tempDir();
  await makeClassFolders(data, 12, { size: 40 });
  const out = join(await tempDir(), 'm');
  const child = spawn(cli[0], [...cli.slice(1), 'train', data, '--arch', 'seed-a', '--input', '32x32x1', '--epochs', '200', '--patience', '200', '--batch', '4', '--seed', '1', '--out', out], { cwd: root });
  let stderr = '';
  const code = await new Promise<number | null>((resolve) => {
    child.stderr.on('data', (b) => {
      stderr += String(b);
      if (/Epoch 2\/200/.test(stderr) && !child.killed) child.kill('SIGINT');
    });
    child.on('exit', (c) => resolve(c));
  });
  assert.equal(code, 130, stderr);
  assert.match(stderr, /stopping after this batch/);
  assert.equal(JSON.parse(await readFile(join(out, 'happysad.json'), 'utf8')).training.interrupted, true);
});

test('a bundle with NaN weights is refused at load, naming the weight', async () => {
  const model = await tinyModel();
  const broken = join(await tempDir(), 'broken');
  await mkdir(broken);
  for (const f of await readdir(model)) await writeFile(join(broken, f), await readFile(join(model, f)));
  const weights = await readFile(join(broken, 'weights.bin'));
  weights.writeFloatLE(Number.NaN, 8);
  await writeFile(join(broken, 'weights.bin'), weights);
  const photo = await writeBytes(join(await tempDir(), 'a.png'), await faceLikeImage('happy', 1, 48));
  const r = happysad(['predict', photo, '--model', broken, '--json']);
  assert.equal(r.code, 1, r.stdout);
  // With --json the failure is JSON on stdout, where a script is reading.
  const { error } = JSON.parse(r.stdout) as { error: { code: string; message: string } };
  assert.equal(error.code, 'bundle');
  assert.match(error.message, /weight "conv2d_1\/kernel" holds NaN/);
});

// Second probe (after the fixes above): what it found, each pinned down.

test('checkpoints never replace another run\'s model, and keep files a user put beside the model', async () => {
  await initEngine();
  const dir = join(await tempDir(), 'shared-out');
  const model = getArchitecture('seed-a').build({ input: [32, 32, 1], numClasses: 2, seed: 1 });
  const first = await readFile(join(await tinyModel(), 'happysad.json'), 'utf8');
  const base = JSON.parse(first) as BundleMetadata;
  const run = (runId: string): BundleMetadata => ({ ...base, training: { options: {}, epochsRun: 1, bestEpoch: 1, stoppedEarly: false, interrupted: false, completed: false, runId, seconds: 1 } });
  await saveBundle(dir, model, run('a'));
  await writeFile(join(dir, 'notes.txt'), 'my notes');
  await saveBundle(dir, model, run('a'));
  assert.equal(await readFile(join(dir, 'notes.txt'), 'utf8'), 'my notes');
  await assert.rejects(saveBundle(dir, model, run('b')), /holds a model this run did not write/);
  assert.equal(JSON.parse(await readFile(join(dir, 'happysad.json'), 'utf8')).training.runId, 'a');
  model.dispose();
});

test('special files and unwritable places are refused at once: FIFOs, devices, --workers beyond the cores, a full disk', async () => {
  const model = await tinyModel();
  const dir = await tempDir();
  execFileSync('mkfifo', [join(dir, 'out.h5')]);
  let r = happysad(['export', model, '--out', join(dir, 'out.h5'), '--overwrite']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not a regular file/);
  execFileSync('mkfifo', [join(dir, 'in.h5')]);
  r = happysad(['import', join(dir, 'in.h5'), '--out', join(dir, 'imported')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not a regular file/);

  const fifoModel = join(dir, 'fifo-model');
  await mkdir(fifoModel);
  for (const f of await readdir(model)) if (f !== 'weights.bin') await writeFile(join(fifoModel, f), await readFile(join(model, f)));
  execFileSync('mkfifo', [join(fifoModel, 'weights.bin')]);
  const photo = await writeBytes(join(dir, 'a.png'), await faceLikeImage('happy', 1, 48));
  r = happysad(['predict', photo, '--model', fifoModel]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /weights\.bin is not a regular file/);

  r = happysad(['predict', photo, '--model', model, '--workers', '1000']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--workers 1000: this machine has \d+ core/);

  const full = spawnSync('bash', ['-c', '"$@" > /dev/full', 'bash', ...cli, 'arch', 'seed-a'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  assert.equal(full.status, 74);
  assert.match(full.stderr, /cannot write the output \(ENOSPC\)/);
  assertNoStack(full.stderr);
});

test('a damaged happysad.json is refused naming the field; a model folder inside a dataset is left whole by clean --quarantine', async () => {
  const model = await tinyModel();
  const photo = await writeBytes(join(await tempDir(), 'a.png'), await faceLikeImage('happy', 1, 48));
  const meta = JSON.parse(await readFile(join(model, 'happysad.json'), 'utf8'));
  for (const [edit, message] of [[{ threshold: 2 }, /"threshold" must be a number from 0 to 1/], [{ classes: null }, /"classes" must be a list/], [{ formatVersion: '1' }, /"formatVersion" must be a positive integer/]] as const) {
    const broken = join(await tempDir(), 'm');
    await mkdir(broken);
    for (const f of await readdir(model)) await writeFile(join(broken, f), await readFile(join(model, f)));
    await writeFile(join(broken, 'happysad.json'), JSON.stringify({ ...meta, ...edit }));
    const r = happysad(['predict', photo, '--model', broken]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, message);
  }
  const nullMeta = join(await tempDir(), 'm');
  await mkdir(nullMeta);
  for (const f of await readdir(model)) await writeFile(join(nullMeta, f), await readFile(join(model, f)));
  await writeFile(join(nullMeta, 'model.json'), 'null');
  const r = happysad(['predict', photo, '--model', nullMeta]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /holds null instead of a JSON object/);

  const data = await tempDir();
  await makeClassFolders(data, 2, { size: 40 });
  await mkdir(join(data, 'happy', 'models'));
  for (const f of await readdir(model)) await writeFile(join(data, 'happy', 'models', f), await readFile(join(model, f)));
  const before = await snapshot(join(data, 'happy', 'models'));
  const q = await tempDir();
  const c = happysad(['clean', data, '--quarantine', q, '--json']);
  assert.equal(c.code, 1);
  assert.match(JSON.parse(c.stdout).problems[0].detail, /a happysad model folder inside the dataset/);
  assert.deepEqual(await snapshot(join(data, 'happy', 'models')), before);
});

test('training that diverges stops with a clear error and saves nothing; --out through a link writes into its target', async () => {
  const data = await tempDir();
  await makeClassFolders(data, 6, { size: 40 });
  const out = join(await tempDir(), 'm');
  const r = happysad(['train', data, ...TRAIN_FAST, '--epochs', '2', '--lr', '1e308', '--out', out]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /training diverged at epoch 1 .*Lower the learning rate/);
  await assert.rejects(readFile(join(out, 'happysad.json')));

  const parent = await tempDir();
  await mkdir(join(parent, 'store'));
  await symlink(join(parent, 'store'), join(parent, 'link'));
  assert.equal(happysad(['train', data, ...TRAIN_FAST, '--out', join(parent, 'link')]).code, 0);
  assert.ok((await readdir(join(parent, 'store'))).includes('happysad.json'));
  assert.equal((await readdir(parent)).sort().join(','), 'link,store');
});

test('an output folder that cannot be written is refused before any training', async () => {
  const data = await tempDir();
  await chmod(data, 0o755);
  await makeClassFolders(data, 2, { size: 40 });
  const locked = await tempDir();
  await chmod(locked, 0o755); // nobody may enter but not write
  const r = happysad(['train', data, ...TRAIN_FAST, '--out', join(locked, 'm')], { asUser: true });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /cannot write in .* \(EACCES\)/);
  assert.doesNotMatch(r.stderr, /Epoch/);
});
