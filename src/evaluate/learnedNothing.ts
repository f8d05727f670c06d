import type { EvaluationReport } from '../model/evaluationMetrics.js';
import type { BundleMetadata } from '../model/bundleMetadata.js';
import type { EvaluateResult } from './evaluate.js';

/**
 * 'collapsed': (nearly) every image gets the same label. 'at-chance': the balanced accuracy is no
 * higher than a model that guesses could reach by luck. Stable codes: train --json and
 * evaluate --json carry them.
 */
export type LearnedNothingCode = 'collapsed' | 'at-chance';

export interface LearnedNothing {
  code: LearnedNothingCode;
  /** What is wrong in plain words, with the figures. */
  message: string;
  /** The most common label given, and the share of images that got it. */
  dominant: { label: string; share: number };
  balancedAccuracy: number;
  /** 1 / (classes present). */
  chance: number;
  /** The balanced accuracy a guesser stays at or under 19 times in 20 at these class sizes. */
  luckBound: number;
  /**
   * Two classes only: the scores rank the images better than guessing would (ROC AUC above 0.5 by
   * more than luck), so it is the decision threshold that fails, not everything the model learned.
   */
  scoresRank: boolean;
}

/** From this share of images given one label, a model is said to give one label to everything. */
export const COLLAPSED_SHARE = 0.95;
/**
 * One label for 95% of the images is a collapse only when at least this share of the images belong
 * to other classes: then at most a quarter of those can have been labelled right, whereas on data
 * that is 95% one class, labelling nearly everything that class may simply be correct.
 */
const OTHER_CLASSES_AT_LEAST = 0.2;
/** Fewer images than this say nothing either way (one image more or less swings every share by 10%). */
export const MIN_IMAGES_FOR_VERDICT = 10;
/** One-sided 95% quantile of the normal distribution. */
const Z_95 = 1.645;

/**
 * Whether a model's labels on held-out images show that it learned nothing: checked after training
 * (on validation) and by evaluate. Judged on the decisions (the confusion matrix); the AUC only
 * says whether the scores behind them rank the images, which changes the advice.
 *
 * At chance: a model that guesses, labelling each image c with some probability q_c whatever the
 * image, gets on the n_c images of class c a recall that is a binomial share with variance
 * q_c (1 - q_c) / n_c <= 1 / (4 n_c); the balanced accuracy, the mean of the K recalls, then has
 * mean 1/K and a standard deviation of at most (1/K) sqrt(sum 1 / (4 n_c)). A balanced accuracy no
 * higher than 1/K plus 1.645 of those (a one-sided 5% test, normal approximation) is not
 * significantly better than guessing. On 43 + 43 validation images that bound is 0.589; on 6 + 6,
 * 0.737. Only the classes present count (a class with no images has no recall); with fewer than
 * two classes present, fewer than MIN_IMAGES_FOR_VERDICT images, or a bound no score could clear,
 * there is no verdict.
 */
export function learnedNothing(report: EvaluationReport, images = 'images'): LearnedNothing | undefined {
  const { classes, confusion, n } = report;
  const support = confusion.matrix.map((row) => row.reduce((a, b) => a + b, 0));
  const present = classes.map((_, k) => k).filter((k) => support[k]! > 0);
  if (present.length < 2 || n < MIN_IMAGES_FOR_VERDICT) return undefined;
  const K = present.length;
  const chance = 1 / K;
  const luckBound = chance + (Z_95 / K) * Math.sqrt(present.reduce((sum, k) => sum + 1 / (4 * support[k]!), 0));
  if (luckBound >= 1) return undefined;
  const given = classes.map((_, k) => confusion.matrix.reduce((a, row) => a + row[k]!, 0));
  const top = given.reduce((best, count, k) => (count > given[best]! ? k : best), 0);
  const share = given[top]! / n;
  const label = classes[top]!;
  const ba = report.balancedAccuracy;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const scoresRank = classes.length === 2 && K === 2 && report.auc !== null && report.auc > aucLuckBound(support[0]!, support[1]!);
  const base = { dominant: { label, share }, balancedAccuracy: ba, chance, luckBound, scoresRank };
  const ranking = scoresRank ? ` Its scores do rank the images (ROC AUC ${report.auc!.toFixed(3)}), so it is the decision threshold (${report.threshold}) that fails.` : '';
  if (share >= COLLAPSED_SHARE && 1 - support[top]! / n >= OTHER_CLASSES_AT_LEAST) {
    return { ...base, code: 'collapsed', message: `the model learned nothing useful: it labels ${pct(share)} of the ${n} ${images} "${label}", whatever they show (balanced accuracy ${pct(ba)}; guessing scores ${pct(chance)}).${ranking}` };
  }
  if (ba <= luckBound) {
    return { ...base, code: 'at-chance', message: `the model decides no better than guessing: balanced accuracy ${pct(ba)} on the ${n} ${images}, where guessing scores ${pct(chance)} and reaches up to ${pct(luckBound)} by luck at these class sizes (1 time in 20).${ranking}` };
  }
  return undefined;
}

/**
 * The ROC AUC a guesser's scores stay at or under 19 times in 20: under guessing the AUC (the
 * Mann–Whitney statistic over n1 n2 pairs) has mean 0.5 and variance (n1 + n2 + 1) / (12 n1 n2).
 */
function aucLuckBound(n1: number, n2: number): number {
  return 0.5 + Z_95 * Math.sqrt((n1 + n2 + 1) / (12 * n1 * n2));
}

/** What the model was trained with, so the advice names only what was not tried. */
export interface TrainingTried {
  /** The model already crops faces (train --faces / a face model). */
  faces?: boolean;
  /** The early-stopping patience it was trained with. */
  patience?: number;
  /** It already started from a trained model (train --from). */
  fromTrained?: boolean;
  /** Its scores rank the images better than its decisions (LearnedNothing.scoresRank): a tuned threshold comes first. */
  scoresRank?: boolean;
}

/** What to try instead, in the train command's options. */
export function learnedNothingAdvice(tried: TrainingTried = {}): string {
  const tries = [
    ...(tried.scoresRank ? ['pick the threshold on validation (train --tune-threshold)'] : []),
    ...(tried.fromTrained ? [] : ['start from the trained face model instead of from scratch (train --from default)']),
    ...(tried.faces ? [] : ['if these are photos of people, train on their faces (--faces) rather than whole scenes']),
    `give training more time before early stopping ends it (--patience ${Math.max(10, 2 * (tried.patience ?? 0))}${tried.patience ? `; it was ${tried.patience}` : ''})`,
    'add images: a model trained from scratch needs thousands per class',
  ];
  return `What to try: ${tries.join('; ')}.`;
}

/** The finding and the advice as one warning (train's and evaluate's), or undefined when the model learned something. */
export function learnedNothingWarning(report: EvaluationReport, images: string, tried: TrainingTried = {}): { code: LearnedNothingCode; message: string } | undefined {
  const found = learnedNothing(report, images);
  return found && { code: found.code, message: `${found.message} Do not use it as it is. ${learnedNothingAdvice({ ...tried, scoresRank: found.scoresRank })}` };
}

const SPLIT_IMAGES: Record<string, string> = { all: 'images', train: 'training images', val: 'validation images', test: 'test images' };

/** evaluate's warning: the advice drawn from what the model records of its own training. */
export function evaluationWarning(result: Pick<EvaluateResult, 'report' | 'split'>, meta: BundleMetadata): { code: LearnedNothingCode; message: string } | undefined {
  const options = meta.training?.options ?? {};
  return learnedNothingWarning(result.report, SPLIT_IMAGES[result.split] ?? 'images', {
    faces: Boolean(meta.preprocessing.faces),
    patience: typeof options.patience === 'number' ? options.patience : undefined,
    // Fine-tuned (train --from) records where it started; the library's initialWeights records the weights given.
    fromTrained: meta.startedFrom !== undefined || options.from !== undefined || options.initialWeights !== undefined,
  });
}
