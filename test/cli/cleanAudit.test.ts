import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { train } from '../../src/train/train.js';
import { makeClassFolders, writeBytes } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';
import { cliArgs } from '../../testkit/compiledCli.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const happysad = (...args: string[]) => {
  const r = spawnSync(process.execPath, [...cliArgs(), ...args], { cwd: root, encoding: 'utf8', timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

const made = new Map<boolean, Promise<string>>();
/**
 * 30 generated faces a class, 12 of the happy ones (40%) turned gray: the shortcut. Made
 * once per kind: clean and train only read it.
 */
function grayBiased(biased: boolean): Promise<string> {
  if (!made.has(biased)) made.set(biased, makeGrayBiased(biased));
  return made.get(biased)!;
}

async function makeGrayBiased(biased: boolean): Promise<string> {
  const dir = await tempDir();
  await makeClassFolders(dir, 30, { size: 48 });
  if (biased) {
    const files = (await readdir(join(dir, 'happy'))).sort().slice(0, 12);
    for (const f of files) await writeBytes(join(dir, 'happy', f), await sharp(join(dir, 'happy', f)).grayscale().png().toBuffer());
  }
  return dir;
}

test('clean flags a class folder that is 40% grayscale against 0%, in JSON, in plain words and in the report; not the unbiased folders', async () => {
  const biased = await grayBiased(true);
  const out = join(await tempDir(), 'report');
  const r = happysad('clean', biased, '--json', '--report', out);
  assert.equal(r.code, 1, r.stderr);
  const json = JSON.parse(r.stdout) as { shortcuts: { attribute: string; balancedAccuracy: number; detail: string }[]; report: string };
  const gray = json.shortcuts.find((s) => s.attribute === 'grayscale' || s.attribute === 'colourfulness');
  assert.ok(gray, JSON.stringify(json.shortcuts));
  assert.ok(gray.balancedAccuracy >= 0.65);
  assert.match(gray.detail, /40% of happy/);
  const html = await readFile(json.report, 'utf8');
  assert.match(html, /Shortcuts/);
  assert.match(html, /grayscale|Grayscale/);

  const text = happysad('clean', biased);
  assert.match(text.stdout, /SHORTCUTS: .*tell the classes apart/);

  // (The unbiased folders may still report a near-duplicate pair among the generated faces.)
  const fair = happysad('clean', await grayBiased(false), '--json');
  assert.deepEqual(JSON.parse(fair.stdout).shortcuts, []);
});

test('train warns about the same shortcut before it starts', async () => {
  const warnings: string[] = [];
  const result = await train(await grayBiased(true), { arch: 'seed-a', input: [32, 32, 3], epochs: 1, batch: 16, seed: 1, workers: 1, onEvent: (e) => e.type === 'warning' && warnings.push(e.message) });
  assert.ok(warnings.some((w) => /^SHORTCUT: (grayscale|colourfulness) alone tells the classes apart \(cross-validated balanced accuracy 0\.\d\d\)/.test(w)), warnings.join('\n'));
  assert.ok(warnings.some((w) => /^SHORTCUT: .*Convert all images to grayscale \(train --input HxWx1\), or balance/.test(w)), 'an RGB model is told to go gray');
  result.bundle.model.dispose();
});

test('a grayscale model (input HxWx1, as face-48 takes) is warned about the gray share without being told to convert to grayscale', async () => {
  const warnings: string[] = [];
  const result = await train(await grayBiased(true), { arch: 'face-48', input: [32, 32, 1], epochs: 1, batch: 16, seed: 1, workers: 1, onEvent: (e) => e.type === 'warning' && warnings.push(e.message) });
  const shortcuts = warnings.filter((w) => w.startsWith('SHORTCUT: '));
  assert.ok(shortcuts.length > 0, warnings.join('\n'));
  for (const w of shortcuts) {
    assert.doesNotMatch(w, /Convert all images to grayscale|--input HxWx1\)/);
    assert.match(w, /the model being trained sees grayscale \(input HxWx1\), so the colour itself is hidden from it/);
  }
  result.bundle.model.dispose();
});
