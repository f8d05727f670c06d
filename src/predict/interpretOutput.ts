import type { BundleMetadata } from '../model/bundleMetadata.js';

export interface ClassDecision {
  /** Index into metadata.classes. */
  labelIndex: number;
  /** p(positiveClass): the meaning of `score` everywhere. */
  score: number;
  /** p(class k), in metadata.classes order. */
  probabilities: number[];
}

/**
 * Turns raw model output (one sigmoid unit or a softmax row per example) into class
 * probabilities and a decision. Evaluation and prediction both go through here so that a
 * threshold or class order means the same in both.
 */
export function interpretOutput(raw: ArrayLike<number>, n: number, meta: Pick<BundleMetadata, 'classes' | 'output' | 'positiveClass' | 'threshold'>): ClassDecision[] {
  const K = meta.classes.length;
  const pos = meta.classes.indexOf(meta.positiveClass);
  const out: ClassDecision[] = [];
  for (let i = 0; i < n; i++) {
    if (meta.output === 'sigmoid') {
      const p = raw[i];
      const probabilities = [0, 0];
      probabilities[pos] = p;
      probabilities[1 - pos] = 1 - p;
      out.push({ labelIndex: p >= meta.threshold ? pos : 1 - pos, score: p, probabilities });
    } else {
      const probabilities = Array.from({ length: K }, (_, k) => raw[i * K + k]);
      let best = 0;
      for (let k = 1; k < K; k++) if (probabilities[k] > probabilities[best]) best = k;
      out.push({ labelIndex: best, score: probabilities[pos], probabilities });
    }
  }
  return out;
}
