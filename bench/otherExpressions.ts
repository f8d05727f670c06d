/**
 * What a model calls faces of classes it was not trained on (FER2013's angry, fearful and surprised
 * faces; also neutral for a model without that class): for each folder, the share of each label and
 * the median p(positive class). The model card's "faces that are neither" table comes from here.
 *
 *   node --import tsx bench/otherExpressions.ts [--model DIR] [--forced-choice] [--limit N] FOLDER...
 *   (default: the four folders of ../shared/datasets/fer2013-expressions/train, whole images as face crops)
 *
 * Every image of those folders is held out from the default model's training except the neutral
 * one's training part: pass the neutral holdout folder (scripts/trainDefaultModel.ts --links-only)
 * to measure neutral faces honestly.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel } from '../src/predict/classifier.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    model: { type: 'string' },
    'forced-choice': { type: 'boolean', default: false },
    limit: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const shared = resolve('../shared/datasets/fer2013-expressions/train');
const folders = positionals.length ? positionals.map((p) => resolve(p)) : ['angry', 'fear', 'surprise'].map((c) => join(shared, c)).filter((d) => existsSync(d));
if (!folders.length) {
  console.error('no folders: give FOLDER arguments, or put ../shared beside the repo');
  process.exit(2);
}
const classifier = await loadModel(values.model, { workers: 2 });
const classes = classifier.metadata.classes;
const positive = classifier.metadata.positiveClass;
const options = { faces: false, ...(values['forced-choice'] ? { forcedChoice: true } : {}) };
const rows: Record<string, string | number>[] = [];
for (const dir of folders) {
  let files = readdirSync(dir).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort().map((f) => join(dir, f));
  if (values.limit) files = files.slice(0, Number(values.limit));
  const predictions = await classifier.predict(files, options as Parameters<typeof classifier.predict>[1]);
  const ok = predictions.filter((p) => p.label !== undefined);
  const scores = ok.map((p) => p.score!).sort((a, b) => a - b);
  const row: Record<string, string | number> = { faces: basename(dir), n: ok.length };
  for (const c of classes) row[`called ${c}`] = Number((ok.filter((p) => p.label === c).length / ok.length).toFixed(3));
  row[`median p(${positive})`] = Number(scores[Math.floor(scores.length / 2)]!.toFixed(3));
  rows.push(row);
}
await classifier.close();
if (values.json) for (const r of rows) console.log(JSON.stringify(r));
else {
  const keys = Object.keys(rows[0]!);
  console.log(`| ${keys.join(' | ')} |\n| ${keys.map(() => '---').join(' | ')} |`);
  for (const r of rows) console.log(`| ${keys.map((k) => r[k]).join(' | ')} |`);
}
