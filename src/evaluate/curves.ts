/**
 * ROC and precision-recall curves of one class's scores, as pure functions of (is positive,
 * score) pairs. Each point is the cut "score >= threshold is positive" at one distinct score, so
 * tied scores move together: one diagonal step on the ROC curve, never an order the data does not
 * have. Scores must be finite.
 */

export interface RocPoint {
  /** False positive rate: negatives at or above the threshold / negatives. */
  fpr: number;
  /** True positive rate (recall): positives at or above the threshold / positives. */
  tpr: number;
  /** The cut; null for the first point, above every score (nothing called positive). */
  threshold: number | null;
}

export interface RocCurve {
  /** From (0, 0) to (1, 1), thresholds descending. */
  points: RocPoint[];
  /** Area under the curve (trapezoids): the Mann–Whitney statistic, ties counting half. */
  auc: number;
}

export interface PrPoint {
  recall: number;
  /** Positives at or above the threshold / everything at or above it. */
  precision: number;
  /** The cut; null for the first point (recall 0, precision 1 by convention, as sklearn). */
  threshold: number | null;
}

export interface PrCurve {
  /** Recall ascending, thresholds descending. */
  points: PrPoint[];
  /** Σ (R_n − R_{n−1}) · P_n over the points: sklearn's average_precision_score, no interpolation. */
  averagePrecision: number;
  /** Share of positives: the precision of a classifier that guesses, the curve's baseline. */
  prevalence: number;
}

/** Where the model's own decision rule sits on both curves. */
export interface OperatingPoint {
  threshold: number;
  fpr: number;
  tpr: number;
  /** Null when nothing scores at or above the threshold. */
  precision: number | null;
}

/** Counts of positives and negatives at or above each distinct score, highest score first. */
function cumulativeCounts(isPositive: ArrayLike<boolean>, scores: ArrayLike<number>): { nPos: number; nNeg: number; steps: { score: number; tp: number; fp: number }[] } {
  if (isPositive.length !== scores.length) throw new RangeError(`${isPositive.length} labels but ${scores.length} scores`);
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const steps: { score: number; tp: number; fp: number }[] = [];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < order.length; i++) {
    if (isPositive[order[i]]) tp++;
    else fp++;
    const last = i + 1 === order.length || scores[order[i + 1]] !== scores[order[i]];
    if (last) steps.push({ score: scores[order[i]], tp, fp });
  }
  return { nPos: tp, nNeg: fp, steps };
}

/** Null when either class is absent: a rate over zero examples is undefined. */
export function rocCurve(isPositive: ArrayLike<boolean>, scores: ArrayLike<number>): RocCurve | null {
  const { nPos, nNeg, steps } = cumulativeCounts(isPositive, scores);
  if (nPos === 0 || nNeg === 0) return null;
  const points: RocPoint[] = [{ fpr: 0, tpr: 0, threshold: null }];
  let auc = 0;
  for (const s of steps) {
    const prev = points[points.length - 1];
    const p = { fpr: s.fp / nNeg, tpr: s.tp / nPos, threshold: s.score };
    auc += ((p.fpr - prev.fpr) * (p.tpr + prev.tpr)) / 2;
    points.push(p);
  }
  return { points, auc };
}

/** Null when there is no positive: recall is undefined. */
export function precisionRecallCurve(isPositive: ArrayLike<boolean>, scores: ArrayLike<number>): PrCurve | null {
  const { nPos, nNeg, steps } = cumulativeCounts(isPositive, scores);
  if (nPos === 0) return null;
  const points: PrPoint[] = [{ recall: 0, precision: 1, threshold: null }];
  let averagePrecision = 0;
  for (const s of steps) {
    const p = { recall: s.tp / nPos, precision: s.tp / (s.tp + s.fp), threshold: s.score };
    averagePrecision += (p.recall - points[points.length - 1].recall) * p.precision;
    points.push(p);
  }
  return { points, averagePrecision, prevalence: nPos / (nPos + nNeg) };
}

/** The rates at `threshold` with the rule predict uses: score >= threshold is positive. Null when a class is absent. */
export function operatingPoint(isPositive: ArrayLike<boolean>, scores: ArrayLike<number>, threshold: number): OperatingPoint | null {
  let tp = 0;
  let fp = 0;
  let nPos = 0;
  for (let i = 0; i < scores.length; i++) {
    if (isPositive[i]) nPos++;
    if (scores[i] >= threshold) {
      if (isPositive[i]) tp++;
      else fp++;
    }
  }
  const nNeg = scores.length - nPos;
  if (nPos === 0 || nNeg === 0) return null;
  return { threshold, fpr: fp / nNeg, tpr: tp / nPos, precision: tp + fp === 0 ? null : tp / (tp + fp) };
}
