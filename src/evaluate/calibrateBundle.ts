import { resolve } from 'node:path';
import { OptionError } from '../base/errors.js';
import type { CleanProblem } from '../data/cleanDataset.js';
import { discoverDataset, type Split } from '../data/discoverDataset.js';
import type { ImageLimits } from '../input/imageLimits.js';
import type { BundleMetadata, TemperatureCalibration } from '../model/bundleMetadata.js';
import type { EvaluationReport } from '../model/evaluationMetrics.js';
import type { ModelBundle } from '../model/modelBundle.js';
import { calibratedThreshold } from '../predict/applyCalibration.js';
import { createClassifier } from '../predict/classifier.js';
import { evaluate } from './evaluate.js';
import { fitCalibration, uncalibratedRule } from './fitCalibration.js';

export interface CalibrateOptions {
  /**
   * Split of a train/val/test layout to fit on (default val: the test split must stay unseen);
   * on class folders, val rebuilds the model's own held-out split from its recorded seed, and
   * without a split the whole folder is used.
   */
  split?: Split;
  /** false: use the images as they are (already face crops); default true for a face model. */
  faces?: boolean;
  limits?: ImageLimits;
  /** Images per forward pass. */
  batch?: number;
  /** Inference threads (default 1). */
  workers?: number;
}

export interface CalibrateResult {
  calibration: TemperatureCalibration;
  /** The bundle's metadata with the calibration: save it with the same model (the weights do not change). */
  metadata: BundleMetadata;
  /** The fitting data scored before and after: the same decisions, other probabilities. */
  before: EvaluationReport;
  after: EvaluationReport;
  split: Split | 'all';
  skipped: CleanProblem[];
}

/**
 * Fits temperature scaling for an existing bundle on labelled images it did not train on, and
 * returns its metadata with the calibration; the bundle itself is left as it was. A bundle that
 * is calibrated already is refitted from its network's own probabilities (the old temperature is
 * replaced, not stacked). Thresholds move into calibrated space, so every decision stays the same.
 */
export async function calibrateBundle(bundle: ModelBundle, dataDir: string, options: CalibrateOptions = {}): Promise<CalibrateResult> {
  const found = await discoverDataset(dataDir);
  const split = options.split ?? (found.layout === 'split' ? 'val' : undefined);
  const trainedOn = bundle.metadata.dataset?.root;
  // A temperature fitted on what the model learned from makes it surer than it should be.
  if (split === 'train' || (split === undefined && trainedOn !== undefined && resolve(trainedOn) === resolve(dataDir))) {
    throw new OptionError(`${dataDir}${split ? ' (train split)' : ''} holds the images the model was trained on; calibrating there would make it overconfident. Use held-out images: --split val (the model's own validation split), or another folder`);
  }
  const base = withoutCalibration(bundle.metadata);
  const classifier = await createClassifier({ ...bundle, metadata: base }, { workers: options.workers });
  let result: Awaited<ReturnType<typeof evaluate>>;
  try {
    result = await evaluate(dataDir, classifier, { split, faces: options.faces, limits: options.limits, batch: options.batch });
  } finally {
    await classifier.close();
  }
  const classes = base.classes;
  const positive = classes.indexOf(base.positiveClass);
  // Back to what the network gave, so that interpretOutput (the one path) does the scoring.
  const raw = base.output === 'sigmoid' ? result.rows.map((r) => r.probabilities[positive]!) : result.rows.flatMap((r) => r.probabilities);
  const truth = result.rows.map((r) => classes.indexOf(r.truth));
  const fittedOn = `${dataDir} (${result.split === 'all' ? 'all images' : `${result.split} split`})`;
  const fit = fitCalibration(raw, truth, base, fittedOn);
  const metadata: BundleMetadata = { ...base, threshold: fit.rule.threshold, calibration: fit.calibration, metrics: withoutCalibrationFigures(base.metrics) };
  moveForcedChoiceThreshold(metadata, fit.calibration.temperature);
  return { calibration: fit.calibration, metadata, before: fit.before, after: fit.after, split: result.split, skipped: result.skipped };
}

/** The metadata as the network alone decides, thresholds included (see uncalibratedRule). */
function withoutCalibration(m: BundleMetadata): BundleMetadata {
  if (!m.calibration) return m;
  const base = uncalibratedRule(m);
  moveForcedChoiceThreshold(base, 1 / m.calibration.temperature);
  return base;
}

/**
 * A forced choice (happy against sad only) cuts p(a) / (p(a) + p(b)); under temperature T that
 * ratio r becomes sigmoid(logit(r) / T), so its threshold moves the same way a sigmoid's does.
 * The field belongs to the forced-choice feature; it is looked up by name so that whichever bundle
 * has one keeps deciding as before.
 */
function moveForcedChoiceThreshold(m: BundleMetadata, temperature: number): void {
  const choice = (m as { forcedChoice?: { threshold: number } }).forcedChoice;
  if (choice && typeof choice.threshold === 'number') (m as { forcedChoice?: { threshold: number } }).forcedChoice = { ...choice, threshold: calibratedThreshold(choice.threshold, temperature) };
}

/**
 * The recorded figures with their calibration error left out: calibration keeps every decision (so
 * accuracy, recall and the confusion matrix still hold) but changes the probabilities the error
 * was measured on (and, for a softmax, may shift its one-vs-rest AUC a little).
 * calibration.eceAfter, or `happysad evaluate`, gives the new error.
 */
function withoutCalibrationFigures(metrics: BundleMetadata['metrics']): BundleMetadata['metrics'] {
  if (!metrics) return metrics;
  const strip = (r: EvaluationReport | undefined) => {
    if (!r) return undefined;
    const { ece: _ece, reliability: _reliability, ...rest } = r;
    return rest;
  };
  const validation = strip(metrics.validation);
  const test = strip(metrics.test);
  return { ...(validation ? { validation } : {}), ...(test ? { test } : {}) };
}
