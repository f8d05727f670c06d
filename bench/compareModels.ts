/**
 * Whether one model is really better than another on the default model's four figures, or only
 * differs by chance: each model's balanced accuracy on the same images, and the difference from
 * the first model with a 95% paired bootstrap interval (2,000 resamples of the images, seeded).
 * docs/default-model.md's "choices measured" come from here.
 *
 *   DATA=$(node --import tsx scripts/trainDefaultModel.ts ../shared/datasets/fer2013-happysad --links-only \
 *     --holdout-seed 2026 --extra neutral=../shared/datasets/fer2013-expressions/train/neutral)
 *   node --import tsx bench/compareModels.ts --data $DATA MODEL_DIR MODEL_DIR...
 *
 * The figures: the untouched holdout (DATA test split) over three classes and as a forced choice,
 * FER2013 validation as a forced choice (the images the thresholds are tuned on: optimistic), and
 * web-happysad with faces found as `predict` finds them, as a forced choice.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Random } from '../src/base/random.js';
import { evaluate, type EvaluateOptions } from '../src/evaluate/evaluate.js';
import { loadModel } from '../src/predict/classifier.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { data: { type: 'string' }, resamples: { type: 'string', default: '2000' } } });
if (!values.data || positionals.length < 2) {
  console.error('usage: node --import tsx bench/compareModels.ts --data DATA MODEL_DIR MODEL_DIR... (see the comment at the top)');
  process.exit(2);
}
const shared = resolve('../shared/datasets');
type Figure = { name: string; dir: string; options: EvaluateOptions; forced: boolean };
const figures: Figure[] = [
  { name: 'holdout, 3 classes', dir: values.data, options: { split: 'test', faces: false }, forced: false },
  { name: 'holdout, forced choice', dir: values.data, options: { split: 'test', faces: false, forcedChoice: true }, forced: true },
  { name: 'FER2013 validation, forced choice', dir: `${shared}/fer2013-happysad`, options: { split: 'val', faces: false, forcedChoice: true }, forced: true },
  { name: 'web-happysad, forced choice', dir: `${shared}/web-happysad`, options: { forcedChoice: true }, forced: true },
];
const sets = figures.filter((s) => existsSync(s.dir));

type Row = { truth: string; label: string };
const answers: Row[][][] = [];
for (const dir of positionals) {
  const classifier = await loadModel(dir);
  const mine: Row[][] = [];
  // A forced choice has no neutral answer, so neutral faces are not part of its figure.
  for (const s of sets) mine.push((await evaluate(s.dir, classifier, s.options)).rows.filter((r) => !s.forced || r.truth !== 'neutral').map((r) => ({ truth: r.truth, label: r.label })));
  answers.push(mine);
  await classifier.close();
}

function balancedAccuracy(rows: Row[], picks: number[]): number {
  const per = new Map<string, [number, number]>();
  for (const i of picks) {
    const r = rows[i]!;
    const c = per.get(r.truth) ?? [0, 0];
    c[0] += r.label === r.truth ? 1 : 0;
    c[1]++;
    per.set(r.truth, c);
  }
  let sum = 0;
  for (const [hit, n] of per.values()) sum += hit / n;
  return sum / per.size;
}

const resamples = Number(values.resamples);
for (const [k, s] of sets.entries()) {
  const reference = answers[0]![k]!;
  const n = reference.length;
  const all = Array.from({ length: n }, (_, i) => i);
  console.log(`${s.name} (${n} images)`);
  console.log(`  ${positionals[0]}: ${balancedAccuracy(reference, all).toFixed(4)}`);
  for (let m = 1; m < positionals.length; m++) {
    const other = answers[m]![k]!;
    // The same resamples for every model: a paired comparison on the same images.
    const rng = new Random(2026).derive(s.name);
    const diffs: number[] = [];
    for (let b = 0; b < resamples; b++) {
      const picks = all.map(() => rng.int(n));
      diffs.push(balancedAccuracy(other, picks) - balancedAccuracy(reference, picks));
    }
    diffs.sort((a, b) => a - b);
    const low = diffs[Math.floor(0.025 * resamples)]!;
    const high = diffs[Math.ceil(0.975 * resamples) - 1]!;
    const diff = balancedAccuracy(other, all) - balancedAccuracy(reference, all);
    console.log(`  ${positionals[m]}: ${balancedAccuracy(other, all).toFixed(4)}, ${diff >= 0 ? '+' : ''}${diff.toFixed(4)} [95%: ${low.toFixed(4)}, ${high.toFixed(4)}]${low > 0 || high < 0 ? ' (beyond chance)' : ''}`);
  }
}
