/**
 * Trains one member of the default model shipped in models/default/ (used by `happysad predict`
 * without --model), with one fixed recipe so anyone can rerun it; scripts/trainDefaultEnsemble.ts
 * (`npm run train:default`) runs it once per member and averages the results.
 *
 *   npm run train:default-member -- DATA_DIR [--out DIR] [--holdout 0.1] [--seed 2026] ...
 *   (= node --import tsx scripts/trainDefaultModel.ts DATA_DIR ...)
 *
 * Two stages, each with its own early stopping: stage 1 trains from scratch at Adam's 1e-3; stage 2
 * starts from stage 1's best weights (train()'s initialWeights) at 1e-4, a step decay whose second
 * step begins from the best epoch rather than the last, which one run with a learningRateSchedule
 * could not do.
 *
 * DATA_DIR is FER2013 restricted to happy/sad: DATA_DIR/train/{happy,sad} and
 * DATA_DIR/validation/{happy,sad} (48x48 grayscale face crops). Validation drives early stopping,
 * best-epoch selection and the decision threshold, so its figures are optimistic; to keep one
 * honest check, a seeded, class-stratified --holdout fraction of DATA_DIR/train is never trained
 * on and is scored at the end as the bundle's "test" split. No image is copied: the script
 * builds a folder of symlinks under the OS temp dir (nothing is written into DATA_DIR) and
 * removes it afterwards.
 */
import { mkdtemp, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { METADATA_FILE } from '../src/model/modelBundle.js';
import { train, type TrainResult } from '../src/train/train.js';
import type { TrainInput } from '../src/train/trainOptions.js';
import { formatEvaluationReport, type EvaluationReport } from '../src/evaluate/computeMetrics.js';
import type { BundleMetadata } from '../src/model/bundleMetadata.js';
import { Random } from '../src/base/random.js';
import { createProgressRenderer } from '../cli/progressBar.js';

const USAGE = `usage: node --import tsx scripts/trainDefaultModel.ts DATA_DIR [options]
  --out DIR          bundle to write (default models/default: a single model in place of the shipped ensemble)
  --name NAME        name recorded in the bundle (default "default")
  --holdout F        fraction of DATA_DIR/train per class kept out of training and scored at the end (default 0.1; 0 = train on all)
  --seed N           seed of the initialisation, shuffling, augmentation, dropout (default 2026; stage 2 uses N + 1)
  --holdout-seed N   seed of the holdout draw (default: --seed). Models meant to be averaged (happysad ensemble) must
                     share it, or one member's training data is another's holdout
  --epochs N         most epochs (default 40)
  --patience N       epochs without validation-loss improvement before stopping (default 6)
  --batch N          (default 64)
  --lr X             Adam learning rate (default 0.001)
  --workers N        data-parallel threads (default: all cores, at most batch/2). Batch norm normalises each worker's
                     slice on its own, so the count changes the model slightly: the shipped one used 2
  --arch NAME        architecture (default face-48)
  --extra CLASS=DIR  one more class from a folder of its images (repeatable), e.g. neutral=fer2013-expressions/train/neutral.
                     DATA_DIR/validation has no such class, so a seeded --extra-val fraction of DIR becomes its
                     validation images, after the --holdout fraction is set aside as for every class
  --extra-val F      fraction of each --extra folder used for validation (default 0.1)
  (--epochs, --patience and --lr are those of stage 1; stage 2 fine-tunes its best weights at a lower rate)
  --finetune-epochs N  most epochs of stage 2 (default 10; 0 = no stage 2)
  --finetune-lr X      Adam learning rate of stage 2 (default 0.0001)
  --finetune-patience N  (default 3)
  --finetune-seed N    seed of stage 2's shuffles, augmentations and dropout (default: --seed + stage number - 1, so stage 2 uses --seed + 1)
  --from DIR         skip stage 1: fine-tune this bundle (same architecture) instead; its recipe.json, when it has
                     one, is carried over, so the new stage is recorded after the stages that made it
  --teacher DIR      distil: train on a mix of this model's probabilities and the labels (train()'s teacher), e.g.
                     a single net from the averaged ensemble; the teacher must use the same --holdout-seed
  --distill-weight X the teacher's share of each target (default 0.7)
  --subset N         train on at most N images per class (timing runs; not for the shipped model)
  --keep-links       keep the temporary symlink folder and print its path
  --links-only       only build the symlink folder (train / validation / test = holdout), print its path and exit:
                     'happysad evaluate THAT_DIR --model models/default --split test' rescores the holdout`;

/** The recipe of the shipped model; every choice is recorded in the bundle. */
export const DEFAULT_RECIPE = {
  arch: 'face-48',
  input: [48, 48, 1],
  epochs: 40,
  patience: 6,
  restoreBest: true,
  batch: 64,
  learningRate: 1e-3,
  augment: true,
  labelSmoothing: 0.1,
  classWeight: 'balanced',
  tuneThreshold: true,
  testTimeFlip: true,
  // FER2013 images already are face crops; the bundle still records the face-crop spec, so
  // `happysad predict photo.jpg` detects and crops faces before classifying them.
  faces: 'precropped',
  // FER2013's crops are tight (brows to chin, little hair or background): a 10% margin around the
  // detector's box matches them better than the 20% a model trained on its own crops records.
  // Measured on ../shared/datasets/web-happysad (balanced accuracy / AUC): margin 0 .777/.840,
  // 0.1 .794/.831, 0.2 .766/.812, 0.3 .720/.765.
  faceCrop: { margin: 0.1 },
} satisfies TrainInput;

/** Stage 2: the same recipe from stage 1's best weights, at a tenth of the rate. */
export const FINETUNE = { epochs: 10, patience: 3, learningRate: 1e-4 };

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string', default: 'models/default' },
    name: { type: 'string', default: 'default' },
    holdout: { type: 'string', default: '0.1' },
    seed: { type: 'string', default: '2026' },
    'holdout-seed': { type: 'string' },
    epochs: { type: 'string' },
    patience: { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    workers: { type: 'string' },
    subset: { type: 'string' },
    arch: { type: 'string' },
    extra: { type: 'string', multiple: true, default: [] },
    'extra-val': { type: 'string', default: '0.1' },
    'keep-links': { type: 'boolean', default: false },
    'links-only': { type: 'boolean', default: false },
    from: { type: 'string' },
    teacher: { type: 'string' },
    'distill-weight': { type: 'string' },
    'finetune-epochs': { type: 'string' },
    'finetune-lr': { type: 'string' },
    'finetune-patience': { type: 'string' },
    'finetune-seed': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help || positionals.length !== 1) {
  console.error(USAGE);
  process.exit(values.help ? 0 : 2);
}

const num = (s: string | undefined) => (s === undefined ? undefined : Number(s));
const dataDir = resolve(positionals[0]);
const holdout = Number(values.holdout);
const seed = Number(values.seed);
const holdoutSeed = num(values['holdout-seed']) ?? seed;
const subset = num(values.subset);
if (!(holdout >= 0 && holdout < 1)) throw new Error(`--holdout must be in [0, 1), got ${values.holdout}`);
const extraVal = Number(values['extra-val']);
if (!(extraVal > 0 && extraVal + holdout < 1)) throw new Error(`--extra-val must be in (0, 1 - holdout), got ${values['extra-val']}`);
const extras = (values.extra ?? []).map((e) => {
  const eq = e.indexOf('=');
  if (eq <= 0) throw new Error(`--extra wants CLASS=DIR, got "${e}"`);
  return { cls: e.slice(0, eq), dir: resolve(e.slice(eq + 1)) };
});

const IMAGE = /\.(jpe?g|png|webp|gif|bmp|tiff?)$/i;

async function listImages(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => !n.startsWith('.') && IMAGE.test(n)).sort();
  return names.map((n) => join(dir, n));
}

/**
 * DATA_DIR/train/<class> split per class into train and test (holdout) folders of symlinks;
 * DATA_DIR/validation's classes linked as they are; each --extra class split three ways (test,
 * validation, train). The draw depends only on the seed and the sorted file names.
 */
async function linkDataset(root: string): Promise<{ dir: string; held: Record<string, number>; validationFromExtra: Record<string, number> }> {
  const dir = await mkdtemp(join(tmpdir(), 'happysad-default-'));
  const trainRoot = join(root, 'train');
  const classes = (await readdir(trainRoot)).filter((n) => !n.startsWith('.')).sort();
  const sources = [...classes.map((cls) => ({ cls, dir: join(trainRoot, cls), extra: false })), ...extras.map((e) => ({ ...e, extra: true }))];
  const held: Record<string, number> = {};
  const validationFromExtra: Record<string, number> = {};
  const link = async (split: string, cls: string, list: string[]) => {
    if (list.length === 0) return;
    await mkdir(join(dir, split, cls), { recursive: true });
    for (const f of list) {
      // Two folders of one class (--extra neutral=A --extra neutral=B) may hold the same file name:
      // FER2013 reuses names across its expression folders. The second is named after its folder.
      const to = join(dir, split, cls, basename(f));
      await symlink(f, to).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
        await symlink(f, join(dir, split, cls, `${basename(dirname(f))}_${basename(f)}`));
      });
    }
  };
  for (const { cls, dir: from, extra } of sources) {
    if (!(await stat(from)).isDirectory()) continue;
    const files = await listImages(from);
    const order = new Random(holdoutSeed).derive(`holdout:${cls}`).shuffle(files.slice());
    const nHeld = Math.round(files.length * holdout);
    const nVal = extra ? Math.round(files.length * extraVal) : 0;
    const heldSet = new Set(order.slice(0, nHeld));
    const valSet = new Set(order.slice(nHeld, nHeld + nVal));
    let trainFiles = files.filter((f) => !heldSet.has(f) && !valSet.has(f));
    if (subset !== undefined) trainFiles = new Random(holdoutSeed).derive(`subset:${cls}`).shuffle(trainFiles).slice(0, subset);
    held[cls] = nHeld;
    if (extra) validationFromExtra[cls] = nVal;
    await link('train', cls, trainFiles);
    await link('test', cls, [...heldSet]);
    await link('validation', cls, [...valSet]);
  }
  for (const name of ['validation', 'val', 'valid']) {
    const v = join(root, name);
    if (!(await stat(v).then((s) => s.isDirectory(), () => false))) continue;
    await mkdir(join(dir, 'validation'), { recursive: true });
    for (const cls of (await readdir(v)).filter((n) => !n.startsWith('.')).sort()) {
      if (extras.some((e) => e.cls === cls)) throw new Error(`--extra ${cls}: DATA_DIR/${name} already has that class`);
      await symlink(join(v, cls), join(dir, 'validation', cls), 'dir');
    }
    break;
  }
  return { dir, held, validationFromExtra };
}

const line = (label: string, r: EvaluationReport | undefined) =>
  r ? `${label}: balanced accuracy ${r.balancedAccuracy.toFixed(4)}, AUC ${r.auc?.toFixed(4) ?? '-'}, accuracy ${r.accuracy.toFixed(4)}, ` +
    Object.entries(r.perClass).map(([c, m]) => `${c} recall ${m.recall.toFixed(4)} (n=${m.support})`).join(', ') : `${label}: -`;

/** Temp folders to remove even when the user quits with a second Ctrl-C. */
const tempDirs: string[] = [];
let current: AbortController | undefined;

/**
 * Ctrl-C (or SIGTERM) ends the stage in progress after the current batch and keeps its best epoch
 * so far (a later stage still runs from it); a second one quits at once.
 */
function onStop(sig: string): void {
  if (!current || current.signal.aborted) {
    if (!values['keep-links']) for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
    process.exit(130);
  }
  console.error(`\n${sig}: ending this stage after this batch and keeping its best epoch so far (again to quit now)`);
  current.abort();
}
process.on('SIGINT', () => onStop('SIGINT'));
process.on('SIGTERM', () => onStop('SIGTERM'));

function stopSignal(): AbortSignal {
  current = new AbortController();
  return current.signal;
}

const { dir: linked, held, validationFromExtra } = await linkDataset(dataDir);
tempDirs.push(linked);
if (values['links-only']) {
  console.log(linked);
  process.exit(0);
}
const out = resolve(values.out!);
const common: TrainInput = {
  ...DEFAULT_RECIPE,
  ...(values.arch !== undefined ? { arch: values.arch } : {}),
  ...(num(values.batch) !== undefined ? { batch: num(values.batch) } : {}),
  ...(num(values.workers) !== undefined ? { workers: num(values.workers) } : {}),
  ...(values.teacher !== undefined ? { teacher: resolve(values.teacher) } : {}),
  ...(num(values['distill-weight']) !== undefined ? { distillWeight: num(values['distill-weight']) } : {}),
  onEvent: createProgressRenderer(),
};
const stage1: TrainInput = {
  ...common,
  seed,
  ...(num(values.epochs) !== undefined ? { epochs: num(values.epochs) } : {}),
  ...(num(values.patience) !== undefined ? { patience: num(values.patience) } : {}),
  ...(num(values.lr) !== undefined ? { learningRate: num(values.lr) } : {}),
};
const finetuneEpochs = num(values['finetune-epochs']) ?? FINETUNE.epochs;
// As train() picks it. Batch-norm statistics are per worker slice, so the count is part of the recipe.
const workerCount = Math.max(1, Math.min(num(values.workers) ?? availableParallelism(), Math.ceil(Number(common.batch) / 2)));
// Each fine-tuning stage draws its own shuffles, augmentations and dropout masks (seed + stage - 1),
// so it does not replay the epochs of the stage before it.
const finetune = (stageNumber: number): TrainInput => ({
  ...common,
  seed: num(values['finetune-seed']) ?? seed + stageNumber - 1,
  epochs: finetuneEpochs,
  patience: num(values['finetune-patience']) ?? FINETUNE.patience,
  learningRate: num(values['finetune-lr']) ?? FINETUNE.learningRate,
});
console.error(`data: ${dataDir} (linked at ${linked}); holdout of train per class: ${JSON.stringify(held)}; out: ${out}`);

interface StageRecord { stage: number; options: Record<string, unknown>; seed: number | null; from?: string; epochsRun: number; bestEpoch: number | null; interrupted: boolean; seconds: number; validation?: EvaluationReport; test?: EvaluationReport }
const stages: StageRecord[] = [];
const record = (stage: number, o: TrainInput, r: TrainResult, from?: string): StageRecord => {
  const t = r.bundle.metadata.training!;
  const { onEvent: _e, signal: _s, out: _o, ...options } = o;
  return { stage, options, seed: r.bundle.metadata.seed, ...(from ? { from } : {}), epochsRun: t.epochsRun, bestEpoch: t.bestEpoch, interrupted: t.interrupted, seconds: Math.round(t.seconds), validation: r.validation, test: r.test };
};

let result: TrainResult;
let stage1Dir: string | undefined;
try {
  let from = values.from ? resolve(values.from) : undefined;
  if (from) {
    // Carry the given bundle's stages over (its recipe.json, else its own record as stage 1), so
    // recipe.json still describes the whole run.
    const earlier = await readFile(join(from, 'recipe.json'), 'utf8').then((t) => JSON.parse(t) as { stages?: StageRecord[]; holdout?: number; seed?: number; holdoutSeed?: number }, () => undefined);
    if (earlier?.stages?.length) {
      const earlierHoldoutSeed = earlier.holdoutSeed ?? earlier.seed;
      if (earlier.holdout !== holdout || earlierHoldoutSeed !== holdoutSeed) {
        throw new Error(`${values.from} was trained with --holdout ${earlier.holdout} --holdout-seed ${earlierHoldoutSeed}; fine-tune it with the same ones, or its holdout would leak into training`);
      }
      stages.push(...earlier.stages);
    } else {
      const m = JSON.parse(await readFile(join(from, METADATA_FILE), 'utf8')) as BundleMetadata;
      const t = m.training;
      stages.push({ stage: 1, options: t?.options ?? {}, seed: m.seed, from: `bundle ${values.from}`, epochsRun: t?.epochsRun ?? 0, bestEpoch: t?.bestEpoch ?? null, interrupted: t?.interrupted ?? false, seconds: Math.round(t?.seconds ?? 0), validation: m.metrics?.validation, test: m.metrics?.test });
    }
  } else {
    // Without fine-tuning stage 1 is the model; with it, stage 1 goes to a temp folder.
    stage1Dir = finetuneEpochs > 0 ? await mkdtemp(join(tmpdir(), 'happysad-default-stage1-')) : out;
    if (stage1Dir !== out) tempDirs.push(stage1Dir);
    console.error(`stage 1: Adam lr ${stage1.learningRate}, up to ${stage1.epochs} epochs, patience ${stage1.patience}`);
    result = await train(linked, { ...stage1, out: stage1Dir, overwrite: true, signal: stopSignal() });
    stages.push(record(1, stage1, result));
    from = stage1Dir;
  }
  if (finetuneEpochs > 0) {
    const n = stages.length + 1;
    const stage = finetune(n);
    console.error(`stage ${n}: fine-tuning the best stage-${n - 1} weights (${from}) with Adam lr ${stage.learningRate}, up to ${stage.epochs} epochs, patience ${stage.patience}, seed ${stage.seed}`);
    result = await train(linked, { ...stage, initialWeights: from, out, overwrite: true, signal: stopSignal() });
    stages.push(record(n, stage, result, `stage ${n - 1}`));
  }
} finally {
  if (!values['keep-links']) await rm(linked, { recursive: true, force: true });
  else console.error(`kept ${linked}`);
  if (stage1Dir && stage1Dir !== out) await rm(stage1Dir, { recursive: true, force: true });
}

// The bundle names the temp folder it was trained from; record the real data and the recipe instead.
const metaFile = join(out, METADATA_FILE);
const meta = JSON.parse(await readFile(metaFile, 'utf8')) as BundleMetadata;
const dataName = relative(process.cwd(), dataDir).startsWith('..') ? basename(dataDir) : relative(process.cwd(), dataDir);
if (meta.dataset) meta.dataset.root = dataName;
// The last stage started from a temp folder's weights; say which stage instead.
if (meta.training?.options.initialWeights !== undefined) meta.training.options.initialWeights = `stage ${stages.length - 1} (recipe.json)`;
meta.name = values.name!;
meta.source =
  `scripts/trainDefaultModel.ts on ${basename(dataDir)} (FER2013 happy/sad face crops): trained on ${subset !== undefined ? `at most ${subset} per class of ` : ''}` +
  `DATA/train minus a seeded (seed ${holdoutSeed}) class-stratified ${holdout * 100}% holdout, in ${stages.length} stage(s) (see recipe.json; ` +
  `"training" here is the last stage); DATA/validation used for early stopping, best-epoch selection and threshold tuning ` +
  `(its metrics are optimistic); metrics.test is the untouched train holdout (exact duplicates of training images excluded), ` +
  `not FER2013's own test set.`;
await writeFile(metaFile, `${JSON.stringify(meta, null, 2)}\n`);
await writeFile(join(out, 'recipe.json'), `${JSON.stringify({ script: 'scripts/trainDefaultModel.ts', data: dataName, ...(extras.length ? { extra: extras.map((e) => ({ class: e.cls, dir: relative(process.cwd(), e.dir) })), extraVal, validationFromExtra } : {}), holdout, heldOut: held, holdoutSeed, seed, subset: subset ?? null, workers: workerCount, stages }, null, 2)}\n`);

for (const st of stages) {
  console.log(`\nstage ${st.stage}: best epoch ${st.bestEpoch} of ${st.epochsRun}${st.interrupted ? ' (interrupted)' : ''}, ${st.seconds} s`);
  console.log(line('  validation (used for early stopping + threshold)', st.validation));
  console.log(line('  holdout of train (untouched)', st.test));
}
console.log(`\nthreshold ${meta.threshold.toFixed(4)}`);
if (result!.validation) console.log(`\nvalidation\n${formatEvaluationReport(result!.validation)}`);
if (result!.test) console.log(`\nholdout\n${formatEvaluationReport(result!.test)}`);
