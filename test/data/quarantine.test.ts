import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OptionError } from '../../src/base/errors.js';
import { quarantineFiles, type CleanProblem } from '../../src/data/cleanDataset.js';
import { writeBytes } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';
import { runCli } from '../../testkit/runCli.js';

// Quarantine moves that survive being killed, and a quarantine path that cannot work refused
// before the dataset is read. /dev/shm (tmpfs) and the temp folder are different filesystems
// here, so moves between them take the copy route.

const bad = (file: string): CleanProblem => ({ file, problem: 'corrupt', detail: 'test' });

async function crossFsDataset(): Promise<{ root: string; quarantine: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp('/dev/shm/happysad-q-');
  const quarantine = join(await tempDir(), 'quarantine');
  return { root, quarantine, cleanup: () => rm(root, { recursive: true, force: true }) };
}

test('across filesystems: the file arrives whole, the original goes, no temporary file is left', async () => {
  const { root, quarantine, cleanup } = await crossFsDataset();
  try {
    const bytes = Buffer.alloc(300_000, 7);
    await writeBytes(join(root, 'happy', 'a.jpg'), bytes);
    const r = await quarantineFiles(root, [bad('happy/a.jpg')], quarantine);
    assert.deepEqual(r, { moved: [join(quarantine, 'happy', 'a.jpg')], failed: [] });
    assert.deepEqual(await readFile(join(quarantine, 'happy', 'a.jpg')), bytes);
    assert.equal(existsSync(join(root, 'happy', 'a.jpg')), false);
    assert.deepEqual(await readdir(join(quarantine, 'happy')), ['a.jpg']);
  } finally {
    await cleanup();
  }
});

test('a rerun after a kill: a leftover partial copy is redone, a complete copy beside the original finishes the move', async () => {
  const { root, quarantine, cleanup } = await crossFsDataset();
  try {
    const a = Buffer.alloc(200_000, 1);
    const b = Buffer.alloc(200_000, 2);
    await writeBytes(join(root, 'happy', 'a.jpg'), a);
    await writeBytes(join(root, 'happy', 'b.jpg'), b);
    await writeBytes(join(root, 'happy', 'c.jpg'), 'mine');
    await mkdir(join(quarantine, 'happy'), { recursive: true });
    // Killed during the copy of a.jpg: a truncated copy under the temporary name.
    await writeFile(join(quarantine, 'happy', '.a.jpg.happysad-partial'), a.subarray(0, 5000));
    // Killed after b.jpg's copy took its name, before the original was removed.
    await writeFile(join(quarantine, 'happy', 'b.jpg'), b);
    // A different file already in the quarantine under c.jpg's name: never overwritten.
    await writeFile(join(quarantine, 'happy', 'c.jpg'), 'theirs');
    const r = await quarantineFiles(root, [bad('happy/a.jpg'), bad('happy/b.jpg'), bad('happy/c.jpg')], quarantine);
    assert.deepEqual(r.moved, [join(quarantine, 'happy', 'a.jpg'), join(quarantine, 'happy', 'b.jpg')]);
    assert.equal(r.failed.length, 1);
    assert.match(r.failed[0]!.detail, /c\.jpg already exists; nothing is overwritten \(its content differs from .*c\.jpg/);
    assert.deepEqual(await readFile(join(quarantine, 'happy', 'a.jpg')), a);
    assert.deepEqual(await readFile(join(quarantine, 'happy', 'b.jpg')), b);
    assert.equal(await readFile(join(quarantine, 'happy', 'c.jpg'), 'utf8'), 'theirs');
    assert.deepEqual((await readdir(join(quarantine, 'happy'))).sort(), ['a.jpg', 'b.jpg', 'c.jpg'], 'no temporary file left');
    assert.deepEqual(await readdir(join(root, 'happy')), ['c.jpg']);
  } finally {
    await cleanup();
  }
});

test('--quarantine naming a file is refused before any file is checked', async () => {
  const root = await tempDir();
  await writeBytes(join(root, 'happy', 'x.jpg'), 'not an image');
  await writeBytes(join(root, 'sad', 'y.jpg'), 'not an image either');
  const file = await writeBytes(join(await tempDir(), 'notes.txt'), 'keep me');
  await assert.rejects(quarantineFiles(root, [bad('happy/x.jpg')], file), (e: unknown) => e instanceof OptionError && /is a file, not a folder/.test(e.message));
  const r = runCli(['clean', root, '--quarantine', file]);
  assert.equal(r.code, 2, 'a usage error');
  assert.match(r.stderr, /--quarantine .*notes\.txt is a file, not a folder; offending files are moved into a folder, keeping their paths: choose a new folder name/);
  assert.doesNotMatch(r.stdout, /x\.jpg/, 'nothing was checked');
  assert.equal(await readFile(file, 'utf8'), 'keep me');
  assert.equal(runCli(['clean', root, '--quarantine', '']).stderr.includes('--quarantine needs a folder name'), true);
});
