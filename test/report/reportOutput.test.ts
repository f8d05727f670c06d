import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OutputError } from '../../src/base/errors.js';
import { claimReportOutput, writeReportFiles } from '../../src/report/reportOutput.js';
import { tempDir } from '../../testkit/tempDir.js';

const ours = JSON.stringify({ format: 'happysad-evaluation-report', formatVersion: 1 });

test('a new or empty folder is claimed; an earlier report is claimed for replacing', async () => {
  const root = await tempDir();
  assert.deepEqual(await claimReportOutput(join(root, 'new', 'deeper')), { dir: join(root, 'new', 'deeper'), replaces: false });
  await mkdir(join(root, 'empty'));
  assert.deepEqual(await claimReportOutput(join(root, 'empty')), { dir: join(root, 'empty'), replaces: false });
  await mkdir(join(root, 'old'));
  await writeFile(join(root, 'old', 'report.json'), ours);
  assert.deepEqual(await claimReportOutput(join(root, 'old')), { dir: join(root, 'old'), replaces: true });
  // A link to a folder names that folder.
  await symlink(join(root, 'old'), join(root, 'link'));
  assert.deepEqual(await claimReportOutput(join(root, 'link')), { dir: join(root, 'old'), replaces: true });
});

test('a file, a folder of other things, a look-alike report.json and the input itself are refused', async () => {
  const root = await tempDir();
  await writeFile(join(root, 'file.html'), 'x');
  await assert.rejects(claimReportOutput(join(root, 'file.html')), (e: unknown) => e instanceof OutputError && /is a file/.test(e.message));
  await mkdir(join(root, 'theirs'));
  await writeFile(join(root, 'theirs', 'report.json'), JSON.stringify({ format: 'something-else' }));
  await assert.rejects(claimReportOutput(join(root, 'theirs'), { flag: '--report' }), /--report .*theirs is a folder that already holds 1 item\(s\) \(e\.g\. report\.json\) and is not a happysad report/);
  const data = join(root, 'data');
  await mkdir(data);
  await assert.rejects(claimReportOutput(join(data, 'sub', 'report'), { inputs: [data] }), /is inside .*data, which is read as input/);
  await assert.rejects(claimReportOutput(root, { inputs: [data] }), /contains .*data, which is read as input/);
  await symlink(join(root, 'nowhere'), join(root, 'dangling'));
  await assert.rejects(claimReportOutput(join(root, 'dangling')), /broken symbolic link/);
});

test('writeReportFiles swaps the files in whole, keeps what a user added, and leaves no temp folders', async () => {
  const root = await tempDir();
  const dir = join(root, 'report');
  await writeReportFiles(await claimReportOutput(dir), { 'report.json': ours, 'report.html': 'v1' });
  await writeFile(join(dir, 'notes.txt'), 'mine');
  await writeReportFiles(await claimReportOutput(dir), { 'report.json': ours, 'report.html': 'v2' });
  assert.equal(await readFile(join(dir, 'report.html'), 'utf8'), 'v2');
  assert.equal(await readFile(join(dir, 'notes.txt'), 'utf8'), 'mine');
  assert.deepEqual((await readdir(root)).sort(), ['report']);
  // The folder changed hands between the claim and the write: nothing is replaced.
  const claim = await claimReportOutput(join(root, 'late'));
  await mkdir(join(root, 'late'));
  await writeFile(join(root, 'late', 'thesis.tex'), 'mine');
  await assert.rejects(writeReportFiles(claim, { 'report.json': ours }), OutputError);
  assert.deepEqual(await readdir(join(root, 'late')), ['thesis.tex']);
});

test('each kind of report replaces only its own kind', async () => {
  const root = await tempDir();
  await mkdir(join(root, 'clean'));
  await writeFile(join(root, 'clean', 'report.json'), JSON.stringify({ format: 'happysad-clean-report', formatVersion: 1 }));
  assert.deepEqual(await claimReportOutput(join(root, 'clean'), { format: 'happysad-clean-report' }), { dir: join(root, 'clean'), replaces: true });
  await assert.rejects(claimReportOutput(join(root, 'clean')), /holds a happysad data check report, not an evaluation report; nothing was written/);
  await mkdir(join(root, 'eval'));
  await writeFile(join(root, 'eval', 'report.json'), ours);
  await assert.rejects(claimReportOutput(join(root, 'eval'), { format: 'happysad-clean-report' }), /holds a happysad evaluation report, not a data check report; nothing was written/);
});

test('a FIFO or socket in an earlier report folder is refused up front, and a FIFO named report.json is never opened', async () => {
  const root = await tempDir();
  const dir = join(root, 'old');
  await mkdir(join(dir, 'notes'), { recursive: true });
  await writeFile(join(dir, 'report.json'), ours);
  execFileSync('mkfifo', [join(dir, 'notes', 'pipe')]);
  // Before: claimed, and the swap then failed copying the FIFO, after all the work.
  await assert.rejects(claimReportOutput(dir), (e: unknown) => e instanceof OutputError && /holds notes\/pipe, which is a FIFO \(named pipe\): it cannot be carried over into the new report.*Remove it, or choose a new or empty folder/.test(e.message));
  const trap = join(root, 'trap');
  await mkdir(trap);
  execFileSync('mkfifo', [join(trap, 'report.json')]);
  await assert.rejects(claimReportOutput(trap), /is a folder that already holds 1 item\(s\) \(e\.g\. report\.json\) and is not a happysad report/);
});

test('an empty folder name is refused, not ignored', async () => {
  await assert.rejects(claimReportOutput(''), (e: unknown) => e instanceof OutputError && /--report needs a folder name/.test(e.message));
});
