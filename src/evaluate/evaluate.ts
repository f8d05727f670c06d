import type { CleanProblem } from '../data/cleanDataset.js';
import { discoverDataset, type Split } from '../data/discoverDataset.js';
import { prepareDataset } from '../data/prepareDataset.js';
import { DatasetError } from '../base/errors.js';
import type { Classifier } from '../predict/classifier.js';
import type { EvaluationReport } from './computeMetrics.js';
import { scoreDecisions } from './scoreOutputs.js';
import type { ImageLimits } from '../input/imageLimits.js';
import type { FaceBox } from '../faces/types.js';
import { DEFAULT_PREDICTION_BATCH } from '../runtime/predictionBatch.js';
import { forcedChoicePair, optionalForcedChoicePair } from '../predict/forcedChoice.js';
import type { ClassDecision } from '../predict/interpretOutput.js';
import { scoreForcedChoice } from './forcedChoiceReport.js';

export interface EvaluateOptions {
  batch?: number;
  /** Which split of a train/val/test layout; default test (val when there is no test folder). */
  split?: Split;
  limits?: ImageLimits;
  /** A face model crops faces as predict does; false scores the images as they are (already face crops). */
  faces?: boolean;
  /**
   * Score only the forced choice between two classes (see forcedChoicePair): `report` and `rows`
   * are then the forced-choice ones, over the images of those two classes. A model it cannot apply
   * to is refused before any image is read.
   */
  forcedChoice?: boolean;
}

export interface EvaluateResult {
  /** The model's own figures (an image it calls neutral counts as wrong), or with `forcedChoice` the forced-choice ones. */
  report: EvaluationReport;
  /**
   * Without the `forcedChoice` option, for a model with more than two classes that forced choice
   * applies to: the forced-choice figures too, over the images of the pair (AUC on the forced-choice score).
   */
  forcedChoice?: EvaluationReport;
  /** With the `forcedChoice` option: images of the dataset's other classes (neutral), left out of the figures. */
  leftOut?: number;
  split: Split | 'all';
  skipped: CleanProblem[];
  /**
   * The files of the scored part found in the folder, and their near-duplicate copies as `clean`
   * counts them (scored here unless a copy of a training image): with `skipped`, what
   * describeSkipped needs to say how this count and clean's add up.
   */
  checked: { files: number; nearDuplicateProblems: CleanProblem[] };
  /** Per-image results, for error analysis. */
  rows: EvaluatedImage[];
  /** What was scored: the images actually used, hashed as a model records its training data. */
  dataset: { root: string; layout: 'split' | 'class-folders'; fingerprint: { count: number; sha256: string } };
}

export interface EvaluatedImage {
  /** Path relative to the dataset root, with forward slashes. */
  file: string;
  truth: string;
  label: string;
  /** p(positive class). */
  score: number;
  /** p(class k), in the model's class order: what calibration is fitted and measured on. */
  probabilities: number[];
  /** The face classified, when the model cropped one: [x, y, w, h] as predict reports boxes. */
  box?: FaceBox;
}

/**
 * Scores a model on labelled images: the whole tree for class folders, or one split of a
 * train/val/test layout. The dataset's classes must be the model's.
 */
export async function evaluate(dataDir: string, classifier: Classifier, options: EvaluateOptions = {}): Promise<EvaluateResult> {
  const meta = classifier.metadata;
  // Asked for, it must apply (refused here, before any image is read); not asked for, it is reported when it can be.
  const pair = options.forcedChoice ? forcedChoicePair(meta) : optionalForcedChoicePair(meta);
  const found = await discoverDataset(dataDir);
  const missing = found.classes.filter((c) => !meta.classes.includes(c));
  if (missing.length) throw new DatasetError(`${dataDir}: class folder(s) ${missing.join(', ')} are not classes of the model (${meta.classes.join(', ')})`);
  let split: Split | 'all' = 'all';
  let valSplit = 0;
  let seed = 0;
  if (found.layout === 'split') {
    const have = new Set(found.files.map((f) => f.split));
    split = options.split ?? (have.has('test') ? 'test' : 'val');
    if (!have.has(split)) throw new DatasetError(`${dataDir}: has no ${split} split to evaluate on; give a folder of class folders, or add ${dataDir}/${split}/<class>/`);
  } else if (options.split) {
    // Class folders: rebuild the split the model was trained with, from the seed and fraction it
    // recorded, so "validation" means exactly the images it never trained on.
    const trained = meta.training?.options as { valSplit?: number } | undefined;
    if (meta.seed === null || trained?.valSplit === undefined) throw new DatasetError(`${dataDir} has no split folders, and the model does not record the seed and validation fraction it was trained with, so its ${options.split} split cannot be rebuilt`);
    split = options.split;
    valSplit = trained.valSplit;
    seed = meta.seed;
  }
  const data = await prepareDataset(dataDir, {
    spec: meta.preprocessing,
    splits: [split === 'all' ? 'train' : split],
    valSplit,
    seed,
    limits: options.limits,
    faces: meta.preprocessing.faces && options.faces !== false ? 'detect' : undefined,
    // Copies of a picture count once, and never on both sides of a split; but a split rebuilt for a
    // model trained before near-duplicates were left out must leave out only what it did.
    nearDuplicates: !(valSplit > 0 && meta.dataset?.nearDuplicates !== true),
  });
  const recorded = split !== 'all' && found.layout === 'class-folders' ? meta.dataset?.counts[split] : undefined;
  if (recorded && Object.values(recorded).reduce((a, b) => a + b, 0) !== data.fingerprint.count) {
    throw new DatasetError(`${dataDir}: the ${split} split rebuilt from the model's seed has ${data.fingerprint.count} images, but the model recorded ${JSON.stringify(recorded)}; the folder changed since training, so this would not be the held-out data`);
  }
  const set = data.splits[split === 'all' ? 'train' : split];
  if (!set || set.items.length === 0) throw new DatasetError(`${dataDir}: no usable images to evaluate`);
  const decisions = await classifier.classifyPixels(set.pixels, set.items.length, options.batch ?? DEFAULT_PREDICTION_BATCH);
  // Map dataset class names onto the model's class indices: a dataset may lack a class.
  const truth = set.items.map((r) => meta.classes.indexOf(r.label));
  const forced = pair ? scoreForcedChoice(decisions, truth, meta, pair) : undefined;
  const rowOf = (i: number, d: ClassDecision): EvaluatedImage => ({ file: set.items[i].relPath, truth: set.items[i].label, label: meta.classes[d.labelIndex], score: d.score, probabilities: d.probabilities, ...(set.items[i].box ? { box: set.items[i].box } : {}) });
  let figures: Pick<EvaluateResult, 'report' | 'forcedChoice' | 'leftOut'> & { rows: EvaluatedImage[] };
  if (options.forcedChoice && forced) {
    if (forced.kept.length === 0) throw new DatasetError(`${dataDir}: no images of ${forced.report.classes.join(' or ')}, the classes forced choice decides between`);
    figures = { report: forced.report, rows: forced.kept.map((i, j) => rowOf(i, forced.decisions[j]!)), leftOut: set.items.length - forced.kept.length };
  } else {
    figures = { report: scoreDecisions(decisions, truth, meta), rows: decisions.map((d, i) => rowOf(i, d)), ...(forced && forced.kept.length > 0 ? { forcedChoice: forced.report } : {}) };
  }
  // Only the skipped files of the split scored concern this evaluation.
  const inSplit = new Set(found.files.filter((f) => split === 'all' || f.split === undefined || f.split === split).map((f) => f.relPath));
  return {
    ...figures,
    split,
    skipped: data.skipped.filter((p) => inSplit.has(p.file)),
    checked: { files: inSplit.size, nearDuplicateProblems: data.nearDuplicateProblems.filter((p) => inSplit.has(p.file)) },
    dataset: { root: data.dataset.root, layout: data.dataset.layout, fingerprint: data.fingerprint },
  };
}
