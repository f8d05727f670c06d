import type { ReliabilityBin } from '../model/evaluationMetrics.js';

export type { ReliabilityBin };

/** The customary count (Guo et al. 2017): fine enough to show a shape, coarse enough to fill. */
export const ECE_BINS = 15;

/**
 * Top-label calibration on labelled examples: each example's confidence is its largest class
 * probability and it counts as right when that class is the true one (the first on a tie, as
 * decideClass takes). Confidences fall into `bins` equal-width bins (lower, upper], the first
 * closed at 0; ECE = sum over bins of (count / n) * |accuracy - mean confidence|.
 * `probabilities[i * K + k]` = p(class k | example i); `truth[i]` is the true class index.
 */
export function expectedCalibrationError(probabilities: ArrayLike<number>, truth: ArrayLike<number>, K: number, bins = ECE_BINS): { ece: number; bins: ReliabilityBin[] } {
  const n = truth.length;
  if (probabilities.length !== n * K) throw new RangeError(`expectedCalibrationError: ${probabilities.length} probabilities for ${n} examples of ${K} classes`);
  const count = new Array<number>(bins).fill(0);
  const confidence = new Array<number>(bins).fill(0);
  const correct = new Array<number>(bins).fill(0);
  for (let i = 0; i < n; i++) {
    let top = 0;
    for (let k = 1; k < K; k++) if (probabilities[i * K + k]! > probabilities[i * K + top]!) top = k;
    const c = probabilities[i * K + top]!;
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(c * bins) - 1));
    count[b]++;
    confidence[b] += c;
    if (top === truth[i]) correct[b]++;
  }
  const out: ReliabilityBin[] = [];
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    if (count[b] === 0) continue;
    const bin = { lower: b / bins, upper: (b + 1) / bins, count: count[b], confidence: confidence[b] / count[b], accuracy: correct[b] / count[b] };
    out.push(bin);
    ece += (bin.count / n) * Math.abs(bin.accuracy - bin.confidence);
  }
  return { ece, bins: out };
}
