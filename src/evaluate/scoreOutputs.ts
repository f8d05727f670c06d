import { interpretOutput, type ClassDecision, type DecisionRule } from '../predict/interpretOutput.js';
import { computeMetrics, type EvaluationReport } from './computeMetrics.js';

/** What turning outputs into decisions needs from a bundle (one definition, with interpretOutput). */
export type { DecisionRule };

/**
 * Metrics of decisions against the true class indices (into `rule.classes`), at the rule's
 * threshold. Training, evaluation and ensemble tuning all score through here, so a figure in a
 * bundle, in `evaluate` and in an ensemble's record means the same thing.
 */
export function scoreDecisions(decisions: ClassDecision[], truth: ArrayLike<number>, rule: DecisionRule): EvaluationReport {
  return computeMetrics({
    classes: rule.classes,
    positiveClass: rule.positiveClass,
    threshold: rule.threshold,
    truth,
    predicted: decisions.map((d) => d.labelIndex),
    probabilities: decisions.flatMap((d) => d.probabilities),
  });
}

/** Raw model outputs (one sigmoid unit or a softmax row per example) → decisions → metrics. */
export function scoreOutputs(raw: ArrayLike<number>, truth: ArrayLike<number>, rule: DecisionRule): { decisions: ClassDecision[]; report: EvaluationReport } {
  const decisions = interpretOutput(raw, truth.length, rule);
  return { decisions, report: scoreDecisions(decisions, truth, rule) };
}
