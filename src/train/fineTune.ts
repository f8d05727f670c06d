import { randomBytes, randomInt } from 'node:crypto';
import { basename, resolve } from 'node:path';
import { initEngine } from '../engine/engine.js';
import { HappysadError, OptionError } from '../base/errors.js';
import type { ImageSet } from '../data/loadImages.js';
import type { ImageRecord, PreparedDataset } from '../data/prepareDataset.js';
import { ensembleBundles } from '../ensemble/ensembleBundles.js';
import { memberBundles } from '../ensemble/memberBundles.js';
import type { PreprocessSpec } from '../input/preprocessSpec.js';
import type { BundleMetadata, StartedFrom } from '../model/bundleMetadata.js';
import { claimBundleOutput, writeClaimedBundle } from '../model/bundleOutput.js';
import { resolveBundleDir } from '../model/defaultModel.js';
import { readBundle, saveBundle, type ModelBundle } from '../model/modelBundle.js';
import { renderTrainingCurvesSvg } from '../report/trainingCurves.js';
import { ParallelPredictor } from '../runtime/parallelPredictor.js';
import { prepareTrainingData } from './prepareTrainingData.js';
import { scoreStart } from './scoreStart.js';
import { settleOnValidation } from './settleOnValidation.js';
import { resolveTrainOptions, withFromDefaults, type TrainEvent, type TrainInput, type TrainWarning } from './trainOptions.js';
import type { TrainResult } from './train.js';

/** What fine-tuning hands each training run: the model to start from, its preprocessing, and the data, prepared once. */
export interface CarriedOver {
  initial: ModelBundle;
  preprocessing: PreprocessSpec;
  startedFrom: StartedFrom;
  data: PreparedDataset;
  /** The trained model's name (an ensemble member's). */
  name?: string;
}

/** One training run from a carried-over start (train.ts's, passed in so the two files do not import each other). */
export type TrainFrom = (dataDir: string, options: TrainInput, carried: CarriedOver) => Promise<TrainResult>;

/**
 * train() with `from`: fine-tunes a trained model on dataDir. The model's architecture, input and
 * preprocessing are kept (an option that contradicts them is refused, naming both); its face step
 * crops the training images as it will crop photos at prediction. A single model is trained from
 * its weights as train() trains any model. An ensemble is fine-tuned member by member, every
 * member from its own weights with the same seed (so all see one training/validation split), then
 * averaged again, its threshold (and forced-choice threshold) tuned on that validation split; a
 * calibration the model had is refitted there, as the average it applies to is a new one.
 */
export async function fineTune(dataDir: string, input: TrainInput, trainFrom: TrainFrom): Promise<TrainResult> {
  if (input.initialWeights !== undefined) throw new OptionError('give `from` or `initialWeights`, not both: `from` already starts from the trained model\'s weights');
  await initEngine();
  const asked = typeof input.from === 'string' ? input.from : input.from!.dir || input.from!.metadata.name;
  const owned = typeof input.from === 'string';
  const source = typeof input.from === 'string' ? await readBundle(resolveBundleDir(input.from)) : input.from!;
  let members: ModelBundle[] = [];
  const warnings: TrainWarning[] = [];
  const emit = (e: TrainEvent) => {
    if (e.type === 'warning') warnings.push({ code: e.code, message: e.message });
    input.onEvent?.(e);
  };
  try {
    members = source.metadata.members?.length ? await memberBundles(source) : [source];
    const { options, spec } = carriedOptions(input, source, members[0]!.metadata.arch, asked);
    const o = resolveTrainOptions({ ...options, seed: options.seed ?? randomInt(0, 2 ** 31 - 1) });
    const seed = o.seed!;
    // Checked before any work, as train() does: a refused --out costs the user nothing.
    const claim = o.out ? await claimBundleOutput(o.out, { overwrite: o.overwrite, inputs: [dataDir] }) : undefined;
    const data = await prepareTrainingData(dataDir, { spec, seed, valSplit: o.valSplit, limits: o.limits, faces: o.faces }, emit);
    const valSet = data.splits.val;
    if (o.calibrate && !valSet?.items.length && input.calibrate === undefined) {
      o.calibrate = false;
      emit({ type: 'warning', code: 'calibration-dropped', message: `${asked} was calibrated, but ${dataDir} leaves no validation images to refit its calibration on, so the fine-tuned model has none (its probabilities are the network's own)` });
    }
    if (o.calibrate && source.metadata.calibration && input.calibrate === undefined) emit({ type: 'stage', message: `${asked} is calibrated: the fine-tuned model's calibration is refitted on the validation images (the old temperature, ${source.metadata.calibration.temperature.toFixed(3)}, fitted another model)` });
    const validationBefore = valSet?.items.length ? await scoreStart(source, valSet) : undefined;
    if (validationBefore) emit({ type: 'stage', message: `before fine-tuning, ${source.metadata.name} scores balanced accuracy ${validationBefore.balancedAccuracy.toFixed(3)} on the ${validationBefore.n} validation images${validationBefore.forcedChoice ? ` (forced choice: ${validationBefore.forcedChoice.balancedAccuracy.toFixed(3)} on ${validationBefore.forcedChoice.n})` : ''}` });
    const startedFrom = describeStart(source, asked, members.length, validationBefore);
    if (members.length === 1) {
      const result = await trainFrom(dataDir, o, { initial: source, preprocessing: spec, startedFrom, data });
      return { ...result, warnings: [...warnings, ...result.warnings] };
    }
    return await fineTuneMembers(dataDir, o, { members, spec, startedFrom, data, claim, asked, seed, emit, warnings }, trainFrom);
  } finally {
    for (const m of members) if (m !== source) m.model.dispose();
    if (owned) source.model.dispose();
  }
}

/**
 * The options a fine-tuning run trains with: FROM_TRAIN_DEFAULTS under the caller's, the source's
 * architecture, input and face step over them (an explicit option that contradicts one of them is
 * refused: it would silently not apply), and the preprocessing the new model will record.
 */
function carriedOptions(input: TrainInput, source: ModelBundle, arch: string, asked: string): { options: TrainInput; spec: PreprocessSpec } {
  const p = source.metadata.preprocessing;
  const keeps = 'fine-tuning keeps the trained model\'s';
  const scratch = 'or train from scratch without --from';
  if (input.arch !== undefined && input.arch !== arch) throw new OptionError(`--arch ${input.arch} conflicts with --from ${asked}, a ${arch} model: ${keeps} architecture. Drop --arch, ${scratch}`);
  const shape = `${p.height}x${p.width}x${p.channels}`;
  if (input.input && input.input.join('x') !== shape) throw new OptionError(`--input ${input.input.join('x')} conflicts with --from ${asked}, whose input is ${shape}: ${keeps} input size. Drop --input, ${scratch}`);
  if (input.faces && !p.faces) throw new OptionError(`--faces conflicts with --from ${asked}, which classifies whole images (it has no face step): ${keeps} preprocessing. Drop --faces, ${scratch}`);
  for (const [key, value] of Object.entries(input.faceCrop ?? {})) {
    if (value === undefined) continue;
    const had = p.faces?.[key as keyof typeof p.faces];
    if (had !== value) throw new OptionError(`face crop ${key} ${JSON.stringify(value)} conflicts with --from ${asked}, which ${p.faces ? `crops faces with ${key} ${JSON.stringify(had)}` : 'has no face step'}: ${keeps} face crop, as its weights learned from it. Drop the option, ${scratch}`);
  }
  const spec: PreprocessSpec = { ...p, ...(input.testTimeFlip ? { testTimeFlip: true } : {}) };
  const faces = p.faces ? (input.faces ?? 'detect') : undefined;
  const options = withFromDefaults(input, { calibrate: Boolean(source.metadata.calibration) });
  return { options: { ...options, arch, input: [p.height, p.width, p.channels], faces, testTimeFlip: Boolean(spec.testTimeFlip), faceCrop: undefined, from: undefined, initialWeights: undefined }, spec };
}

function describeStart(source: ModelBundle, asked: string, members: number, validationBefore: StartedFrom['validationBefore']): StartedFrom {
  const m = source.metadata;
  const d = m.dataset;
  return {
    from: asked,
    name: m.name,
    dir: source.dir ? resolve(source.dir) : '',
    arch: m.arch,
    createdAt: m.createdAt,
    classes: m.classes,
    ...(members > 1 ? { members } : {}),
    trainedOn: d ? { root: d.root, count: d.fingerprint.count, sha256: d.fingerprint.sha256 } : null,
    ...(validationBefore ? { validationBefore } : {}),
  };
}

interface MemberRun {
  members: ModelBundle[];
  spec: PreprocessSpec;
  startedFrom: StartedFrom;
  data: PreparedDataset;
  claim: Awaited<ReturnType<typeof claimBundleOutput>> | undefined;
  asked: string;
  seed: number;
  emit: (e: TrainEvent) => void;
  warnings: TrainWarning[];
}

/** An ensemble: each member fine-tuned on the same split, then averaged and tuned on its validation images. */
async function fineTuneMembers(dataDir: string, o: ReturnType<typeof resolveTrainOptions>, run: MemberRun, trainFrom: TrainFrom): Promise<TrainResult> {
  const { members, spec, data, seed, emit } = run;
  const started = Date.now();
  const trained: TrainResult[] = [];
  try {
    for (const [k, member] of members.entries()) {
      const label = `member ${k + 1}/${members.length} (${member.metadata.name})`;
      const result = await trainFrom(dataDir, {
        ...o,
        seed,
        out: undefined,
        // The ensemble's calibration is fitted to the average, once all members are trained.
        calibrate: false,
        onEvent: (e) => o.onEvent?.(e.type === 'stage' || e.type === 'warning' ? { ...e, message: `${label}: ${e.message}` } : e),
      }, { initial: member, preprocessing: spec, startedFrom: { ...run.startedFrom, name: member.metadata.name, arch: member.metadata.arch, createdAt: member.metadata.createdAt }, data, name: `${member.metadata.name}-tuned` });
      trained.push(result);
      if (result.history.interrupted) {
        throw new HappysadError('interrupted', `fine-tuning was interrupted during member ${k + 1} of ${members.length}; no model was saved (an ensemble is saved once every member is trained)`);
      }
    }
    const name = o.out ? basename(o.out) : `${run.startedFrom.name}-tuned`;
    const averaged = await ensembleBundles(trained.map((t) => t.bundle), { name, source: `fine-tuned from ${run.asked} on ${dataDir}, member by member` });
    const tuned = await tuneOnValidation(averaged.model, averaged.metadata, data, o, dataDir, emit);
    const memberHistories = trained.map((t) => ({ name: t.bundle.metadata.name, history: t.history }));
    const metadata: BundleMetadata = {
      ...averaged.metadata,
      ...tuned.fields,
      // Every member used this seed: it is what rebuilds the validation split (evaluate --split val).
      seed,
      training: {
        options: { ...trained[0]!.bundle.metadata.training!.options, members: members.length },
        epochsRun: trained.reduce((n, t) => n + t.history.epochs.length, 0),
        bestEpoch: null,
        stoppedEarly: trained.every((t) => t.history.stoppedEarly),
        interrupted: false,
        completed: true,
        runId: randomBytes(8).toString('hex'),
        seconds: (Date.now() - started) / 1000,
      },
      startedFrom: run.startedFrom,
    };
    const bundle: ModelBundle = { dir: o.out ?? '', model: averaged.model, metadata };
    if (run.claim) {
      const files: Record<string, string> = {};
      for (const { name: member, history } of memberHistories) {
        files[`history-${member}.json`] = `${JSON.stringify(history, null, 2)}\n`;
        files[`training-curves-${member}.svg`] = await renderTrainingCurvesSvg(history, { title: `${member}: ${metadata.arch} member on ${basename(dataDir)}` });
      }
      const previous = await writeClaimedBundle(run.claim, (dir) => saveBundle(dir, averaged.model, metadata, files));
      if (previous) emit({ type: 'warning', code: 'previous-kept', message: `the model that was in ${o.out} is kept as ${previous}` });
    }
    return { bundle, history: trained[0]!.history, members: memberHistories, ...tuned.reports, skipped: data.skipped, leaks: data.leaks, warnings: run.warnings };
  } finally {
    trained.forEach((t) => t.bundle.model.dispose());
  }
}

/** settleOnValidation for the averaged members, through a predictor of their own. */
async function tuneOnValidation(model: ModelBundle['model'], m: BundleMetadata, data: PreparedDataset, o: ReturnType<typeof resolveTrainOptions>, dataDir: string, emit: (e: TrainEvent) => void) {
  const predictor = await ParallelPredictor.create(model, m.preprocessing, m.output, 1);
  try {
    const s = await settleOnValidation({
      rule: m, val: data.splits.val, test: data.splits.test,
      rawOf: (set: ImageSet<ImageRecord>) => predictor.predict(set.pixels, set.items.length, Math.max(o.batch, 64)),
      truthOf: (set: ImageSet<ImageRecord>) => set.items.map((r) => m.classes.indexOf(r.label)),
      options: o, fittedOn: `${dataDir} (val split)`, faces: Boolean(m.preprocessing.faces), fromTrained: true, subject: 'averaged', emit,
    });
    const metrics = { ...(s.validation ? { validation: s.validation } : {}), ...(s.test ? { test: s.test } : {}) };
    return { fields: { threshold: s.threshold, metrics, ...(s.calibration ? { calibration: s.calibration } : {}), ...(s.forcedChoice ? { forcedChoice: s.forcedChoice } : {}) }, reports: metrics };
  } finally {
    await predictor.close();
  }
}
