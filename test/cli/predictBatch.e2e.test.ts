import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { Prediction } from '../../src/predict/classifier.js';
import { tempDir } from '../../testkit/tempDir.js';
import { ROOT, batchPhotos, runCli, startCli, stopStartedClis, waitFor } from '../../testkit/runCli.js';

// Long local runs: rows land in --out as batches finish; a killed run is resumed without losing or
// repeating a row; shards split the files disjointly and merge back into the whole.

let photos: string;
let reference: Map<string, Prediction>;
const rowsOf = async (file: string) => (await readFile(file, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Prediction);

before(async () => {
  photos = join(await tempDir(), 'photos');
  await batchPhotos(photos, 60);
  const r = runCli(['predict', photos, '--json', '--no-cache', '--workers', '1']);
  assert.equal(r.code, 1, 'broken.jpg makes the exit code 1');
  reference = new Map(r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Prediction).map((p) => [p.file, p]));
  assert.equal(reference.size, 60);
});
after(async () => {
  await stopStartedClis();
});

/** Every file exactly once, with the label and score of an uninterrupted run. */
function assertComplete(rows: Prediction[]): void {
  const files = rows.map((r) => r.file);
  assert.equal(files.length, 60, 'one row per file');
  assert.equal(new Set(files).size, 60, 'no file twice');
  for (const row of rows) {
    const ref = reference.get(row.file)!;
    assert.equal(row.label, ref.label, row.file);
    assert.equal(row.score, ref.score, row.file);
    assert.equal(row.error?.code, ref.error?.code, row.file);
    assert.match(row.sha256 ?? (row.error ? 'x'.repeat(64) : ''), /^([0-9a-f]{64}|x{64})$/);
  }
  assert.equal(rows.filter((r) => r.error).length, 1, 'broken.jpg: one error row');
}

test('--out + SIGKILL mid-run + --resume: no row missing or doubled', async () => {
  const out = join(await tempDir(), 'results.jsonl');
  const run = startCli(['predict', photos, '--out', out, '--batch', '4', '--workers', '1', '--no-cache']);
  await waitFor('a few batches in the output', async () => ((await stat(out).catch(() => undefined))?.size ?? 0) > 0 && (await rowsOf(out)).length >= 8);
  run.child.kill('SIGKILL');
  await run.exited;
  const partial = await rowsOf(out);
  // The killed run's lock is left behind; its holder is dead, so resume takes it over.
  assert.ok((await stat(`${out}.lock`)).isFile());
  assert.ok(partial.length < 60, `killed mid-run (${partial.length} rows written)`);
  assert.match(runCli(['predict', photos, '--out', out]).stderr, /already exists; add --resume/);
  const resumed = runCli(['predict', photos, '--out', out, '--resume', '--batch', '4', '--workers', '1', '--no-cache']);
  assert.match(resumed.stderr, new RegExp(`resuming .*: ${partial.length} file\\(s\\) already done, ${60 - partial.length} to go`));
  assert.match(resumed.stderr, /is gone; taking over its lock/);
  assertComplete(await rowsOf(out));
  await assert.rejects(stat(`${out}.lock`), /ENOENT/, 'the lock goes with the run');
  // Resuming a finished run does nothing.
  const again = runCli(['predict', photos, '--out', out, '--resume']);
  assert.match(again.stderr, /60 file\(s\) already done, 0 to go/);
  assert.equal((await rowsOf(out)).length, 60);
});

test('two runs on one --out file: the second is refused while the first writes, and nothing is mixed', async () => {
  const out = join(await tempDir(), 'shared.jsonl');
  const run = startCli(['predict', photos, '--out', out, '--batch', '4', '--workers', '1', '--no-cache']);
  await waitFor('the first run to write', async () => ((await stat(out).catch(() => undefined))?.size ?? 0) > 0);
  // Paused, the first run is still writing (alive, holding its lock) however long the second takes
  // to start: on a busy machine it could otherwise finish first, and the second would just resume.
  run.child.kill('SIGSTOP');
  let second: ReturnType<typeof runCli>;
  try {
    second = runCli(['predict', photos, '--out', out, '--resume', '--workers', '1']);
  } finally {
    run.child.kill('SIGCONT');
  }
  assert.equal(second.code, 1, second.stderr);
  assert.match(second.stderr, /shared\.jsonl is being written by pid \d+ on .*; two runs on one results file would mix their rows/);
  assert.equal(await run.exited, 1);
  assertComplete(await rowsOf(out));
});

test('shards 1/3..3/3 (flag and SLURM variables) are disjoint, cover everything, and merge back', async () => {
  const dir = await tempDir();
  const parts = [1, 2, 3].map((i) => join(dir, `results-${i}.jsonl`));
  const shardRows: Prediction[][] = [];
  for (const i of [1, 2, 3]) {
    // Shard 2 takes its place from a SLURM array's variables, as an array job would run it.
    // Shard 3 names the folder by a relative path: it must split as the absolute one does.
    const args = ['predict', i === 3 ? relative(ROOT, photos) : photos, '--out', parts[i - 1]!, '--workers', '1', '--no-cache', '--shard', i === 2 ? 'auto' : `${i}/3`];
    const r = runCli(args, i === 2 ? { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '3' } : {});
    assert.match(r.stderr, new RegExp(`shard ${i}/3 \\(${i === 2 ? 'SLURM_ARRAY_TASK_ID' : '--shard'}\\)`));
    shardRows.push(await rowsOf(parts[i - 1]!));
  }
  const seen = shardRows.flat().map((r) => resolve(ROOT, r.file));
  assert.equal(new Set(seen).size, seen.length, 'disjoint');
  for (const rows of shardRows) assert.ok(rows.length > 5 && rows.length < 40, `a third-ish: ${rows.length}`);
  const merged = join(dir, 'all.jsonl');
  const m = runCli(['merge', ...parts, '--out', merged]);
  assert.equal(m.code, 0, m.stderr);
  assert.match(m.stderr, /3 file\(s\) merged .*: 60 image\(s\), 60 row\(s\); 0 duplicate\(s\) dropped, 0 superseded/);
  assertComplete((await rowsOf(merged)).map((r) => ({ ...r, file: resolve(ROOT, r.file) })));
  // Array-job variables alone shard nothing: a job that splits its work by folder keeps every file.
  const whole = runCli(['predict', photos, '--json', '--workers', '1'], { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '4' });
  assert.equal(whole.stdout.trim().split('\n').length, 60);
  assert.match(whole.stderr, /SLURM_ARRAY_TASK_ID is set, but every file is classified; add --shard auto/);
});
