import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { mergeResults } from '../../src/batch/mergeResults.js';
import type { ResultRow, VideoEndRow, VideoRow } from '../../src/predict/predictionRow.js';
import { ResultsFile } from '../../src/batch/resultsFile.js';
import { tempDir } from '../../testkit/tempDir.js';

const classes = ['happy', 'sad'];
const model = 'default@aaaaaaaaaaaa';
const row = (i: number, faces = 1): ResultRow => ({
  file: `photos/p${i}.jpg`, sha256: `h${i}`, label: 'happy', score: 0.9, probabilities: { happy: 0.9, sad: 0.1 },
  faces: Array.from({ length: faces }, (_, k) => ({ box: [k, 0, 10, 10], label: 'happy', score: 0.9, detector_score: 0.8, probabilities: { happy: 0.9, sad: 0.1 } })),
});
const jsonRows = async (file: string) => (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as ResultRow);

test('an --out file is never replaced: without --resume an existing one is refused, untouched', async () => {
  const file = join(await tempDir(), 'mine.jsonl');
  await writeFile(file, 'my own notes\n');
  await assert.rejects(ResultsFile.open(file, { classes, model }), /already exists; add --resume/);
  assert.equal(await readFile(file, 'utf8'), 'my own notes\n');
  await assert.rejects(ResultsFile.open(file, { classes, model, resume: true }), /line 1 is not a JSON row with a "file"; this is not a results file that happysad predict --out wrote/);
  assert.equal(await readFile(file, 'utf8'), 'my own notes\n');
  await assert.rejects(ResultsFile.open(join(await tempDir(), 'out.txt'), { classes, model }), /name it \.jsonl .* or \.csv/);
});

test('JSON Lines: resume keeps every complete row, drops a torn last line, writes nothing twice', async () => {
  const file = join(await tempDir(), 'r.jsonl');
  const first = await ResultsFile.open(file, { classes, model });
  assert.equal(await first.append([row(1), row(2)]), 2);
  assert.equal(await first.append([row(2), row(3)]), 1, 'a row already written is not written again');
  await first.close();
  await appendFile(file, '{"file":"photos/p4.jpg","sha2'); // a chunk cut by a crash
  const again = await ResultsFile.open(file, { classes, model, resume: true });
  assert.deepEqual([...again.done.keys()], ['photos/p1.jpg', 'photos/p2.jpg', 'photos/p3.jpg']);
  assert.ok(again.has('photos/p1.jpg', 'h1'));
  assert.ok(!again.has('photos/p1.jpg', 'changed'), 'a file whose content changed is done again');
  assert.equal(await again.append([row(3), row(4)]), 1);
  await again.close();
  assert.deepEqual((await jsonRows(file)).map((r) => r.file), ['photos/p1.jpg', 'photos/p2.jpg', 'photos/p3.jpg', 'photos/p4.jpg']);
});

test('CSV: one line per face; resume drops the last file\'s lines (a chunk may end between its faces)', async () => {
  const file = join(await tempDir(), 'r.csv');
  const first = await ResultsFile.open(file, { classes, model });
  await first.append([row(1, 2), { file: 'photos/bad, "quoted".jpg', error: { code: 'image-corrupt', message: 'bad,\nfile' } }, row(3, 3)]);
  await first.close();
  const text = await readFile(file, 'utf8');
  assert.equal(text.split('\n')[0], 'file,face,box,label,score,p_happy,p_sad,error,sha256,model');
  // Cut after the second of p3's three face lines.
  const cut = text.slice(0, text.lastIndexOf('photos/p3.jpg,3'));
  await writeFile(file, cut);
  const again = await ResultsFile.open(file, { classes, model, resume: true });
  assert.deepEqual([...again.done.keys()], ['photos/p1.jpg', 'photos/bad, "quoted".jpg']);
  await again.append([row(3, 3)]);
  await again.close();
  assert.equal(await readFile(file, 'utf8'), text, 'the resumed file is what an uninterrupted run writes');
  await assert.rejects(ResultsFile.open(file, { classes: ['a', 'b'], model, resume: true }), /line 1 is not the results header this model writes/);
});

test('merge: shards into one file, each row once, into a new file only', async () => {
  const dir = await tempDir();
  const parts = [join(dir, 'a.jsonl'), join(dir, 'b.jsonl')];
  for (const [k, rows] of [[row(1), row(2)], [row(2), row(3), { ...row(3), sha256: 'other content' }]].entries()) {
    const f = await ResultsFile.open(parts[k]!, { classes, model });
    await f.append(rows);
    await f.close();
  }
  const out = join(dir, 'all.jsonl');
  // p3's content changed between b's two rows: its later row supersedes the first.
  assert.deepEqual(await mergeResults(parts, out), { files: 3, rows: 3, duplicates: 1, superseded: 1, conflicts: 0, conflictExamples: [] });
  assert.deepEqual((await jsonRows(out)).map((r) => `${r.file} ${r.sha256}`), ['photos/p1.jpg h1', 'photos/p2.jpg h2', 'photos/p3.jpg other content']);
  await assert.rejects(mergeResults(parts, out), /already exists; merge into a new file/);
  await assert.rejects(mergeResults([...parts, join(dir, 'c.csv')], join(dir, 'x.jsonl')), /merge files of one format/);
});

test('resume never cuts what it cannot explain: a user\'s JSON file, a stray line, a torn line that is not a row', async () => {
  const dir = await tempDir();
  const notes = join(dir, 'notes.json');
  await writeFile(notes, '{"name":"x","important":1}'); // no newline: once taken for a torn row and cut
  await assert.rejects(ResultsFile.open(notes, { classes, model, resume: true }), /notes\.json: line 1 .* is not a JSON row with a "file"; this is not a results file/);
  assert.equal(await readFile(notes, 'utf8'), '{"name":"x","important":1}');
  const mixed = join(dir, 'r.jsonl');
  const f = await ResultsFile.open(mixed, { classes, model });
  await f.append([row(1), row(2)]);
  await f.close();
  await appendFile(mixed, 'a note I added\n');
  const before = await readFile(mixed, 'utf8');
  await assert.rejects(ResultsFile.open(mixed, { classes, model, resume: true }), /line 3 is not a JSON row/);
  assert.equal(await readFile(mixed, 'utf8'), before);
});

test('CSV: a blank line or CRLF line ends in a complete file lose nothing on resume', async () => {
  const file = join(await tempDir(), 'r.csv');
  const f = await ResultsFile.open(file, { classes, model });
  await f.append([row(1), row(2), row(3), row(4)]);
  await f.close();
  const text = await readFile(file, 'utf8');
  const lines = text.trimEnd().split('\n');
  // Edited in a spreadsheet: CRLF line ends and a blank line after the second row.
  const edited = `${[...lines.slice(0, 3), '', ...lines.slice(3)].join('\r\n')}\r\n`;
  await writeFile(file, edited);
  const again = await ResultsFile.open(file, { classes, model, resume: true });
  // Only the last file is redone (a CSV chunk may end between its faces); p1..p3 are kept.
  assert.deepEqual([...again.done.keys()], ['photos/p1.jpg', 'photos/p2.jpg', 'photos/p3.jpg']);
  await again.close();
  assert.ok((await readFile(file, 'utf8')).startsWith(edited.slice(0, edited.indexOf('photos/p4.jpg'))));
});

test('one model per results file: resume and merge refuse rows of another model', async () => {
  const dir = await tempDir();
  const a = join(dir, 'a.jsonl');
  const f = await ResultsFile.open(a, { classes, model });
  await f.append([row(1)]);
  await f.close();
  await assert.rejects(ResultsFile.open(a, { classes, model: 'other@bbbbbbbbbbbb', resume: true }), /line 1 was written by model default@aaaaaaaaaaaa, and this run's model is other@bbbbbbbbbbbb/);
  const b = join(dir, 'b.jsonl');
  const g = await ResultsFile.open(b, { classes, model: 'other@bbbbbbbbbbbb' });
  await g.append([row(2)]);
  await g.close();
  await assert.rejects(mergeResults([a, b], join(dir, 'ab.jsonl')), /b\.jsonl: line 1 was written by model other@bbbbbbbbbbbb, and .*a\.jsonl line 1 by default@aaaaaaaaaaaa/);
  // Same file and content with different answers: merged, but called conflicts, not duplicates.
  const c = join(dir, 'c.jsonl');
  const h = await ResultsFile.open(c, { classes, model });
  await h.append([{ ...row(1), label: 'sad', score: 0.1 }]);
  await h.close();
  const summary = await mergeResults([a, c], join(dir, 'ac.jsonl'));
  assert.equal(summary.conflicts, 1);
  assert.equal(summary.duplicates, 0);
  assert.deepEqual(summary.conflictExamples, ['photos/p1.jpg']);
});

test('resume: error rows are tried again; a changed file\'s new row supersedes the old', async () => {
  const file = join(await tempDir(), 'r.jsonl');
  const f = await ResultsFile.open(file, { classes, model });
  await f.append([row(1), { file: 'photos/missing.jpg', error: { code: 'not-found', message: 'photos/missing.jpg: no such file' } }]);
  await f.close();
  const again = await ResultsFile.open(file, { classes, model, resume: true });
  assert.ok(!again.has('photos/missing.jpg', undefined), 'an error row is not "done"');
  assert.equal(await again.append([{ ...row(5), file: 'photos/missing.jpg' }, { ...row(1), sha256: 'new content' }]), 2);
  await again.close();
  const third = await ResultsFile.open(file, { classes, model, resume: true });
  assert.equal(third.done.get('photos/missing.jpg'), 'h5');
  assert.equal(third.done.get('photos/p1.jpg'), 'new content');
  await third.close();
});

test('one run at a time: a second writer is refused while the first holds the file; a dead holder\'s lock is taken over', async () => {
  const file = join(await tempDir(), 'r.jsonl');
  const first = await ResultsFile.open(file, { classes, model });
  await assert.rejects(ResultsFile.open(file, { classes, model, resume: true }), new RegExp(`r\\.jsonl is being written by pid ${process.pid} on .*; two runs on one results file would mix their rows`));
  await first.append([row(1)]);
  await first.close();
  await assert.rejects(readFile(`${file}.lock`), /ENOENT/, 'released on close');
  // A run killed with SIGKILL leaves its lock: a process that no longer exists.
  await writeFile(`${file}.lock`, JSON.stringify({ host: hostname(), pid: 2 ** 22 + 12345, started: 'then' }));
  const notes: string[] = [];
  const resumed = await ResultsFile.open(file, { classes, model, resume: true, note: (l) => notes.push(l) });
  assert.match(notes.join('\n'), /is gone; taking over its lock/);
  await resumed.close();
});

test('streamed: a results file is read in small chunks, rows across chunk borders intact', async () => {
  const file = join(await tempDir(), 'r.jsonl');
  const f = await ResultsFile.open(file, { classes, model });
  await f.append(Array.from({ length: 300 }, (_, i) => row(i)));
  await f.close();
  const again = await ResultsFile.open(file, { classes, model, resume: true, highWaterMark: 97 });
  assert.equal(again.done.size, 300);
  assert.ok(again.has('photos/p299.jpg', 'h299'));
  await again.close();
});

test('--out errors say what to do: a missing folder, a folder given as the file', async () => {
  const dir = await tempDir();
  await assert.rejects(ResultsFile.open(join(dir, 'nodir', 'x.jsonl'), { classes, model }), /the folder .*nodir does not exist; create it first/);
  await assert.rejects(mergeResults([join(dir, 'none.jsonl')], join(dir, 'm.jsonl')), /none\.jsonl: no such file/);
  await mkdir(join(dir, 'folder.jsonl'));
  await assert.rejects(mergeResults([join(dir, 'folder.jsonl')], join(dir, 'm.jsonl')), /is not a regular file/);
});

test('a video is written as its rows come, in several writes, closed by its end row; one that fails midway is cut off whole', async () => {
  const file = join(await tempDir(), 'v.jsonl');
  const out = await ResultsFile.open(file, { classes, model });
  await out.append([row(1)]);
  const frame = (i: number): VideoRow => ({ file: 'clips/a.mp4', time: i / 10, frame: i, track: 1, box: [0, 0, 10, 10], label: 'sad', score: 0.7, probabilities: { happy: 0.3, sad: 0.7 }, detector_score: 0.9 });
  // More rows than one write takes, then the source fails (a queue gone, a disk full).
  async function* failing(): AsyncGenerator<VideoRow> {
    for (let i = 0; i < 2500; i++) yield frame(i);
    throw new Error('the rows stopped coming');
  }
  const before = await readFile(file, 'utf8');
  await assert.rejects(out.appendVideo('clips/a.mp4', 'va', failing(), 0.1), /the rows stopped coming/);
  assert.equal(await readFile(file, 'utf8'), before, 'nothing of the failed video stays');
  // Written again (a retried job): whole, after what was there, and then not a second time.
  async function* rows(): AsyncGenerator<VideoRow> {
    for (let i = 0; i < 2500; i++) yield frame(i);
  }
  assert.equal(await out.appendVideo('clips/a.mp4', 'va', rows(), 0.1), true);
  assert.equal(await out.appendVideo('clips/a.mp4', 'va', rows(), 0.1), false);
  await out.append([row(2)]);
  await out.close();
  const lines = await jsonRows(file);
  assert.deepEqual(lines.map((r) => r.file), ['photos/p1.jpg', ...Array(2501).fill('clips/a.mp4'), 'photos/p2.jpg']);
  assert.deepEqual((lines[2501] as unknown as VideoEndRow).video, { frames: 2500, every: 0.1 });
  const again = await ResultsFile.open(file, { classes, model, resume: true });
  assert.ok(again.has('clips/a.mp4', 'va'));
  await again.close();
});
