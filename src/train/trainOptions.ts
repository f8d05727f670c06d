import type { FaceCropSpec, InputShape } from '../input/preprocessSpec.js';
import type { ImageLimits } from '../input/imageLimits.js';
import { DATASET_IMAGE_LIMITS } from '../input/imageLimits.js';
import type { EpochRecord } from '../model/trainingHistory.js';
import type { Tensor } from '@tensorflow/tfjs';
import type { ModelBundle } from '../model/modelBundle.js';

export interface TrainOptions {
  /** Architecture name (see listArchitectures()); default 'seed-a'. */
  arch: string;
  /** Model input; default the architecture's own. */
  input?: InputShape;
  epochs: number;
  /** Epochs without val-loss improvement before stopping. */
  patience: number;
  /** Keep the weights of the best epoch rather than the last. */
  restoreBest: boolean;
  batch: number;
  /** Seed of every random choice; a random one is drawn and recorded when absent. */
  seed?: number;
  /** Validation fraction for the class-folders layout (ignored when DIR/val exists). */
  valSplit: number;
  augment: boolean;
  /** Adam's learning rate; with a schedule, the rate it is given for epoch 1's first look (recorded). */
  learningRate: number;
  /**
   * The learning rate for each epoch (1-based), e.g. a step decay `(e) => (e <= 10 ? 1e-3 : 1e-4)`.
   * Each epoch's rate is recorded in the history (`lr`); the bundle records that a schedule was used.
   */
  learningRateSchedule?: (epoch: number) => number;
  /**
   * Start from these weights instead of a fresh initialisation (fine-tuning, a second stage at a
   * lower rate): a bundle folder of the same architecture and input size, such a bundle in memory,
   * or tensors in `model.getWeights()` order. Batch-norm statistics come along. From a bundle, an
   * output layer for other classes is rebuilt from its head. The bundle records where from. To keep
   * the trained model's preprocessing too, and to start from an ensemble, use `from`.
   */
  initialWeights?: string | Tensor[] | ModelBundle;
  /**
   * Fine-tune this trained model (a bundle folder, 'default' for the shipped face model, or a bundle
   * in memory) on the data instead of training from scratch: its architecture, input size and
   * preprocessing (face crop, test-time flip) are kept, its weights are the start, and a head is
   * rebuilt when the classes differ. An ensemble is fine-tuned member by member (one seed, so one
   * validation split) and averaged again. Options not given take FROM_TRAIN_DEFAULTS, not
   * DEFAULT_TRAIN_OPTIONS. The bundle records where it started (metadata.startedFrom).
   */
  from?: string | ModelBundle;
  /**
   * Distillation: learn from this trained model's probabilities as well as the labels (a bundle
   * folder, 'default', or a bundle in memory), e.g. a single net from an ensemble, so a face costs
   * one net's passes instead of every member's. Each training image's target becomes
   * distillWeight × the teacher's calibrated probabilities (with its test-time flip) + the rest ×
   * the label. The teacher must read the same input (size, channels, face crop) and know the
   * classes; validation loss and every reported figure stay on the labels alone.
   */
  teacher?: string | ModelBundle;
  /** The teacher's share of each training target, in [0, 1] (with `teacher`). */
  distillWeight: number;
  /**
   * Train on this share of the training images, stratified and seeded (each class keeps its share;
   * with one seed a larger share holds every image of a smaller one); validation stays whole. What
   * learningCurve() varies. The bundle records the share and the images it came to.
   */
  trainFraction?: number;
  /** Training targets pulled toward 0.5 by this much (0 = off): a guard against overconfident fits on noisy labels. */
  labelSmoothing: number;
  /** 'balanced' weighs each class's loss by N / (K * N_class). */
  classWeight: 'none' | 'balanced';
  /** Pick the decision threshold that maximises balanced accuracy on validation (two classes). */
  tuneThreshold: boolean;
  /**
   * After training (and threshold tuning), fit temperature scaling on the validation split so the
   * probabilities mean what they say; stored in the bundle, applied by every host. The recorded
   * metrics are the calibrated model's; decisions do not change. Needs validation images.
   */
  calibrate: boolean;
  /** Average predictions on each image and its mirror image, in evaluation and serving alike. */
  testTimeFlip: boolean;
  /**
   * Make a face model: prediction will detect and crop faces (spec.faces). 'detect' crops the
   * training images the same way; 'precropped' says they already are face crops (e.g. FER2013).
   */
  faces?: 'detect' | 'precropped';
  /** Overrides of the face crop settings (detector, margin, align, minScore). */
  faceCrop?: Partial<FaceCropSpec>;
  /** The class whose probability the score reports; default "happy" if present, else the second class. */
  positiveClass?: string;
  /**
   * With three or more classes, the one that is neither the positive class nor its opposite (a
   * neutral face): the model then records the pair forced choice decides between (metadata.forcedChoice,
   * its threshold tuned on validation). Default 'neutral' when that is a class.
   */
  neitherClass?: string;
  dropout?: { conv?: number; dense?: number };
  limits: ImageLimits;
  /** Threads computing each batch (data-parallel); default: the cores available. Same model whatever the count. */
  workers?: number;
  /** Where to write the bundle; checkpoints of the best epoch land there during training. */
  out?: string;
  /**
   * Allow `out` to hold an existing bundle. It is kept, renamed to OUT.previous, at the new run's
   * first checkpoint. Without it an existing bundle is an error; a file, a non-empty folder that is
   * not a bundle, or a path inside the dataset is refused either way.
   */
  overwrite?: boolean;
  /** Aborting stops after the current batch and saves the best model so far. */
  signal?: AbortSignal;
  /** Progress events (stages, batches, epochs, checkpoints), for display. */
  onEvent?: (event: TrainEvent) => void;
  /**
   * Called after each epoch, once its checkpoint is written; awaited. Return 'stop' to end training
   * there, as early stopping would (the best epoch is kept, the threshold tuned, the model saved).
   */
  onEpochEnd?: (info: { epoch: number; record: EpochRecord; improved: boolean; bestEpoch: number | undefined }) => TrainCallbackResult;
  /**
   * Called after each batch; awaited. Return 'stop' to end training after this batch, as the abort
   * signal does: the unfinished epoch is not scored, the best finished one is kept.
   */
  onBatchEnd?: (info: { epoch: number; batch: number; batches: number; loss: number; accuracy: number }) => TrainCallbackResult;
}

// biome-ignore lint/suspicious/noConfusingVoidType: a callback may return nothing at all, which is what void says
export type TrainCallbackResult = void | 'stop' | Promise<void | 'stop'>;

/**
 * Something the user should know about a run that did not stop it. `code` is stable for scripts
 * (train --json): 'skipped', 'leak', 'shortcut', 'conflicting-labels', 'no-validation',
 * 'previous-kept', 'calibration-raised-ece' (train --calibrate), 'calibration-dropped' (train --from a calibrated model without validation images), and after training 'collapsed' or 'at-chance' (see learnedNothing).
 */
export interface TrainWarning {
  code: string;
  message: string;
}

export type TrainEvent =
  | { type: 'stage'; message: string }
  | ({ type: 'warning' } & TrainWarning)
  | { type: 'epoch-start'; epoch: number; epochs: number; batches: number }
  | { type: 'batch'; epoch: number; batch: number; batches: number; loss: number; accuracy: number; seconds: number }
  | { type: 'epoch-end'; record: EpochRecord; improved: boolean; epochs: number }
  | { type: 'checkpoint'; dir: string; epoch: number };

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  arch: 'seed-a',
  epochs: 30,
  patience: 2,
  restoreBest: true,
  batch: 32,
  valSplit: 0.2,
  augment: false,
  learningRate: 1e-3,
  labelSmoothing: 0,
  classWeight: 'none',
  tuneThreshold: false,
  calibrate: false,
  testTimeFlip: false,
  // Mostly the teacher: its probabilities carry what the labels do and how alike the classes look;
  // the labels' share keeps a teacher's mistakes from being copied whole (Hinton et al. 2015 weigh
  // the soft targets most).
  distillWeight: 0.7,
  limits: DATASET_IMAGE_LIMITS,
};

/**
 * What changes when fine-tuning (`from`): a trained body needs small steps (a rate 10x lower) and
 * more patience (its validation loss moves slowly and noisily on few images); few images need
 * augmentation and a loss that does not let the larger class win; and a threshold tuned on the
 * user's validation images, since the trained model's was set on other data.
 */
export const FROM_TRAIN_DEFAULTS = {
  learningRate: 1e-4,
  patience: 5,
  augment: true,
  classWeight: 'balanced',
  tuneThreshold: true,
} as const satisfies Partial<TrainOptions>;

/** What callers pass: every field optional, image limits partial. */
export type TrainInput = Partial<Omit<TrainOptions, 'limits'>> & { limits?: Partial<ImageLimits> };

export function resolveTrainOptions(options: TrainInput): TrainOptions {
  const o = { ...DEFAULT_TRAIN_OPTIONS, ...stripUndefined(options) } as TrainOptions;
  o.limits = { ...DATASET_IMAGE_LIMITS, ...options.limits };
  return o;
}

/** A fine-tuning run's options: the caller's over `carried` (what the model brings) over FROM_TRAIN_DEFAULTS. */
export function withFromDefaults(options: TrainInput, carried: TrainInput = {}): TrainInput {
  return { ...FROM_TRAIN_DEFAULTS, ...stripUndefined(carried), ...stripUndefined(options) };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
