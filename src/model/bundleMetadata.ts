import type { PreprocessSpec } from '../input/preprocessSpec.js';
import type { EvaluationReport } from './evaluationMetrics.js';

export const BUNDLE_FORMAT = 'happysad-bundle';
export const BUNDLE_FORMAT_VERSION = 1;

/** Everything needed to use, trust and reproduce a model; stored as happysad.json in the bundle. */
export interface BundleMetadata {
  format: typeof BUNDLE_FORMAT;
  formatVersion: number;
  name: string;
  arch: string;
  /** Class names in output order (sorted folder names). */
  classes: string[];
  /** 'sigmoid': one unit giving p(positiveClass); 'softmax': one unit per class. */
  output: 'sigmoid' | 'softmax';
  /** The class whose probability `score` reports. */
  positiveClass: string;
  /** A sigmoid score at or above this predicts positiveClass. */
  threshold: number;
  preprocessing: PreprocessSpec;
  seed: number | null;
  training: TrainingRecord | null;
  dataset: DatasetRecord | null;
  metrics: { validation?: EvaluationReport; test?: EvaluationReport } | null;
  versions: Record<string, string>;
  createdAt: string;
  /** Free-form provenance (e.g. "imported from model.h5"). */
  source?: string;
  /** Present when the model averages several trained models (happysad ensemble): what each one was. */
  members?: EnsembleMember[];
  /**
   * Present when the model's probabilities are calibrated: every host applies it to the class
   * probabilities before deciding (applyCalibration), and `threshold` is then a cut on calibrated
   * p(positive). Absent: the probabilities are the network's own.
   */
  calibration?: TemperatureCalibration;
  /**
   * How the model answers when asked to choose between two classes only (`--forced-choice`): a model
   * with a "neither" class (happy, neutral, sad) still says happy or sad. `between` holds the two
   * classes, positiveClass first; `threshold` applies to p(positive) / (p(positive) + p(other)).
   * Absent in two-class models (forced choice changes nothing there) and in bundles from before.
   */
  forcedChoice?: ForcedChoiceRecord;
  /** Present when the model was fine-tuned from another (train --from): what it started from. */
  startedFrom?: StartedFrom;
}

/** The trained model a fine-tuned one started from, as it was when training began. */
export interface StartedFrom {
  /** What was asked for (`default`, or the folder given). */
  from: string;
  name: string;
  /** Its folder, resolved ('' for a bundle passed in memory). */
  dir: string;
  arch: string;
  createdAt: string;
  classes: string[];
  /** Members fine-tuned one by one (an ensemble), else absent. */
  members?: number;
  /** The data it had been trained on (its dataset record's root and fingerprint), when it records one. */
  trainedOn: { root: string; count: number; sha256: string } | null;
  /**
   * How it scored, before fine-tuning, on the validation images the fine-tuned model is chosen and
   * scored on: the comparison that says whether fine-tuning helped. `forcedChoice` for a model with
   * a neither class, on images of its pair. Absent without validation images, or when the data
   * has a class the model did not know.
   */
  validationBefore?: { balancedAccuracy: number; auc: number | null; n: number; forcedChoice?: { balancedAccuracy: number; auc: number | null; n: number } };
}

/**
 * Temperature scaling (Guo et al. 2017): probabilities p become softmax(log p / temperature), for
 * one sigmoid unit sigmoid(logit(p) / temperature). T > 1 softens an overconfident model, T < 1
 * sharpens a timid one; the most probable class never changes.
 */
export interface TemperatureCalibration {
  method: 'temperature';
  temperature: number;
  /** The labelled data the temperature was fitted on, e.g. "data/faces (val split)". */
  fittedOn: string;
  /** Images it was fitted on. */
  n: number;
  /** Expected calibration error on that data before and after (top label, 15 bins); in-sample for eceAfter. */
  eceBefore: number;
  eceAfter: number;
}

export interface ForcedChoiceRecord {
  between: [string, string];
  threshold: number;
}

/** One model of an ensemble: its own provenance, seed and metrics as they were before averaging. */
export interface EnsembleMember {
  name: string;
  arch: string;
  seed: number | null;
  threshold: number;
  createdAt: string;
  params: number;
  training: TrainingRecord | null;
  dataset: DatasetRecord | null;
  metrics: BundleMetadata['metrics'];
  source?: string;
  members?: EnsembleMember[];
}

export interface TrainingRecord {
  options: Record<string, unknown>;
  epochsRun: number;
  bestEpoch: number | null;
  stoppedEarly: boolean;
  interrupted: boolean;
  /** False while a checkpoint is being written mid-run. */
  completed: boolean;
  /** Random id of the run: its checkpoints may replace only bundles carrying the same id. */
  runId?: string;
  seconds: number;
}

export interface DatasetRecord {
  root: string;
  layout: 'split' | 'class-folders';
  /** Number of images used and a hash over their sorted (path, label, split, content hash) list. */
  fingerprint: { count: number; sha256: string };
  counts: Record<string, Record<string, number>>;
  skipped: number;
  /** Near-duplicates were left out (one kept per group) besides exact copies; absent in bundles from before. */
  nearDuplicates?: boolean;
}
