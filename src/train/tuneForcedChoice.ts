import { OptionError } from '../base/errors.js';
import { bestThreshold } from '../evaluate/bestThreshold.js';
import type { ForcedChoiceRecord } from '../model/bundleMetadata.js';
import { forceChoice } from '../predict/forcedChoice.js';
import { interpretOutput, type DecisionRule } from '../predict/interpretOutput.js';
import type { TrainEvent } from './trainOptions.js';

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
 * metadata.forcedChoice for a model with a neither class: its pair, and the threshold on the
 * forced-choice score p(positive) / (p(positive) + p(opposite)) that gives the best balanced
 * accuracy on the validation images of those two classes (0.5 without any). `probabilities` are
 * the model's class probabilities of the validation images (as interpretOutput gives them, so
 * calibrated if the model is), `truth` their class indices.
 */
export function tuneForcedChoice(t: ForcedChoiceTuning, probabilities: readonly ArrayLike<number>[], truth: readonly number[]): { record: ForcedChoiceRecord; validationImages: number } | undefined {
  const between = forcedChoiceClasses(t);
  if (!between) return undefined;
  const pair = { positive: t.classes.indexOf(between[0]), other: t.classes.indexOf(between[1]), threshold: 0.5 };
  const scores: number[] = [];
  const isPositive: boolean[] = [];
  truth.forEach((k, i) => {
    if (k !== pair.positive && k !== pair.other) return;
    scores.push(forceChoice(probabilities[i]!, pair).score);
    isPositive.push(k === pair.positive);
  });
  return { record: { between, threshold: forcedChoiceThreshold(scores, isPositive) }, validationImages: scores.length };
}

/**
 * The cut on forced-choice scores with the best balanced accuracy (bestThreshold; 0.5 when a side
 * is missing), kept inside (0, 1) as a bundle's forcedChoice.threshold must be: a cut below every
 * score or above every one would otherwise land on 0 or 1.
 */
export function forcedChoiceThreshold(scores: ArrayLike<number>, isPositive: boolean[]): number {
  return Math.min(1 - 1e-6, Math.max(1e-6, bestThreshold(scores, isPositive)));
}

/**
 * What train() records as metadata.forcedChoice, from the trained model's validation outputs
 * (`raw`, run only when the classes have a pair), decided into probabilities by `rule` (which holds
 * the calibration when one was fitted first), and says so. Undefined when there is no pair.
 */
export async function forcedChoiceOnValidation(rule: DecisionRule & { neitherClass?: string }, validation: { raw: () => Promise<ArrayLike<number>>; truth: number[] } | undefined, emit: (event: TrainEvent) => void): Promise<ForcedChoiceRecord | undefined> {
  const tuning = { classes: rule.classes, positiveClass: rule.positiveClass, neitherClass: rule.neitherClass };
  if (!forcedChoiceClasses(tuning)) return undefined;
  const probabilities = validation ? interpretOutput(await validation.raw(), validation.truth.length, rule).map((d) => d.probabilities) : [];
  const tuned = tuneForcedChoice(tuning, probabilities, validation?.truth ?? [])!;
  const { between, threshold } = tuned.record;
  emit({ type: 'stage', message: `forced choice between ${between.join(' and ')}: threshold ${threshold.toFixed(4)} on p(${between[0]}) / (p(${between.join(') + p(')})), ${tuned.validationImages ? `tuned on ${tuned.validationImages} validation images for balanced accuracy` : '0.5: no validation images of the two'}` });
  return tuned.record;
}
