import { randomBytes, randomInt } from 'node:crypto';
import { tf, initEngine } from '../engine/engine.js';
import { defaultPreprocessSpec, inputShapeOf, type PreprocessSpec } from '../input/preprocessSpec.js';
import { faceCropFor } from '../faces/faceCropper.js';
import type { ImageRecord } from '../data/prepareDataset.js';
import { prepareTrainingData } from './prepareTrainingData.js';
import { trainSubset } from './trainSubset.js';
import { fineTune, type CarriedOver } from './fineTune.js';
import type { ImageSet } from '../data/loadImages.js';
import type { CleanProblem } from '../data/cleanDataset.js';
import { DatasetError, HappysadError, OptionError } from '../base/errors.js';
import { assertInputFits, getArchitecture } from '../model/architectures.js';
import type { BundleMetadata, TemperatureCalibration } from '../model/bundleMetadata.js';
import { buildBundleMetadata } from '../model/buildBundleMetadata.js';
import { saveBundle, type ModelBundle } from '../model/modelBundle.js';
import { claimBundleOutput } from '../model/bundleOutput.js';
import { setAside } from '../io/outputPaths.js';
import type { EvaluationReport } from '../evaluate/computeMetrics.js';
import type { ForcedChoiceRecord } from '../model/bundleMetadata.js';
import { forcedChoiceClasses } from './tuneForcedChoice.js';
import { settleOnValidation } from './settleOnValidation.js';
import { renderTrainingCurves } from '../report/trainingCurves.js';
import { Random } from '../base/random.js';
import { augmentBatch } from './augmentBatch.js';
import { EarlyStopping } from './earlyStopping.js';
import type { EpochRecord, TrainingHistory } from '../model/trainingHistory.js';
import { resolveTrainOptions, type TrainEvent, type TrainInput, type TrainOptions, type TrainWarning } from './trainOptions.js';
import { lossAndAccuracy } from './lossAndAccuracy.js';
import { loadInitialWeights } from './initialWeights.js';
import { distillTargets, teacherProbabilities } from './teacherTargets.js';
import { readBundle } from '../model/modelBundle.js';
import { resolveBundleDir } from '../model/defaultModel.js';
import { DataParallelTrainer } from '../runtime/dataParallelTrainer.js';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import type { Tensor } from '@tensorflow/tfjs';

export interface TrainResult {
  bundle: ModelBundle;
  history: TrainingHistory;
  validation?: EvaluationReport;
  test?: EvaluationReport;
  /** Files left out of training, with why. */
  skipped: CleanProblem[];
  /** Duplicates shared between training and evaluation splits. */
  leaks: CleanProblem[];
  /**
   * An ensemble fine-tuned member by member (`from`): each member's history, in member order
   * (`history` is then the first member's).
   */
  members?: { name: string; history: TrainingHistory }[];
  /** Every warning the run emitted, in order (also sent to onEvent as it happened). */
  warnings: TrainWarning[];
}

/**
 * Trains a classifier on a folder of class folders (or train/val/test folders) and returns, and
 * with `out` saves, the bundle. The best epoch is checkpointed to `out` as soon as it is seen, so
 * a crash or Ctrl-C leaves the best model so far on disk.
 */
export async function train(dataDir: string, options: TrainInput = {}): Promise<TrainResult> {
  if (options.from !== undefined) return fineTune(dataDir, options, trainOne);
  return trainOne(dataDir, options);
}

/**
 * One training run. With `carried` (fineTune's), the model starts from `carried.initial`, reads
 * its preprocessing, and trains on data fineTune already prepared (every member of an ensemble
 * on the same split, decoded and face-cropped once).
 */
async function trainOne(dataDir: string, options: TrainInput, carried?: CarriedOver): Promise<TrainResult> {
  const o = resolveTrainOptions(options);
  await initEngine();
  const warnings: TrainWarning[] = [];
  const emit = (e: TrainEvent) => {
    if (e.type === 'warning') warnings.push({ code: e.code, message: e.message });
    o.onEvent?.(e);
  };
  const seed = o.seed ?? randomInt(0, 2 ** 31 - 1);
  // Not derived from the seed: two runs with the same seed into one folder must still differ.
  const runId = randomBytes(8).toString('hex');
  const arch = getArchitecture(o.arch);
  const spec: PreprocessSpec = carried ? carried.preprocessing : {
    ...defaultPreprocessSpec(o.input ?? arch.defaultInput),
    ...(o.testTimeFlip ? { testTimeFlip: true } : {}),
    ...(o.faces ? { faces: faceCropFor({ height: (o.input ?? arch.defaultInput)[0], width: (o.input ?? arch.defaultInput)[1] }, o.faceCrop) } : {}),
  };
  assertInputFits(arch, inputShapeOf(spec));
  if (!Number.isInteger(o.batch) || o.batch < 1) throw new OptionError(`--batch must be a positive integer, got ${o.batch}`);
  if (!Number.isInteger(o.epochs) || o.epochs < 1) throw new OptionError(`--epochs must be a positive integer, got ${o.epochs}`);
  if (!(o.valSplit >= 0 && o.valSplit < 1)) throw new OptionError(`--val-split must be in [0, 1), got ${o.valSplit}`);
  if (!(o.distillWeight >= 0 && o.distillWeight <= 1)) throw new OptionError(`--distill-weight must be in [0, 1], got ${o.distillWeight}`);

  // Checked before any work: a refused --out costs the user nothing.
  const outDir = o.out ? await claimBundleOutput(o.out, { overwrite: o.overwrite, inputs: [dataDir] }) : undefined;
  let previousKept: string | undefined;

  const data = carried?.data ?? (await prepareTrainingData(dataDir, { spec, seed, valSplit: o.valSplit, limits: o.limits, faces: o.faces }, emit));
  const allTrain = data.splits.train;
  if (!allTrain || allTrain.items.length === 0) throw new DatasetError(`${dataDir}: no usable training images (run \`happysad clean ${dataDir}\` to see why each file was skipped)`);
  // Counted after the checks, not from the folder listing: a class whose every file was rejected
  // would otherwise train a model that never predicts it and scores 100% on what is left.
  for (const cls of data.classes) {
    if ((data.counts.train?.[cls] ?? 0) > 0) continue;
    const rejected = data.skipped.filter((p) => data.dataset.files.some((f) => f.relPath === p.file && f.label === cls));
    const example = rejected[0] ? ` e.g. ${rejected[0].file}: ${rejected[0].detail}` : '';
    throw new DatasetError(`${dataDir}: class "${cls}" has no usable training images (${rejected.length} of its file(s) failed the checks;${example}). Fix or replace them (\`happysad clean ${dataDir}\` lists every problem), or remove the class folder`);
  }
  if (o.trainFraction !== undefined && !(o.trainFraction > 0 && o.trainFraction <= 1)) throw new OptionError(`trainFraction must be in (0, 1], got ${o.trainFraction}`);
  const trainSet = o.trainFraction !== undefined && o.trainFraction < 1 ? trainSubset(allTrain, o.trainFraction, seed) : allTrain;
  const valSet = data.splits.val;
  if (o.calibrate && !valSet?.items.length) throw new OptionError(`--calibrate fits on validation images and ${dataDir} has none${data.dataset.layout === 'split' ? ` (add ${dataDir}/val/<class>/)` : ' (give --val-split above 0)'}; or train without --calibrate`);
  if (!valSet) emit({ type: 'warning', code: 'no-validation', message: 'no validation images: early stopping and best-epoch selection use the training loss' });

  const classes = data.classes;
  const output = classes.length === 2 ? 'sigmoid' : 'softmax';
  const positiveClass = o.positiveClass ?? (classes.includes('happy') ? 'happy' : classes[1]);
  if (!classes.includes(positiveClass)) throw new OptionError(`--positive "${positiveClass}" is not one of the classes: ${classes.join(', ')}`);
  const posIndex = classes.indexOf(positiveClass);
  // A neither class that is not one is refused now, not after training.
  forcedChoiceClasses({ classes, positiveClass, neitherClass: o.neitherClass });
  const targetsOf = (set: ImageSet<ImageRecord>, smoothing = 0) => makeTargets(set.items.map((r) => r.classIndex), output, classes.length, posIndex, smoothing);

  const model = arch.build({ input: inputShapeOf(spec), numClasses: classes.length, seed, dropout: o.dropout });
  const initial = carried?.initial ?? o.initialWeights;
  if (initial) await loadInitialWeights(model, initial, o.arch, classes, positiveClass, emit);
  const optimizer = tf.train.adam(o.learningRate, 0.9, 0.999, 1e-7);
  const learningRateFor = (epoch: number): number => {
    const lr = o.learningRateSchedule ? o.learningRateSchedule(epoch) : o.learningRate;
    if (!(lr > 0 && Number.isFinite(lr))) throw new OptionError(`the learning-rate schedule gave ${lr} for epoch ${epoch}; it must be a positive number`);
    return lr;
  };
  const rng = new Random(seed);
  const shuffleRng = rng.derive('shuffle');
  const augmentRng = rng.derive('augment');
  const workers = Math.max(1, Math.min(o.workers ?? availableParallelism(), Math.ceil(o.batch / 2)));
  const units = output === 'sigmoid' ? 1 : classes.length;
  // Smoothing shapes only the training targets; validation loss stays the honest one.
  let trainTargets = targetsOf(trainSet, o.labelSmoothing);
  // Before the trainer's threads start, so the teacher's replicas have the cores to themselves.
  if (o.teacher !== undefined) trainTargets = await withTeacher(o.teacher, o.distillWeight, trainTargets, { set: trainSet, classes, spec, workers, units, posIndex, emit });
  const trainer = await DataParallelTrainer.create(model, optimizer, { workers, spec, output, seed: rng.derive('dropout').nextSeed() });
  emit({ type: 'stage', message: `training ${o.arch} (${spec.height}x${spec.width}x${spec.channels}) on ${trainSet.items.length} images, ${valSet?.items.length ?? 0} for validation; ${trainer.workerCount} worker${trainer.workerCount > 1 ? 's' : ''}, seed ${seed}` });
  let globalStep = 0;

  const valTargets = valSet ? targetsOf(valSet) : undefined;
  const trainWeights = sampleWeightsFor(trainSet.items.map((r) => r.classIndex), classes.length, o.classWeight);
  let threshold = 0.5;
  let calibration: TemperatureCalibration | undefined;
  let forcedChoice: ForcedChoiceRecord | undefined;
  const imageSize = trainSet.imageSize;
  const n = trainSet.items.length;
  const batches = Math.ceil(n / o.batch);
  const history: TrainingHistory = { epochs: [], monitor: valSet ? 'val_loss' : 'loss', stoppedEarly: false, interrupted: false };
  const stopper = new EarlyStopping(o.patience);
  let bestWeights: Tensor[] | undefined;
  const started = Date.now();

  const metadataFor = (completed: boolean, metrics: BundleMetadata['metrics']): BundleMetadata => buildBundleMetadata({
    name: carried?.name ?? (o.out ? basename(o.out) : `${o.arch}-${seed}`),
    arch: o.arch,
    classes,
    output,
    positiveClass,
    threshold,
    preprocessing: spec,
    seed,
    training: {
      options: { arch: o.arch, input: [spec.height, spec.width, spec.channels], epochs: o.epochs, patience: o.patience, restoreBest: o.restoreBest, batch: o.batch, valSplit: o.valSplit, augment: o.augment, learningRate: o.learningRate, ...(o.learningRateSchedule ? { learningRateSchedule: 'custom (per-epoch rates in history.json)' } : {}), ...(o.initialWeights ? { initialWeights: describeSource(o.initialWeights) } : {}), ...(carried ? { from: carried.startedFrom.from } : {}), ...(o.teacher !== undefined ? { teacher: describeSource(o.teacher), distillWeight: o.distillWeight } : {}), ...(o.trainFraction !== undefined ? { trainFraction: o.trainFraction, trainImages: trainSet.items.length } : {}), labelSmoothing: o.labelSmoothing, classWeight: o.classWeight, tuneThreshold: o.tuneThreshold, calibrate: o.calibrate, testTimeFlip: o.testTimeFlip, faces: o.faces ?? null, dropout: o.dropout ?? null, limits: o.limits },
      epochsRun: history.epochs.length,
      bestEpoch: history.bestEpoch ?? null,
      stoppedEarly: history.stoppedEarly,
      interrupted: history.interrupted,
      completed,
      runId,
      seconds: (Date.now() - started) / 1000,
    },
    dataset: { root: dataDir, layout: data.dataset.layout, fingerprint: data.fingerprint, counts: data.counts, skipped: data.skipped.length, nearDuplicates: true },
    metrics,
    ...(calibration ? { calibration } : {}),
    ...(forcedChoice ? { forcedChoice } : {}),
    ...(carried ? { startedFrom: carried.startedFrom } : {}),
  });

  try {
    for (let epoch = 1; epoch <= o.epochs && !o.signal?.aborted; epoch++) {
      emit({ type: 'epoch-start', epoch, epochs: o.epochs, batches });
      const lr = learningRateFor(epoch);
      // Adam reads its rate at every update, so changing it between epochs is a schedule.
      (optimizer as unknown as { learningRate: number }).learningRate = lr;
      const epochStart = Date.now();
      let stopAfterBatch = false;
      const order = shuffleRng.shuffle(Array.from({ length: n }, (_, i) => i));
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (let b = 0; b < batches; b++) {
        if (o.signal?.aborted || stopAfterBatch) break;
        const idx = order.slice(b * o.batch, (b + 1) * o.batch);
        const pixels = gather(trainSet.pixels, idx, imageSize);
        if (o.augment) augmentBatch(pixels, idx.length, spec.height, spec.width, spec.channels, augmentRng);
        const step = await trainer.step(globalStep++, pixels, gather(trainTargets, idx, units), gather(trainWeights, idx, 1), idx.length);
        lossSum += step.loss * idx.length;
        correct += step.correct;
        seen += idx.length;
        emit({ type: 'batch', epoch, batch: b + 1, batches, loss: lossSum / seen, accuracy: correct / seen, seconds: (Date.now() - epochStart) / 1000 });
        if (o.onBatchEnd && (await o.onBatchEnd({ epoch, batch: b + 1, batches, loss: lossSum / seen, accuracy: correct / seen })) === 'stop') stopAfterBatch = true;
      }
      if (seen < n) {
        history.interrupted = true;
        break;
      }
      const record: EpochRecord = { epoch, loss: lossSum / seen, accuracy: correct / seen, lr, seconds: 0 };
      if (valSet && valTargets) {
        const raw = await trainer.predictor.predict(valSet.pixels, valSet.items.length, Math.max(o.batch, 64));
        const v = lossAndAccuracy(output, raw, valTargets, valSet.items.length);
        record.val_loss = v.loss;
        record.val_accuracy = v.accuracy;
      }
      record.seconds = (Date.now() - epochStart) / 1000;
      if (!Number.isFinite(record.loss) || (valSet && !Number.isFinite(record.val_loss))) {
        // A NaN model must never be checkpointed: it would replace (or set aside) a good one.
        const kept = history.bestEpoch && o.out ? `; the best model so far (epoch ${history.bestEpoch}) stays in ${o.out}` : '; no model was saved';
        throw new HappysadError('diverged', `training diverged at epoch ${epoch} (loss ${record.loss}, val_loss ${record.val_loss ?? '-'})${kept}. Lower the learning rate (--lr, now ${o.learningRate})`);
      }
      history.epochs.push(record);
      const { improved, stop } = stopper.update(epoch, (valSet ? record.val_loss : record.loss)!);
      if (improved) {
        history.bestEpoch = epoch;
        bestWeights?.forEach((t) => t.dispose());
        bestWeights = model.getWeights().map((w) => w.clone());
        if (o.out) {
          if (outDir?.replaces && previousKept === undefined) {
            // The old model stays whole until this run has something better than nothing to put there.
            previousKept = await setAside(outDir.dir);
            emit({ type: 'warning', code: 'previous-kept', message: `the model that was in ${o.out} is kept as ${previousKept}` });
          }
          await saveBundle(outDir!.dir, model, metadataFor(false, null), { 'history.json': `${JSON.stringify(history, null, 2)}\n` });
          emit({ type: 'checkpoint', dir: o.out, epoch });
        }
      }
      emit({ type: 'epoch-end', record, improved, epochs: o.epochs });
      const callerStops = o.onEpochEnd ? (await o.onEpochEnd({ epoch, record, improved, bestEpoch: history.bestEpoch })) === 'stop' : false;
      if ((stop || callerStops) && epoch < o.epochs) {
        history.stoppedEarly = true;
        history.stoppedBy = callerStops ? 'callback' : 'early-stopping';
        break;
      }
    }
    if (o.signal?.aborted) history.interrupted = true;
    if (history.epochs.length === 0) throw new HappysadError('interrupted', 'training was interrupted before the first epoch finished; no model was saved');
    if (o.restoreBest && bestWeights) model.setWeights(bestWeights);
    else history.bestEpoch = history.epochs.length;

    trainer.publishWeights();
    const settled = await settleOnValidation({
      rule: { classes, output, positiveClass, threshold }, val: valSet, test: data.splits.test,
      rawOf: (set) => trainer.predictor.predict(set.pixels, set.items.length, Math.max(o.batch, 64)),
      truthOf: (set) => set.items.map((r) => r.classIndex),
      options: o, fittedOn: `${dataDir} (val split)`, faces: Boolean(spec.faces), fromTrained: initial !== undefined, emit,
    });
    ({ threshold, calibration, forcedChoice } = settled);
    const { validation, test } = settled;
    const metadata = metadataFor(true, { ...(validation ? { validation } : {}), ...(test ? { test } : {}) });
    const bundle: ModelBundle = { dir: o.out ?? '', model, metadata };
    if (o.out) {
      const { svg, png } = await renderTrainingCurves(history, { title: `${metadata.name}: ${o.arch} on ${basename(dataDir)}` });
      await saveBundle(outDir!.dir, model, metadata, {
        'history.json': `${JSON.stringify(history, null, 2)}\n`,
        'training-curves.svg': svg,
        'training-curves.png': png,
      });
    }
    optimizer.dispose();
    return { bundle, history, validation, test, skipped: data.skipped, leaks: data.leaks, warnings };
  } finally {
    bestWeights?.forEach((t) => t.dispose());
    await trainer.close();
  }
}

/** The training targets mixed with a teacher's probabilities (distillation), the teacher loaded and released here when named by path. */
async function withTeacher(teacherOption: string | ModelBundle, weight: number, labels: Float32Array, c: { set: ImageSet<ImageRecord>; classes: string[]; spec: PreprocessSpec; workers: number; units: number; posIndex: number; emit: (e: TrainEvent) => void }): Promise<Float32Array> {
  const owned = typeof teacherOption === 'string';
  const teacher = owned ? await readBundle(resolveBundleDir(teacherOption)) : teacherOption;
  try {
    const started = Date.now();
    const soft = await teacherProbabilities(teacher, c.set, { classes: c.classes, spec: c.spec, workers: c.workers });
    c.emit({ type: 'stage', message: `distilling ${teacher.metadata.name} (${teacher.metadata.arch}): its probabilities on the ${c.set.items.length} training images in ${((Date.now() - started) / 1000).toFixed(1)} s, weighed ${weight} against the labels` });
    return distillTargets(labels, soft, weight, c.units, c.posIndex);
  } finally {
    if (owned) teacher.model.dispose();
  }
}

/** Where initial weights or a teacher came from, as the bundle records it. */
function describeSource(w: NonNullable<TrainOptions['initialWeights']>): string {
  if (typeof w === 'string') return w;
  return Array.isArray(w) ? 'tensors passed by the caller' : w.dir || `bundle ${w.metadata.name} (in memory)`;
}

function makeTargets(labels: number[], output: 'sigmoid' | 'softmax', K: number, posIndex: number, smoothing: number): Float32Array {
  if (output === 'sigmoid') return Float32Array.from(labels, (l) => (l === posIndex ? 1 : 0) * (1 - smoothing) + smoothing / 2);
  const t = new Float32Array(labels.length * K).fill(smoothing / K);
  labels.forEach((l, i) => (t[i * K + l] += 1 - smoothing));
  return t;
}

/** 'balanced': each class weighs N / (K * N_class), as sklearn and Keras' class_weight recipes do. */
function sampleWeightsFor(labels: number[], K: number, mode: 'none' | 'balanced'): Float32Array {
  if (mode === 'none') return new Float32Array(labels.length).fill(1);
  const counts = new Array<number>(K).fill(0);
  for (const l of labels) counts[l]++;
  return Float32Array.from(labels, (l) => labels.length / (K * counts[l]));
}

function gather<T extends Uint8Array | Float32Array>(src: T, idx: number[], size: number): T {
  const out = new (src.constructor as new (n: number) => T)(idx.length * size);
  idx.forEach((j, i) => out.set(src.subarray(j * size, (j + 1) * size), i * size));
  return out;
}

