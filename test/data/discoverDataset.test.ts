import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { discoverDataset, type DatasetFile } from '../../src/data/discoverDataset.js';
import { assignValidationSplit } from '../../src/data/assignValidationSplit.js';
import { DatasetError } from '../../src/base/errors.js';
import { makeClassFolders, writeBytes } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';

test('class-folders layout: sorted classes, files found recursively, dotfiles skipped', async () => {
  const dir = await tempDir();
  await makeClassFolders(dir, 3);
  await writeBytes(join(dir, 'sad/nested/deeper.png'), 'x');
  await writeBytes(join(dir, 'happy/.DS_Store'), 'x');
  const ds = await discoverDataset(dir);
  assert.equal(ds.layout, 'class-folders');
  assert.deepEqual(ds.classes, ['happy', 'sad']);
  assert.equal(ds.files.length, 7);
  assert.ok(ds.files.some((f) => f.relPath === 'sad/nested/deeper.png' && f.label === 'sad'));
  assert.ok(ds.files.every((f) => f.split === undefined));
});

test('split layout: train/val/test, "validation" accepted for val', async () => {
  const dir = await tempDir();
  await makeClassFolders(dir, 2, { split: 'train' });
  await makeClassFolders(dir, 1, { split: 'validation' });
  await makeClassFolders(dir, 1, { split: 'test' });
  const ds = await discoverDataset(dir);
  assert.equal(ds.layout, 'split');
  const count = (s: string) => ds.files.filter((f) => f.split === s).length;
  assert.deepEqual([count('train'), count('val'), count('test')], [4, 2, 2]);
});

test('clear errors for a missing folder, one class, and an unknown class in val', async () => {
  await assert.rejects(discoverDataset('/no/such/dir'), (e: unknown) => e instanceof DatasetError && /no such folder/.test(e.message));
  const one = await tempDir();
  await mkdir(join(one, 'happy'));
  await writeBytes(join(one, 'happy/a.png'), 'x');
  await assert.rejects(discoverDataset(one), /only the class folder "happy"/);
  const bad = await tempDir();
  await makeClassFolders(bad, 1, { split: 'train' });
  await writeBytes(join(bad, 'val/angry/a.png'), 'x');
  await assert.rejects(discoverDataset(bad), /"angry" do not exist/);
});

test('validation split is stratified, seeded, and independent of listing order', async () => {
  const files: DatasetFile[] = [
    ...Array.from({ length: 50 }, (_, i) => ({ file: `/d/happy/${i}`, relPath: `happy/${i}`, label: 'happy' })),
    ...Array.from({ length: 20 }, (_, i) => ({ file: `/d/sad/${i}`, relPath: `sad/${i}`, label: 'sad' })),
  ];
  const a = assignValidationSplit(files, 0.2, 7);
  const b = assignValidationSplit([...files].reverse(), 0.2, 7);
  const c = assignValidationSplit(files, 0.2, 8);
  const valOf = (xs: typeof a) => xs.filter((f) => f.split === 'val').map((f) => f.relPath).sort();
  assert.deepEqual(valOf(a), valOf(b));
  assert.notDeepEqual(valOf(a), valOf(c));
  assert.equal(a.filter((f) => f.split === 'val' && f.label === 'happy').length, 10);
  assert.equal(a.filter((f) => f.split === 'val' && f.label === 'sad').length, 4);
  // A class of one keeps its only file for training.
  const tiny = assignValidationSplit([{ file: '/x', relPath: 'x/1', label: 'x' } as DatasetFile], 0.5, 1);
  assert.equal(tiny[0].split, 'train');
});
