/**
 * Rebuilds the default model (models/default): trains each member with
 * scripts/trainDefaultModel.ts (same data, same holdout, its own architecture and seed), then
 * averages them with `happysad ensemble`, its threshold tuned on DATA_DIR/validation and its test
 * figures taken on the shared train holdout that no member saw.
 *
 *   npm run train:default -- DATA_DIR [--out models/default] [--work runs/default-members] [--workers 2] [--reuse]
 *   (= node --import tsx scripts/trainDefaultEnsemble.ts DATA_DIR ...)
 *
 * About 30 min per member on 2 cores (stage 1 ~24 min, stage 2 ~4 min). --reuse keeps members
 * already in --work (a finished member is never retrained), so an interrupted run resumes.
 *
 * The shipped 3-class model (happy, neutral, sad) is made from the 2-class one by fine-tuning each
 * of its members with a third class (--from-ensemble, --extra; see RECIPES below):
 *   git archive 35585a9 models/default | tar -x --strip-components=2 -C runs/default-happysad-35585a9   (the happy/sad model)
 *   npm run train:default -- DATA_DIR --recipe neutral --from-ensemble runs/default-happysad-35585a9 --extra neutral=EXPRESSIONS/train/neutral --work runs/neutral
 * ~8 min per member on 2 cores.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../src/io/atomicWrite.js';
import { initEngine } from '../src/engine/engine.js';
import { memberBundles } from '../src/ensemble/memberBundles.js';
import { readBundle, saveBundle } from '../src/model/modelBundle.js';

/** The members of the shipped model; the holdout seed is shared so that no member trains on another's holdout. */
export const HOLDOUT_SEED = 2026;
export const DEFAULT_MEMBERS = [
  { name: 'face-48-s2026', args: ['--arch', 'face-48', '--seed', '2026'] },
  { name: 'face-48-s2031', args: ['--arch', 'face-48', '--seed', '2031'] },
  { name: 'face-48-s2036', args: ['--arch', 'face-48', '--seed', '2036'] },
];

/**
 * Per-member training runs of scripts/trainDefaultModel.ts, each after the one before, beyond the
 * architecture and seed. 'neutral' fine-tunes each member of --from-ensemble instead of training
 * from scratch: a stage at 5e-4 so the new class can reshape the features (one member's
 * validation loss was still falling after 8 epochs), then a short one at 1e-4; early stopping in each.
 */
const RECIPES: Record<string, string[][]> = {
  scratch: [[]],
  neutral: [
    ['--finetune-epochs', '8', '--finetune-lr', '5e-4', '--finetune-patience', '3'],
    ['--finetune-epochs', '4', '--finetune-lr', '1e-4', '--finetune-patience', '2'],
  ],
};

const USAGE = `usage: node --import tsx scripts/trainDefaultEnsemble.ts DATA_DIR [options]
  --out DIR            the ensemble bundle to write (default models/default)
  --work DIR           where the member bundles go (default runs/default-members)
  --workers N          data-parallel threads per member (default 2, as the shipped members used)
  --reuse              keep members already trained in --work
  --recipe NAME        ${Object.keys(RECIPES).join(' | ')} (default scratch)
  --from-ensemble DIR  start member k from member k of this ensemble (its head rebuilt for the new classes)
  --extra CLASS=DIR    one more class (repeatable), passed to each member (see scripts/trainDefaultModel.ts)
  --no-tta             the ensemble does not average each face with its mirror image (half the forward passes)`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string', default: 'models/default' },
    work: { type: 'string', default: 'runs/default-members' },
    workers: { type: 'string', default: '2' },
    reuse: { type: 'boolean', default: false },
    recipe: { type: 'string', default: 'scratch' },
    'from-ensemble': { type: 'string' },
    extra: { type: 'string', multiple: true, default: [] },
    'no-tta': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help || positionals.length !== 1) {
  console.error(USAGE);
  process.exit(values.help ? 0 : 2);
}
const data = resolve(positionals[0]);
const node = (args: string[], capture = false) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...args], { stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited with ${r.status ?? r.signal}`);
  return r.stdout ?? '';
};
const repo = fileURLToPath(new URL('..', import.meta.url));
const memberScript = join(repo, 'scripts/trainDefaultModel.ts');
const recipeArgs = RECIPES[values.recipe!];
if (!recipeArgs) throw new Error(`--recipe ${values.recipe}: not one of ${Object.keys(RECIPES).join(', ')}`);
const extraArgs = (values.extra ?? []).flatMap((e) => ['--extra', e]);
// The starting members, each saved as a bundle of its own (trainDefaultModel's --from reads a folder).
const startDirs: string[] = [];
if (values['from-ensemble']) {
  await initEngine();
  const members = await memberBundles(await readBundle(resolve(values['from-ensemble'])));
  if (members.length !== DEFAULT_MEMBERS.length) throw new Error(`--from-ensemble has ${members.length} members; the recipe has ${DEFAULT_MEMBERS.length}`);
  for (const [k, m] of members.entries()) {
    const dir = resolve(values.work!, `from-${k + 1}`);
    await saveBundle(dir, m.model, m.metadata);
    m.model.dispose();
    startDirs.push(dir);
  }
}
const memberDirs: string[] = [];
for (const m of DEFAULT_MEMBERS) {
  const dir = resolve(values.work!, m.name);
  memberDirs.push(dir);
  if (values.reuse && existsSync(join(dir, 'happysad.json'))) {
    console.error(`member ${m.name}: reusing ${dir}`);
    continue;
  }
  // Stage k of the recipe writes DIR-stage<k> (the last one DIR) and starts from the one before.
  let from = startDirs[memberDirs.length - 1];
  const seed = Number(m.args[m.args.indexOf('--seed') + 1]);
  for (const [k, stageArgs] of recipeArgs.entries()) {
    const stageDir = k === recipeArgs.length - 1 ? dir : `${dir}-stage${k + 1}`;
    if (!(values.reuse && existsSync(join(stageDir, 'happysad.json')))) {
      console.error(`member ${m.name}: stage ${k + 1} of ${recipeArgs.length} (${[...m.args, ...stageArgs].join(' ')})`);
      // A run from a bundle draws its own shuffles and dropout per stage (seed + stage - 1).
      const fromArgs = from ? ['--finetune-seed', String(seed + k), '--from', from] : [];
      node([memberScript, data, '--out', stageDir, '--name', m.name, '--holdout-seed', String(HOLDOUT_SEED), '--workers', values.workers!, ...m.args, ...stageArgs, ...extraArgs, ...fromArgs]);
    } else console.error(`member ${m.name}: reusing stage ${k + 1} in ${stageDir}`);
    from = stageDir;
  }
}

const holdout = node([memberScript, data, '--links-only', '--holdout-seed', String(HOLDOUT_SEED), ...extraArgs], true).trim();
// The mean is calibrated (temperature scaling) on the same validation images it is tuned on; the
// uncalibrated ensemble stays in --work.
const uncalibrated = resolve(values.work!, 'ensemble');
const calibrated = resolve(values.work!, 'ensemble-calibrated');
try {
  node([join(repo, 'cli/main.ts'), 'ensemble', ...memberDirs, '--out', uncalibrated, '--name', 'default', '--tune', holdout, '--test', holdout, '--no-faces', '--overwrite', ...(values['no-tta'] ? ['--no-tta'] : [])]);
  await rm(calibrated, { recursive: true, force: true });
  node([join(repo, 'cli/main.ts'), 'calibrate', uncalibrated, holdout, '--split', 'val', '--no-faces', '--out', calibrated]);
  // Only a bundle is replaced: anything else at --out is someone's and stops the script.
  if (existsSync(resolve(values.out!)) && !existsSync(join(resolve(values.out!), 'happysad.json'))) throw new Error(`--out ${values.out} exists and is not a model bundle; give another folder`);
  await rm(resolve(values.out!), { recursive: true, force: true });
  await cp(calibrated, resolve(values.out!), { recursive: true });
} finally {
  await rm(holdout, { recursive: true, force: true });
}

// What made each member, next to the ensemble (the bundle's happysad.json records their metrics).
const memberRecipes = await Promise.all(memberDirs.map((d) => readFile(join(d, 'recipe.json'), 'utf8').then((t) => JSON.parse(t) as unknown, () => null)));
const meta = JSON.parse(await readFile(join(values.out!, 'happysad.json'), 'utf8')) as { source?: string; calibration?: { fittedOn: string } };
// Temp folder names say nothing to a reader: name the data instead.
if (meta.calibration) meta.calibration.fittedOn = `DATA/validation${extraArgs.length ? ` + each extra class's validation part` : ''} (the threshold's tuning images)`;
meta.source =
  `scripts/trainDefaultEnsemble.ts: the mean of ${DEFAULT_MEMBERS.length} models trained by scripts/trainDefaultModel.ts on FER2013 happy/sad${extraArgs.length ? ` plus ${(values.extra ?? []).map((e) => e.split('=')[0]).join(', ')} (each extra class's own seeded 10% is its validation part)` : ''}` +
  `${values['from-ensemble'] ? `, each fine-tuned from the matching member of ${values['from-ensemble']} (recipe ${values.recipe})` : ''} ` +
  `(DATA/train minus a seeded (seed ${HOLDOUT_SEED}) class-stratified 10% holdout, shared by all members; see recipe.json). The threshold is tuned on ` +
  `DATA/validation, which also drove each member's early stopping, so metrics.validation is optimistic; metrics.test is the untouched ` +
  `holdout, not FER2013's own test set. Calibrated (temperature scaling) on DATA/validation.`;
await writeFileAtomic(join(values.out!, 'happysad.json'), `${JSON.stringify(meta, null, 2)}\n`);
await writeFileAtomic(join(values.out!, 'recipe.json'), `${JSON.stringify({
  script: 'scripts/trainDefaultEnsemble.ts',
  holdoutSeed: HOLDOUT_SEED,
  recipe: values.recipe,
  fromEnsemble: values['from-ensemble'] ?? null,
  extra: values.extra ?? [],
  calibration: 'happysad calibrate ENSEMBLE LINKED_DATA --split val --no-faces',
  ensemble: { tune: 'DATA/validation', test: `DATA/train holdout (10%, seed ${HOLDOUT_SEED})`, faces: 'precropped (--no-faces)', testTimeFlip: !values['no-tta'] },
  members: DEFAULT_MEMBERS.map((m, i) => ({ ...m, recipe: memberRecipes[i] })),
}, null, 2)}\n`);
// Each member's training curves, so the shipped folder still shows how its models trained.
for (const [i, m] of DEFAULT_MEMBERS.entries()) {
  const svg = await readFile(join(memberDirs[i], 'training-curves.svg'), 'utf8').catch(() => undefined);
  if (svg) await writeFileAtomic(join(values.out!, `training-curves-${m.name}.svg`), svg);
}
console.error(`wrote ${values.out}`);
