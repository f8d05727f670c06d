import { OptionError } from '../base/errors.js';
import type { BundleMetadata } from '../model/bundleMetadata.js';

/** The two classes forced choice decides between (indices into the model's classes) and its cut on the two-class score. */
export interface ForcedChoicePair {
  positive: number;
  other: number;
  threshold: number;
}

/** The pair a model without a recorded one falls back on: the two classes happysad is about. */
const CONVENTIONAL_PAIR = ['happy', 'sad'] as const;
const CONVENTIONAL_THRESHOLD = 0.5;

/**
 * The pair `--forced-choice` decides between, or null for a two-class model, where it changes
 * nothing. A model that records one (training does, when it has a neutral class) uses it; one
 * that does not but has the classes happy and sad uses those at 0.5; any other model cannot be
 * forced, and says so before anything is classified.
 */
export function forcedChoicePair(meta: Pick<BundleMetadata, 'classes' | 'positiveClass' | 'forcedChoice'> & { name?: string }): ForcedChoicePair | null {
  const { classes, positiveClass } = meta;
  if (classes.length <= 2) return null;
  const positive = classes.indexOf(positiveClass);
  if (meta.forcedChoice) {
    const [a, b] = meta.forcedChoice.between;
    return { positive, other: classes.indexOf(a === positiveClass ? b : a), threshold: meta.forcedChoice.threshold };
  }
  const [happy, sad] = CONVENTIONAL_PAIR;
  if (classes.includes(happy) && classes.includes(sad) && (positiveClass === happy || positiveClass === sad)) {
    return { positive, other: classes.indexOf(positiveClass === happy ? sad : happy), threshold: CONVENTIONAL_THRESHOLD };
  }
  throw new OptionError(`forced choice: ${meta.name ? `model "${meta.name}"` : 'this model'} has the classes ${classes.join(', ')} and records no pair to choose between (its happysad.json has no "forcedChoice"), and it lacks the classes ${happy} and ${sad} to fall back on; run it without forced choice, or train it with a neutral class so that training records the pair`);
}

/** The pair forced choice would use, or undefined for a two-class model or one it cannot apply to (no error). */
export function optionalForcedChoicePair(meta: Parameters<typeof forcedChoicePair>[0]): ForcedChoicePair | undefined {
  try {
    return forcedChoicePair(meta) ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * The answer between the pair only: their probabilities renormalised to sum to 1, every other
 * class 0, and the positive class chosen when its share reaches the pair's threshold. Applied to
 * already-renormalised probabilities it gives them back unchanged, so a mean of forced answers
 * (the page's and `--smooth`'s) is decided the same way.
 */
export function forceChoice(probabilities: ArrayLike<number>, pair: ForcedChoicePair): { labelIndex: number; score: number; probabilities: number[] } {
  const pos = probabilities[pair.positive]!;
  const other = probabilities[pair.other]!;
  const sum = pos + other;
  // Both underflowed to 0 (the model is sure of a third class): no evidence either way.
  const score = sum > 0 ? pos / sum : 0.5;
  const out = new Array<number>(probabilities.length).fill(0);
  out[pair.positive] = score;
  out[pair.other] = 1 - score;
  return { labelIndex: score >= pair.threshold ? pair.positive : pair.other, score, probabilities: out };
}
