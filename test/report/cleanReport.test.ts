import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { OutputError } from '../../src/base/errors.js';
import type { NearDuplicateGroup } from '../../src/data/auditTypes.js';
import { imageAttributes } from '../../src/data/imageAttributes.js';
import { buildCleanReportData, renderCleanReportHtml, writeCleanReport, type CleanReportInput } from '../../src/report/cleanReport.js';
import { faceLikeImage, writeBytes } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';

/**
 * A small dataset on disk: drawn faces, the sad ones gray, one sad image a mirrored copy of a
 * happy one (a near-duplicate under two labels), and a file with a name that needs escaping.
 */
async function dataset(): Promise<{ root: string; input: CleanReportInput }> {
  const root = join(await tempDir(), 'faces <&> data');
  const files: { file: string; label: string; bytes: Buffer }[] = [];
  for (let i = 0; i < 4; i++) files.push({ file: `happy/h${i}.png`, label: 'happy', bytes: await faceLikeImage('happy', i, 96) });
  for (let i = 0; i < 3; i++) files.push({ file: `sad/s${i}.jpg`, label: 'sad', bytes: await sharp(await faceLikeImage('sad', 10 + i, 200)).grayscale().jpeg({ quality: 70 }).toBuffer() });
  files.push({ file: 'sad/<copy>.png', label: 'sad', bytes: await sharp(files[0].bytes).flop().png().toBuffer() });
  const attributes = [];
  for (const f of files) {
    await writeBytes(join(root, f.file), f.bytes);
    attributes.push({ file: f.file, label: f.label, attributes: await imageAttributes(f.bytes, f.file.endsWith('.png') ? 'png' : 'jpeg') });
  }
  const group: NearDuplicateGroup = {
    files: ['happy/h0.png', 'sad/<copy>.png', 'happy/gone.png'], labels: ['happy', 'sad', 'happy'], splits: [undefined, undefined, undefined],
    pairs: [{ a: 'happy/h0.png', b: 'sad/<copy>.png', distance: 2, mirrored: true }, { a: 'sad/<copy>.png', b: 'happy/gone.png', distance: 5, mirrored: false }],
    leak: false, conflictingLabels: true,
  };
  const input: CleanReportInput = {
    root, total: 10, ok: 8,
    problems: [{ file: 'sad/broken.jpg', problem: 'corrupt', detail: 'JPEG data is truncated' }, { file: 'happy/notes.txt', problem: 'not-image', detail: 'content is not a known image format' }],
    nearDuplicates: [group],
    attributes,
    shortcuts: [{ attribute: 'grayscale', balancedAccuracy: 0.875, detail: "75% of sad images are grayscale against 0% of happy ones; a model can learn 'gray means sad'." }],
  };
  return { root, input };
}

test('the report data: per-class figures, every image, JSON-safe (an unmeasured figure is null)', async () => {
  const { input } = await dataset();
  input.attributes.push({ file: 'sad/odd.jpg', label: 'sad', split: 'test', attributes: { ...input.attributes[4].attributes, colourfulness: Number.NaN, grayscale: false } });
  const data = buildCleanReportData(input, new Date('2026-03-04T00:00:00Z'));
  assert.equal(data.format, 'happysad-clean-report');
  assert.equal(data.createdAt, '2026-03-04T00:00:00.000Z');
  assert.deepEqual(data.data.classes, [{ label: 'happy', images: 4 }, { label: 'sad', images: 5 }]);
  assert.deepEqual({ total: data.data.total, ok: data.data.ok, problems: data.data.problems }, { total: 10, ok: 8, problems: 2 });
  const [happy, sad] = data.perClass;
  assert.equal(happy.grayscale, 0);
  assert.equal(sad.grayscale, 3 / 5);
  assert.deepEqual(sad.formats, { jpeg: 4, png: 1 });
  assert.equal(happy.median.jpegQuality, null, 'no JPEG among the happy images');
  assert.equal(sad.median.jpegQuality, 70);
  assert.equal(data.images.at(-1)?.attributes.colourfulness, null);
  assert.equal(data.images.at(-1)?.split, 'test');
  assert.ok(!('split' in data.images[0]), 'no split key for class folders');
  assert.deepEqual(JSON.parse(JSON.stringify(data)), data);
});

test('report.html: findings, charts, the duplicate group as thumbnails, problems; self-contained and escaped', async () => {
  const { root, input } = await dataset();
  const out = join(await tempDir(), 'report');
  const written = await writeCleanReport(input, out);
  assert.deepEqual(written, { dir: out, html: join(out, 'report.html'), json: join(out, 'report.json'), replaced: false });
  assert.deepEqual((await readdir(out)).sort(), ['report.html', 'report.json']);
  const json = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
  assert.equal(json.format, 'happysad-clean-report');
  assert.equal(json.images.length, 8);
  assert.equal(json.data.path, root);

  const html = await readFile(join(out, 'report.html'), 'utf8');
  for (const id of ['shortcuts', 'attributes', 'per-class', 'chart-grayscale', 'chart-format', 'chart-colourfulness', 'chart-brightness', 'chart-contrast', 'chart-border', 'chart-aspect', 'chart-width', 'chart-height', 'chart-jpegQuality', 'near-duplicates', 'group-1', 'problems', 'problem-list']) {
    assert.match(html, new RegExp(`id="${id}"`), id);
  }
  assert.equal(html.match(/<figure class="chart"/g)?.length, 10);
  assert.match(html, /<span class="value">0\.88<\/span>.*<h3>Grayscale<\/h3><p>75% of sad images are grayscale against 0% of happy ones; a model can learn &#39;gray means sad&#39;\.<\/p>/);
  assert.match(html, /conflicting labels: happy, sad/);
  assert.match(html, /2 bits, mirrored/);
  assert.match(html, /5 bits from &lt;copy&gt;\.png/, 'a copy matched through another copy names it');
  assert.ok(html.includes('faces &lt;&amp;&gt; data') && !html.includes('faces <&> data'), 'names are escaped');
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">/);
  assert.doesNotMatch(html, /<script|<link|@import|<iframe|<object/i);
  for (const m of html.matchAll(/\s(?:src|href)="([^"]*)"/g)) assert.match(m[1], /^data:image\/jpeg;base64,/);

  // Thumbnails: the two readable files of the group, at most 128 px; the missing one has a placeholder.
  const thumbs = [...html.matchAll(/<img src="data:image\/jpeg;base64,([^"]+)" width="(\d+)" height="(\d+)" alt="([^"]*)"/g)];
  assert.deepEqual(thumbs.map((t) => t[4]), ['happy/h0.png: happy', 'sad/&lt;copy&gt;.png: sad']);
  for (const t of thumbs) {
    const meta = await sharp(Buffer.from(t[1], 'base64')).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', Number(t[2]), Number(t[3])]);
    assert.ok(Math.max(meta.width!, meta.height!) === 96, 'a 96 px image is not enlarged');
  }
  assert.match(html, /<figure class="dup odd"><img [^>]*alt="sad\/&lt;copy&gt;\.png: sad"/, 'the copy under the other label is marked');
  assert.match(html, /<div class="missing" role="img" aria-label="happy\/gone\.png: happy">image unavailable<\/div>/);
  assert.match(html, /2 file\(s\) not used: 1 corrupt, 1 invalid/);
  assert.match(html, /<td>invalid \(not-image\)<\/td>/, "the kind, with the finer problem it hides");
});

test('nothing found, or too little to judge: the page says which', async () => {
  const none = buildCleanReportData({ root: '/nowhere', total: 0, ok: 0, problems: [], nearDuplicates: [], attributes: [], shortcuts: [] });
  const empty = await renderCleanReportHtml(none, { root: '/nowhere' });
  assert.match(empty, /Not checked: shortcuts need at least two classes/);
  assert.match(empty, /No usable images/);
  assert.match(empty, /id="near-duplicates">\s*<h2>Near-duplicates<\/h2>\s*<p class="note ok">None found\.<\/p>/);
  assert.match(empty, /None: every file is a usable image\./);
  const { input } = await dataset();
  const few = await renderCleanReportHtml(buildCleanReportData({ ...input, shortcuts: [] }), { root: input.root });
  assert.match(few, /Not checked: too few images to tell a pattern from luck \(fewer than 20 in happy, sad\)/);
});

test("the report folder: a user's folder and the dataset are refused, an earlier data check report is replaced, an evaluation report is not", async () => {
  const { root, input } = await dataset();
  const parent = await tempDir();
  const theirs = join(parent, 'theirs');
  await mkdir(theirs);
  await writeFile(join(theirs, 'thesis.tex'), 'mine');
  await assert.rejects(writeCleanReport(input, theirs), (e: unknown) => e instanceof OutputError && /already holds 1 item\(s\) \(e\.g\. thesis\.tex\) and is not a happysad report; nothing was written/.test(e.message));
  assert.deepEqual(await readdir(theirs), ['thesis.tex']);
  await assert.rejects(writeCleanReport(input, join(root, 'report')), /is inside .* which is read as input/);

  const out = join(parent, 'report');
  await writeCleanReport(input, out);
  await writeFile(join(out, 'notes.txt'), 'kept');
  const again = await writeCleanReport({ ...input, shortcuts: [] }, out);
  assert.equal(again.replaced, true);
  assert.deepEqual(JSON.parse(await readFile(join(out, 'report.json'), 'utf8')).shortcuts, []);
  assert.equal(await readFile(join(out, 'notes.txt'), 'utf8'), 'kept');

  const evaluation = join(parent, 'evaluation');
  await mkdir(evaluation);
  await writeFile(join(evaluation, 'report.json'), JSON.stringify({ format: 'happysad-evaluation-report', formatVersion: 1 }));
  await assert.rejects(writeCleanReport(input, evaluation), /holds a happysad evaluation report, not a data check report; nothing was written/);
});
