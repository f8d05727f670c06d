import type { BundleMetadata } from '../model/bundleMetadata.js';
import { applyCalibration } from './applyCalibration.js';

export interface ClassDecision {
  /** Index into metadata.classes. */
  labelIndex: number;
  /** p(positiveClass): the meaning of `score` everywhere. */
  score: number;
  /** p(class k), in metadata.classes order. */
  probabilities: number[];
}

export type DecisionRule = Pick<BundleMetadata, 'classes' | 'output' | 'positiveClass' | 'threshold' | 'calibration'>;

/**
 * The model's decision rule on class probabilities (metadata.classes order): for one sigmoid unit,
 * the positive class when its probability reaches the threshold; for a softmax, the most probable
 * class (the first on a tie). The page decides on averaged probabilities with it, so a smoothed
 * label follows the same rule as a single frame's.
 */
export function decideClass(probabilities: ArrayLike<number>, meta: DecisionRule): number {
  const pos = meta.classes.indexOf(meta.positiveClass);
  if (meta.output === 'sigmoid') return probabilities[pos]! >= meta.threshold ? pos : 1 - pos;
  let best = 0;
  for (let k = 1; k < meta.classes.length; k++) if (probabilities[k]! > probabilities[best]!) best = k;
  return best;
}

/**
 * Turns raw model output (one sigmoid unit or a softmax row per example) into class
 * probabilities and a decision. Evaluation and prediction both go through here so that a
 * threshold or class order means the same in both.
 */
export function interpretOutput(raw: ArrayLike<number>, n: number, meta: DecisionRule): ClassDecision[] {
  const K = meta.classes.length;
  const pos = meta.classes.indexOf(meta.positiveClass);
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
    out.push({ labelIndex: decideClass(probabilities, meta), score: probabilities[pos]!, probabilities });
  }
  return out;
}
