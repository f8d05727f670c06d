import { OptionError } from '../base/errors.js';
import { bestThreshold } from './bestThreshold.js';

/** The class a model with three or more classes has for "neither" when none is named. */
export const DEFAULT_NEITHER_CLASS = 'neutral';
/** Each positive class's conventional opposite, when more than one class is left to choose from. */
const OPPOSITES: Record<string, string> = { happy: 'sad', sad: 'happy' };

export interface ForcedChoiceTuning {
  classes: readonly string[];
  positiveClass: string;
  /** The "neither" class (TrainOptions.neitherClass); default 'neutral' when the model has it. */
  neitherClass?: string;
}

/**
 * The pair a model with a "neither" class decides between under forced choice: the positive class
 * and its opposite, the one class left besides the neither class (or, when several are left, the
 * conventional opposite: sad for happy). Undefined for two classes, or when no neither class or
 * no single opposite can be told; a neitherClass that is not a class is an error.
 */
export function forcedChoiceClasses(t: ForcedChoiceTuning): [string, string] | undefined {
  if (t.neitherClass !== undefined && !t.classes.includes(t.neitherClass)) throw new OptionError(`neitherClass "${t.neitherClass}" is not one of the classes: ${t.classes.join(', ')}`);
  if (t.neitherClass !== undefined && t.neitherClass === t.positiveClass) throw new OptionError(`neitherClass "${t.neitherClass}" is the positive class; the neither class is the one forced choice leaves out`);
  if (t.classes.length <= 2) return undefined;
  const neither = t.neitherClass ?? (t.classes.includes(DEFAULT_NEITHER_CLASS) ? DEFAULT_NEITHER_CLASS : undefined);
  if (neither === undefined || neither === t.positiveClass) return undefined;
  const rest = t.classes.filter((c) => c !== t.positiveClass && c !== neither);
  const opposite = rest.length === 1 ? rest[0] : rest.find((c) => c === OPPOSITES[t.positiveClass]);
  return opposite === undefined ? undefined : [t.positiveClass, opposite];
}

/**
 * The cut on forced-choice scores with the best balanced accuracy (bestThreshold; 0.5 when a side
 * is missing), kept inside (0, 1) as a bundle's forcedChoice.threshold must be: a cut below every
 * score or above every one would otherwise land on 0 or 1.
 */
export function forcedChoiceThreshold(scores: ArrayLike<number>, isPositive: boolean[]): number {
  return Math.min(1 - 1e-6, Math.max(1e-6, bestThreshold(scores, isPositive)));
}
