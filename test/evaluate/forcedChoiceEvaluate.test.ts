import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OptionError } from '../../src/base/errors.js';
import { evaluate } from '../../src/evaluate/evaluate.js';
import { buildEvaluationReportData, renderEvaluationReportHtml } from '../../src/report/evaluationReport.js';
import { createClassifier, type Classifier } from '../../src/predict/classifier.js';
import { writeBytes } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';
import { greyImage, threeClassBundle } from '../../testkit/threeClassModel.js';

// evaluate with a happy/neutral/sad model on a folder of happy and sad faces only: the model's own
// figures (a face it calls neutral is wrong) and the forced-choice ones, both from one pass.

let data: string;
let model: Classifier;

/** Brightness per image: 0.85 / 0.15 the model calls happy / sad; 0.58 / 0.42 neutral, but happy / sad under forced choice. */
async function folder(classes: Record<string, number[]>): Promise<string> {
  const dir = await tempDir();
  let seed = 1;
  for (const [cls, ms] of Object.entries(classes)) for (const m of ms) await writeBytes(join(dir, cls, `${cls}_${seed}.png`), await greyImage(m, seed++));
  return dir;
}

before(async () => {
  data = await folder({ happy: [0.85, 0.86, 0.58, 0.59], sad: [0.15, 0.14, 0.42, 0.41] });
  model = await createClassifier(await threeClassBundle({ forcedChoice: { between: ['happy', 'sad'], threshold: 0.5 } }));
});
after(async () => {
  await model?.close();
});

test('a 3-class model on a happy/sad folder: its own figures with a neutral column, and the forced-choice figures', async () => {
  const r = await evaluate(data, model);
  assert.deepEqual(r.report.classes, ['happy', 'neutral', 'sad']);
  assert.deepEqual(r.report.confusion.matrix, [[2, 2, 0], [0, 0, 0], [0, 2, 2]], 'the weak faces are called neutral: wrong here');
  assert.equal(r.report.balancedAccuracy, 0.5);
  assert.deepEqual(r.rows.map((x) => x.label).sort(), ['happy', 'happy', 'neutral', 'neutral', 'neutral', 'neutral', 'sad', 'sad']);
  const f = r.forcedChoice!;
  assert.deepEqual(f.classes, ['happy', 'sad']);
  assert.equal(f.n, 8);
  assert.equal(f.balancedAccuracy, 1, 'between happy and sad alone, every face is right');
  assert.deepEqual(f.confusion.matrix, [[4, 0], [0, 4]]);
  assert.equal(f.auc, 1);
  assert.equal(f.threshold, 0.5);
  assert.equal(r.leftOut, undefined);
});

test('the --report page shows both: its own figures and a forced-choice section with its own confusion and recalls', async () => {
  const r = await evaluate(data, model);
  const report = buildEvaluationReportData(r, model.bundle);
  assert.equal(report.forcedChoice?.balancedAccuracy, 1);
  const html = await renderEvaluationReportHtml(report, { root: data });
  assert.match(html, /<dt>Forced choice \(happy \/ sad\) balanced accuracy<\/dt><dd>100\.0%<\/dd>/);
  assert.match(html, /<dt>Balanced accuracy<\/dt><dd>50\.0%<\/dd>/, 'the model\'s own figure stays beside it');
  const section = html.slice(html.indexOf('<section id="forced-choice">'));
  assert.ok(section.length < html.length, 'the forced-choice section is there');
  assert.match(section, /id="forced-choice-confusion-matrix"/);
  assert.match(section, /<tr><th scope="row">happy<\/th><td>1\.000<\/td><td>1\.000<\/td><td>1\.000<\/td><td>4<\/td><\/tr>/);
  // A forced-choice evaluation has no second set to show.
  const forcedOnly = buildEvaluationReportData(await evaluate(data, model, { forcedChoice: true }), model.bundle);
  assert.equal(forcedOnly.forcedChoice, null);
  assert.doesNotMatch(await renderEvaluationReportHtml(forcedOnly, { root: data }), /id="forced-choice"/);
});

test('forcedChoice: only the forced-choice figures and rows; images of other classes are left out and counted', async () => {
  const mixed = await folder({ happy: [0.85, 0.58], neutral: [0.5, 0.52], sad: [0.15, 0.42] });
  const r = await evaluate(mixed, model, { forcedChoice: true });
  assert.deepEqual(r.report.classes, ['happy', 'sad']);
  assert.equal(r.report.n, 4);
  assert.equal(r.report.balancedAccuracy, 1);
  assert.equal(r.forcedChoice, undefined);
  assert.equal(r.leftOut, 2);
  assert.deepEqual(r.rows.map((x) => x.truth).sort(), ['happy', 'happy', 'sad', 'sad']);
  assert.ok(r.rows.every((x) => x.label === x.truth && (x.truth === 'happy' ? x.score >= 0.5 : x.score < 0.5)), JSON.stringify(r.rows));
  // The same folder without the option: all six images, neutral ones recalled by the model itself.
  const own = await evaluate(mixed, model);
  assert.equal(own.report.n, 6);
  assert.equal(own.report.perClass.neutral!.recall, 1);
  assert.equal(own.forcedChoice!.n, 4);
});

test('a model forced choice cannot apply to: refused when asked, before any image is read; not reported otherwise', async () => {
  const pets = await createClassifier(await threeClassBundle({ name: 'pets', classes: ['cat', 'dog', 'fish'], positiveClass: 'dog' }));
  try {
    const petData = await folder({ cat: [0.8], dog: [0.2] });
    await assert.rejects(evaluate(join(petData, 'missing'), pets, { forcedChoice: true }), (err: unknown) => err instanceof OptionError && /model "pets" has the classes cat, dog, fish/.test(err.message));
    const r = await evaluate(petData, pets);
    assert.equal(r.forcedChoice, undefined);
    assert.equal(r.report.n, 2);
  } finally {
    await pets.close();
  }
});
