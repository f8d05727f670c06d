import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import { initEngine } from '../../src/engine/engine.js';
import { defaultPreprocessSpec } from '../../src/input/preprocessSpec.js';
import { bestThreshold } from '../../src/evaluate/bestThreshold.js';
import { getArchitecture } from '../../src/model/architectures.js';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, type BundleMetadata } from '../../src/model/bundleMetadata.js';
import { saveBundle } from '../../src/model/modelBundle.js';
import { faceLikeImage, makeClassFolders, writeBytes } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';
import { cliArgs } from '../../testkit/compiledCli.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function happysad(...args: string[]) {
  const r = spawnSync(process.execPath, [...cliArgs(), ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('arch --json prints the layer table with the parameter total', () => {
  const r = happysad('arch', 'seed-b', '--json');
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.name, 'seed-b');
  assert.deepEqual(s.input, [256, 256, 3]);
  assert.equal(s.params, 3_696_625);
  assert.ok(s.layers.length >= 10);
});

test('clean --json reports problems in the documented shape and exits 1; a clean set exits 0', async () => {
  const dir = await tempDir();
  await makeClassFolders(dir, 2);
  await writeBytes(join(dir, 'happy/zero.jpg'), new Uint8Array(0));
  const r = happysad('clean', dir, '--json');
  assert.equal(r.code, 1);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(out).sort(), ['counts', 'nearDuplicates', 'ok', 'problems', 'shortcuts', 'total']);
  assert.equal(out.total, 5);
  assert.equal(out.ok, 4);
  assert.deepEqual(out.counts, { corrupt: 0, invalid: 1, 'exact-duplicate': 0, 'near-duplicate': 0, leak: 0 });
  assert.deepEqual(Object.keys(out.problems[0]).sort(), ['detail', 'file', 'kind', 'problem']);
  assert.equal(out.problems[0].kind, 'invalid');
  assert.equal(out.problems[0].file, 'happy/zero.jpg');
  const q = await tempDir();
  assert.equal(happysad('clean', dir, '--quarantine', q).code, 1);
  assert.equal(happysad('clean', dir).code, 0);
});

test('train, then predict --json and --csv through the CLI; a bad file gives an error row and exit 1', async () => {
  const dir = await tempDir();
  await makeClassFolders(dir, 12, { size: 40 });
  const out = join(await tempDir(), 'm');
  const t = happysad('train', dir, '--arch', 'seed-a', '--input', '32x32x1', '--epochs', '2', '--batch', '8', '--seed', '4', '--out', out);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stderr, /Epoch 1\/2/);
  assert.match(t.stdout, /balanced accuracy/);
  const photos = await tempDir();
  await writeBytes(join(photos, 'a.png'), await faceLikeImage('happy', 77, 50));
  await writeBytes(join(photos, 'b.jpg'), 'text');
  const p = happysad('predict', photos, '--model', out, '--json');
  assert.equal(p.code, 1);
  const rows = p.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(rows.length, 2);
  assert.deepEqual(Object.keys(rows[0]).sort(), ['file', 'label', 'probabilities', 'score']);
  assert.equal(rows[1].error.code, 'image-not-image');
  const csv = happysad('predict', join(photos, 'a.png'), '--model', out, '--csv');
  assert.equal(csv.code, 0);
  assert.equal(csv.stdout.split('\n')[0], 'file,face,box,label,score,p_happy,p_sad,error');
});

test('happysad with no command is a usage error: exit 2, the overview on stderr, nothing on stdout', () => {
  const r = happysad();
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /Usage: happysad <command>/);
  const help = happysad('--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: happysad <command>/);
});

test('an unknown option names it and shows the escape for a file name starting with -, quotes balanced', () => {
  for (const arg of ['--bogus', '--bogus=3', '-x']) {
    const r = happysad('predict', arg, 'photo.jpg');
    assert.equal(r.code, 2);
    const option = arg.split('=')[0]!;
    assert.equal(r.stderr.trim(), `happysad predict: unknown option ${option}; a file name that starts with '-' goes after '--', as in: happysad predict -- ${option} (happysad help predict lists the options)`);
    assert.equal((r.stderr.match(/'/g) ?? []).length % 2, 0, r.stderr);
    assert.equal((r.stderr.match(/"/g) ?? []).length % 2, 0, r.stderr);
  }
});

test('usage errors are clear and exit 2', () => {
  const r = happysad('train', '/tmp');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /needs --out/);
  const u = happysad('frobnicate');
  assert.equal(u.code, 2);
  assert.match(u.stderr, /unknown command/);
  // Beyond Node's timer range every prediction would fail with a 500; refused before the model loads.
  const timeout = happysad('serve', '--timeout', '1e12');
  assert.equal(timeout.code, 2);
  assert.match(timeout.stderr, /--timeout 1e12: expected a number >= 0.001 <= 86400/);
  const bad = happysad('arch', 'seed-a', '--input', '48x48x2');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /channels must be 1/);
});

test('ensemble averages two models into a bundle whose threshold is tuned on the given images', async () => {
  await initEngine();
  const models = await tempDir();
  const dirs = [];
  for (const seed of [1, 2]) {
    const model = getArchitecture('seed-a').build({ input: [32, 32, 1], numClasses: 2, seed });
    const metadata: BundleMetadata = {
      format: BUNDLE_FORMAT, formatVersion: BUNDLE_FORMAT_VERSION, name: `m${seed}`, arch: 'seed-a', classes: ['happy', 'sad'], output: 'sigmoid',
      positiveClass: 'happy', threshold: 0.5, preprocessing: defaultPreprocessSpec([32, 32, 1]), seed, training: null, dataset: null, metrics: null,
      versions: {}, createdAt: new Date(0).toISOString(),
    };
    dirs.push(join(models, `m${seed}`));
    await saveBundle(dirs.at(-1)!, model, metadata);
    model.dispose();
  }
  const data = await tempDir();
  await makeClassFolders(data, 6, { size: 40 });
  const heldOut = await tempDir();
  await makeClassFolders(heldOut, 4, { size: 40, seedBase: 500 });
  const out = join(models, 'ens');
  // Test figures on the tuning data would not be a test.
  const same = happysad('ensemble', ...dirs, '--out', out, '--tune', data, '--test', data);
  assert.equal(same.code, 2);
  assert.match(same.stderr, /is the data the threshold is tuned on/);
  await assert.rejects(readFile(join(out, 'happysad.json')));
  // --out inside the data it tunes on would become a class folder of that data.
  const inside = happysad('ensemble', ...dirs, '--out', join(data, 'ens'), '--tune', data);
  assert.equal(inside.code, 1);
  assert.match(inside.stderr, /is inside .*read as input/);
  const r = happysad('ensemble', ...dirs, '--out', out, '--tune', data, '--test', heldOut, '--json');
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.arch, 'ensemble(seed-a, seed-a)');
  assert.equal(summary.validation.n, 12);
  const meta = JSON.parse(await readFile(join(out, 'happysad.json'), 'utf8')) as BundleMetadata;
  assert.equal(meta.threshold, summary.threshold);
  assert.deepEqual(meta.members!.map((m) => m.seed), [1, 2]);
  assert.equal(meta.metrics!.test!.n, 8);
  // Both reports are at the final, tuned threshold, not the members' mean it started from.
  assert.equal(meta.metrics!.validation!.threshold, meta.threshold);
  assert.equal(meta.metrics!.test!.threshold, meta.threshold);
  // The threshold is the balanced-accuracy cut of the ensemble's own scores on those images.
  const scores: number[] = [];
  const truth: boolean[] = [];
  for (const cls of ['happy', 'sad']) {
    const p = happysad('predict', join(data, cls), '--model', out, '--json');
    assert.equal(p.code, 0, p.stderr);
    for (const line of p.stdout.trim().split('\n')) {
      scores.push(JSON.parse(line).score);
      truth.push(cls === 'happy');
    }
  }
  assert.ok(Math.abs(meta.threshold - bestThreshold(scores, truth)) < 1e-6, `${meta.threshold} vs ${bestThreshold(scores, truth)}`);

  // A member that reads its input differently is refused, naming it, and nothing is written.
  const other = join(models, 'rgb');
  const rgb = getArchitecture('seed-a').build({ input: [32, 32, 3], numClasses: 2, seed: 3 });
  await saveBundle(other, rgb, { ...meta, members: undefined, arch: 'seed-a', preprocessing: defaultPreprocessSpec([32, 32, 3]) });
  rgb.dispose();
  const bad = happysad('ensemble', dirs[0], other, '--out', join(models, 'never'));
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /rgb: its preprocessing .* differs from .*m1's/);
  await assert.rejects(readFile(join(models, 'never', 'happysad.json')));
});

test('help CMD prints that command\'s help, not the overview', () => {
  const r = happysad('help', 'train');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^happysad train DIR --out MODEL_DIR/);
  assert.doesNotMatch(r.stdout, /Usage: happysad <command>/);
});
