import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanDataset, quarantineFiles } from '../../src/data/cleanDataset.js';
import { corruptJpegVariants } from '../fixtures/corruptJpeg.js';
import { discoverDataset } from '../../src/data/discoverDataset.js';
import { faceLikeImage, makeClassFolders, pngBombHeader, writeBytes } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';

async function brokenDataset(): Promise<string> {
  const dir = await tempDir();
  await makeClassFolders(dir, 3, { split: 'train' });
  await makeClassFolders(dir, 2, { split: 'val', seedBase: 1 });
  const jpeg = await faceLikeImage('happy', 999, 64, 'jpeg');
  await writeBytes(join(dir, 'train/happy/truncated.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
  await writeBytes(join(dir, 'train/happy/notes.jpg'), 'these are my notes, not a photo\n');
  await writeBytes(join(dir, 'train/sad/really-a-png.jpg'), await faceLikeImage('sad', 998, 64, 'png'));
  await writeBytes(join(dir, 'train/sad/empty.jpg'), new Uint8Array(0));
  await writeBytes(join(dir, 'train/sad/bomb.png'), pngBombHeader(30_000, 30_000));
  await writeBytes(join(dir, 'train/sad/tiny.png'), await (await import('sharp')).default({ create: { width: 8, height: 8, channels: 3, background: '#888' } }).png().toBuffer());
  // A training image copied into val: a train/val leak.
  await writeBytes(join(dir, 'val/happy/leaked.png'), await readFile(join(dir, 'train/happy/happy_000.png')));
  return dir;
}

test('clean finds each kind of bad file by content, and the PNG named .jpg is fine', async () => {
  const dir = await brokenDataset();
  const report = await cleanDataset(await discoverDataset(dir));
  const byFile = Object.fromEntries(report.problems.map((p) => [p.file, p]));
  assert.equal(byFile['train/happy/truncated.jpg']?.problem, 'corrupt');
  assert.equal(byFile['train/happy/notes.jpg']?.problem, 'not-image');
  assert.equal(byFile['train/sad/empty.jpg']?.problem, 'not-image');
  assert.equal(byFile['train/sad/bomb.png']?.problem, 'too-large');
  assert.equal(byFile['train/sad/tiny.png']?.problem, 'too-small');
  assert.equal(byFile['val/happy/leaked.png']?.problem, 'duplicate');
  assert.match(byFile['val/happy/leaked.png'].detail, /LEAK/);
  assert.equal(byFile['train/sad/really-a-png.jpg'], undefined, 'a PNG with a .jpg name is a valid image');
  assert.equal(report.problems.length, 6);
  assert.equal(report.leaks.length, 1);
  assert.equal(report.total, 3 * 2 + 2 * 2 + 7);
  assert.equal(report.ok, report.total - 6);
  // The kept copy of the duplicate is the training one.
  assert.ok(report.valid.some((f) => f.relPath === 'train/happy/happy_000.png'));
});

test('the pixel limit is read from the header, before decoding, and is configurable', async () => {
  const dir = await tempDir();
  await makeClassFolders(dir, 2, { size: 64 });
  const strict = await cleanDataset(await discoverDataset(dir), { limits: { maxPixels: 64 * 64 - 1 } });
  assert.equal(strict.ok, 0);
  assert.ok(strict.problems.every((p) => p.problem === 'too-large'));
  const lenient = await cleanDataset(await discoverDataset(dir), { limits: { maxPixels: 64 * 64 } });
  assert.equal(lenient.ok, 4);
});

test('the same image in two classes is excluded from both', async () => {
  const dir = await tempDir();
  await makeClassFolders(dir, 2);
  await writeBytes(join(dir, 'sad/confused.png'), await readFile(join(dir, 'happy/happy_001.png')));
  const report = await cleanDataset(await discoverDataset(dir));
  const dups = report.problems.filter((p) => p.problem === 'duplicate').map((p) => p.file).sort();
  assert.deepEqual(dups, ['happy/happy_001.png', 'sad/confused.png']);
  assert.match(report.problems[0].detail, /conflicting labels/);
});

test('quarantine moves offending files keeping relative paths, and deletes nothing', async () => {
  const dir = await brokenDataset();
  const before = await countFiles(dir);
  const report = await cleanDataset(await discoverDataset(dir));
  const q = await tempDir('happysad-quarantine-');
  await quarantineFiles(dir, report.problems, q);
  assert.equal(await countFiles(dir) + await countFiles(q), before);
  assert.ok((await stat(join(q, 'train/happy/notes.jpg'))).isFile());
  assert.ok((await stat(join(q, 'val/happy/leaked.png'))).isFile());
  const again = await cleanDataset(await discoverDataset(dir));
  assert.equal(again.problems.length, 0);
  // A second quarantine into the same place refuses to overwrite.
  await writeBytes(join(dir, 'train/happy/notes.jpg'), 'again');
  const third = await cleanDataset(await discoverDataset(dir));
  const result = await quarantineFiles(dir, third.problems, q);
  assert.deepEqual(result.moved, []);
  assert.match(result.failed[0].detail, /already exists; nothing is overwritten/);
  assert.equal(await readFile(join(dir, 'train/happy/notes.jpg'), 'utf8'), 'again');
});

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n++;
  return n;
}

test('clean rejects JPEGs with damaged scan data, a cut-and-closed stream or an inflated header; --lenient-decode only the cut one', async () => {
  const v = await corruptJpegVariants();
  const dir = await tempDir();
  await writeBytes(join(dir, 'happy/genuine.jpg'), v.genuine);
  await writeBytes(join(dir, 'happy/scrambled.jpg'), v.scrambled);
  await writeBytes(join(dir, 'happy/half.jpg'), v.halfWithEnd);
  await writeBytes(join(dir, 'sad/inflated.jpg'), v.inflatedHeader);
  await writeBytes(join(dir, 'sad/other.jpg'), (await corruptJpegVariants(8)).genuine);
  const strict = await cleanDataset(await discoverDataset(dir));
  assert.deepEqual(strict.problems.map((p) => [p.file, p.problem]), [['happy/half.jpg', 'corrupt'], ['happy/scrambled.jpg', 'corrupt'], ['sad/inflated.jpg', 'corrupt']]);
  assert.match(strict.problems[0].detail, /--lenient-decode/);
  const lenient = await cleanDataset(await discoverDataset(dir), { limits: { failOn: 'truncated' } });
  assert.ok(lenient.problems.length < strict.problems.length);
  assert.ok(lenient.valid.some((f) => f.relPath === 'happy/genuine.jpg'));
});
