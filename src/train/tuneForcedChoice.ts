import type { ForcedChoiceRecord } from '../model/bundleMetadata.js';
import { forceChoice } from '../predict/forcedChoice.js';
import { interpretOutput, type DecisionRule } from '../predict/interpretOutput.js';
import type { TrainEvent } from './trainOptions.js';
import { forcedChoiceClasses, forcedChoiceThreshold, type ForcedChoiceTuning } from '../evaluate/forcedChoiceTuning.js';

// The pair and the cut live with the evaluation code (ensembles tune them too); re-exported for train's callers.
export { DEFAULT_NEITHER_CLASS, forcedChoiceClasses, forcedChoiceThreshold, type ForcedChoiceTuning } from '../evaluate/forcedChoiceTuning.js';

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
