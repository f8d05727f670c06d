import type { BundleMetadata } from '../model/bundleMetadata.js';
import { applyCalibration } from './applyCalibration.js';
import { forceChoice, forcedChoicePair, type ForcedChoicePair } from './forcedChoice.js';

export interface ClassDecision {
  /** Index into metadata.classes. */
  labelIndex: number;
  /** p(positiveClass): the meaning of `score` everywhere. */
  score: number;
  /** p(class k), in metadata.classes order. */
  probabilities: number[];
}

export type DecisionRule = Pick<BundleMetadata, 'classes' | 'output' | 'positiveClass' | 'threshold' | 'calibration' | 'forcedChoice'>;

export interface InterpretOptions {
  /**
   * Decide between two classes only (happy or sad, never neutral): see forcedChoicePair for which
   * two, and forceChoice for how. Changes nothing for a two-class model; a model it cannot apply
   * to is refused with an OptionError.
   */
  forcedChoice?: boolean;
}

/**
 * The model's decision rule on class probabilities (metadata.classes order): for one sigmoid unit,
 * the positive class when its probability reaches the threshold; for a softmax, the most probable
 * class (the first on a tie); with forced choice, the pair's rule (forceChoice). The page decides
 * on averaged probabilities with it, so a smoothed label follows the same rule as a single frame's.
 */
export function decideClass(probabilities: ArrayLike<number>, meta: DecisionRule, options: InterpretOptions = {}): number {
  const pair = options.forcedChoice ? forcedChoicePair(meta) : null;
  return pair ? forceChoice(probabilities, pair).labelIndex : modelRule(probabilities, meta);
}

function modelRule(probabilities: ArrayLike<number>, meta: DecisionRule): number {
  const pos = meta.classes.indexOf(meta.positiveClass);
  if (meta.output === 'sigmoid') return probabilities[pos]! >= meta.threshold ? pos : 1 - pos;
  let best = 0;
  for (let k = 1; k < meta.classes.length; k++) if (probabilities[k]! > probabilities[best]!) best = k;
  return best;
}

/**
 * Turns raw model output (one sigmoid unit or a softmax row per example) into class
 * probabilities and a decision. Evaluation and prediction both go through here so that a
 * threshold or class order means the same in both. In order: class probabilities, their
 * calibration, forced choice when asked, the decision.
 */
export function interpretOutput(raw: ArrayLike<number>, n: number, meta: DecisionRule, options: InterpretOptions = {}): ClassDecision[] {
  const K = meta.classes.length;
  const pos = meta.classes.indexOf(meta.positiveClass);
  // Resolved once, before any row: a model forced choice cannot apply to fails here, whole.
  const pair: ForcedChoicePair | null = options.forcedChoice ? forcedChoicePair(meta) : null;
  const out: ClassDecision[] = [];
  for (let i = 0; i < n; i++) {
    let probabilities: number[];
    if (meta.output === 'sigmoid') {
      const p = raw[i]!;
      probabilities = [0, 0];
      probabilities[pos] = p;
      probabilities[1 - pos] = 1 - p;
    } else {
      probabilities = Array.from({ length: K }, (_, k) => raw[i * K + k]!);
    }
    probabilities = applyCalibration(probabilities, meta);
    if (pair) out.push(forceChoice(probabilities, pair));
    else out.push({ labelIndex: modelRule(probabilities, meta), score: probabilities[pos]!, probabilities });
  }
  return out;
}
