import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mergeResults } from '../../src/batch/mergeResults.js';
import type { ResultRow } from '../../src/batch/resultRows.js';
import { ResultsFile } from '../../src/batch/resultsFile.js';
import { tempDir } from '../fixtures/makeImages.js';

const classes = ['happy', 'sad'];
const row = (i: number, faces = 1): ResultRow => ({
  file: `photos/p${i}.jpg`, sha256: `h${i}`, label: 'happy', score: 0.9, probabilities: { happy: 0.9, sad: 0.1 },
  faces: Array.from({ length: faces }, (_, k) => ({ box: [k, 0, 10, 10], label: 'happy', score: 0.9, detector_score: 0.8, probabilities: { happy: 0.9, sad: 0.1 } })),
});
const jsonRows = async (file: string) => (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as ResultRow);

test('an --out file is never replaced: without --resume an existing one is refused, untouched', async () => {
  const file = join(await tempDir(), 'mine.jsonl');
  await writeFile(file, 'my own notes\n');
  await assert.rejects(ResultsFile.open(file, { classes }), /already exists; add --resume/);
  assert.equal(await readFile(file, 'utf8'), 'my own notes\n');
  await assert.rejects(ResultsFile.open(file, { classes, resume: true }), /not a JSON row; this is not a happysad results file/);
  assert.equal(await readFile(file, 'utf8'), 'my own notes\n');
  await assert.rejects(ResultsFile.open(join(await tempDir(), 'out.txt'), { classes }), /name it \.jsonl .* or \.csv/);
});

test('JSON Lines: resume keeps every complete row, drops a torn last line, writes nothing twice', async () => {
  const file = join(await tempDir(), 'r.jsonl');
  const first = await ResultsFile.open(file, { classes });
  assert.equal(await first.append([row(1), row(2)]), 2);
  assert.equal(await first.append([row(2), row(3)]), 1, 'a row already written is not written again');
  await first.close();
  await appendFile(file, '{"file":"photos/p4.jpg","sha2'); // a chunk cut by a crash
  const again = await ResultsFile.open(file, { classes, resume: true });
  assert.deepEqual([...again.done.keys()], ['photos/p1.jpg', 'photos/p2.jpg', 'photos/p3.jpg']);
  assert.ok(again.has('photos/p1.jpg', 'h1'));
  assert.ok(!again.has('photos/p1.jpg', 'changed'), 'a file whose content changed is done again');
  assert.equal(await again.append([row(3), row(4)]), 1);
  await again.close();
  assert.deepEqual((await jsonRows(file)).map((r) => r.file), ['photos/p1.jpg', 'photos/p2.jpg', 'photos/p3.jpg', 'photos/p4.jpg']);
});

test('CSV: one line per face; resume drops the last file\'s lines (a chunk may end between its faces)', async () => {
  const file = join(await tempDir(), 'r.csv');
  const first = await ResultsFile.open(file, { classes });
  await first.append([row(1, 2), { file: 'photos/bad, "quoted".jpg', error: { code: 'image-corrupt', message: 'bad,\nfile' } }, row(3, 3)]);
  await first.close();
  const text = await readFile(file, 'utf8');
  assert.equal(text.split('\n')[0], 'file,face,box,label,score,p_happy,p_sad,error,sha256');
  // Cut after the second of p3's three face lines.
  const cut = text.slice(0, text.lastIndexOf('photos/p3.jpg,3'));
  await writeFile(file, cut);
  const again = await ResultsFile.open(file, { classes, resume: true });
  assert.deepEqual([...again.done.keys()], ['photos/p1.jpg', 'photos/bad, "quoted".jpg']);
  await again.append([row(3, 3)]);
  await again.close();
  assert.equal(await readFile(file, 'utf8'), text, 'the resumed file is what an uninterrupted run writes');
  await assert.rejects(ResultsFile.open(file, { classes: ['a', 'b'], resume: true }), /not this model's results header/);
});

test('merge: shards into one file, each row once, into a new file only', async () => {
  const dir = await tempDir();
  const parts = [join(dir, 'a.jsonl'), join(dir, 'b.jsonl')];
  for (const [k, rows] of [[row(1), row(2)], [row(2), row(3), { ...row(3), sha256: 'other content' }]].entries()) {
    const f = await ResultsFile.open(parts[k]!, { classes });
    await f.append(rows);
    await f.close();
  }
  const out = join(dir, 'all.jsonl');
  assert.deepEqual(await mergeResults(parts, out), { files: 3, rows: 4, duplicates: 1 });
  assert.deepEqual((await jsonRows(out)).map((r) => `${r.file} ${r.sha256}`), ['photos/p1.jpg h1', 'photos/p2.jpg h2', 'photos/p3.jpg h3', 'photos/p3.jpg other content']);
  await assert.rejects(mergeResults(parts, out), /already exists; merge into a new file/);
  await assert.rejects(mergeResults([...parts, join(dir, 'c.csv')], join(dir, 'x.jsonl')), /merge files of one format/);
});
