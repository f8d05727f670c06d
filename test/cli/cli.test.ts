import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { faceLikeImage, makeClassFolders, tempDir, writeBytes } from '../fixtures/makeImages.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function happysad(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'cli/main.ts'), ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
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
  assert.deepEqual(Object.keys(out).sort(), ['ok', 'problems', 'total']);
  assert.equal(out.total, 5);
  assert.equal(out.ok, 4);
  assert.deepEqual(Object.keys(out.problems[0]).sort(), ['detail', 'file', 'problem']);
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

test('usage errors are clear and exit 2', () => {
  const r = happysad('train', '/tmp');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /needs --out/);
  const u = happysad('frobnicate');
  assert.equal(u.code, 2);
  assert.match(u.stderr, /unknown command/);
  const bad = happysad('arch', 'seed-a', '--input', '48x48x2');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /channels must be 1/);
});
