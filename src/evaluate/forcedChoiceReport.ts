import type { ClassDecision, DecisionRule } from '../predict/interpretOutput.js';
import { forceChoice, type ForcedChoicePair } from '../predict/forcedChoice.js';
import { computeMetrics, type EvaluationReport } from './computeMetrics.js';

/** The forced-choice figures of a model with more than two classes, and the images they are over. */
export interface ForcedChoiceScores {
  /** A two-class report: the pair (in the model's class order), its threshold, AUC of the forced-choice score. */
  report: EvaluationReport;
  /** Indices of the images scored: those whose true class is one of the pair. */
  kept: number[];
  /** Each kept image's forced decision, with indices into the model's classes. */
  decisions: ClassDecision[];
}

/**
 * Scores the forced choice between `pair` from the model's own decisions (their probabilities, as
 * calibrated): an image of a third class (neutral) has no right answer between the two and is
 * left out, so the figures are the happy/sad ones a two-class model would be compared on.
 */
export function scoreForcedChoice(decisions: ClassDecision[], truth: ArrayLike<number>, rule: DecisionRule, pair: ForcedChoicePair): ForcedChoiceScores {
  const members = [pair.positive, pair.other].sort((a, b) => a - b);
  const kept: number[] = [];
  for (let i = 0; i < decisions.length; i++) if (members.includes(truth[i]!)) kept.push(i);
  const forced = kept.map((i) => forceChoice(decisions[i]!.probabilities, pair));
  const report = computeMetrics({
    classes: members.map((k) => rule.classes[k]!),
    positiveClass: rule.classes[pair.positive]!,
    threshold: pair.threshold,
    truth: kept.map((i) => members.indexOf(truth[i]!)),
    predicted: forced.map((d) => members.indexOf(d.labelIndex)),
    probabilities: forced.flatMap((d) => members.map((k) => d.probabilities[k]!)),
  });
  return { report, kept, decisions: forced };
}
