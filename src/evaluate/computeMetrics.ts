import type { ClassMetrics, EvaluationReport } from '../model/evaluationMetrics.js';
import { ECE_BINS, expectedCalibrationError } from './expectedCalibrationError.js';

export type { ClassMetrics, EvaluationReport };

export interface MetricsInput {
  classes: string[];
  /** True class index of each example. */
  truth: ArrayLike<number>;
  /** Predicted class index of each example. */
  predicted: ArrayLike<number>;
  /** probabilities[i * K + k] = p(class k | example i). */
  probabilities: ArrayLike<number>;
  positiveClass: string;
  threshold: number;
}

export function computeMetrics(input: MetricsInput): EvaluationReport {
  const { classes, truth, predicted, probabilities } = input;
  const K = classes.length;
  const n = truth.length;
  const matrix = classes.map(() => new Array<number>(K).fill(0));
  for (let i = 0; i < n; i++) matrix[truth[i]][predicted[i]]++;
  let correct = 0;
  for (let k = 0; k < K; k++) correct += matrix[k][k];
  const perClass: Record<string, ClassMetrics> = {};
  const recalls: number[] = [];
  classes.forEach((c, k) => {
    const tp = matrix[k][k];
    const support = matrix[k].reduce((a, b) => a + b, 0);
    const predictedK = matrix.reduce((a, row) => a + row[k], 0);
    // sklearn's zero_division=0: a class never predicted has precision 0, not NaN.
    const precision = predictedK === 0 ? 0 : tp / predictedK;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    perClass[c] = { precision, recall, f1, support };
    if (support > 0) recalls.push(recall);
  });
  const aucOf = (k: number) => rocAuc(Array.from({ length: n }, (_, i) => truth[i] === k), Array.from({ length: n }, (_, i) => probabilities[i * K + k]));
  let auc: number | null;
  if (K === 2) auc = aucOf(classes.indexOf(input.positiveClass));
  else {
    // Over the classes the data has: a folder of happy and sad faces scored by a model that can
    // also say neutral has no neutral face to rank, and its happy and sad AUCs still mean something.
    const per = classes.map((_, k) => aucOf(k)).filter((a): a is number => a !== null);
    auc = per.length === 0 ? null : per.reduce((a, b) => a + b, 0) / per.length;
  }
  const calibration = n === 0 ? undefined : expectedCalibrationError(probabilities, truth, K);
  return {
    n,
    accuracy: n === 0 ? 0 : correct / n,
    balancedAccuracy: recalls.length === 0 ? 0 : recalls.reduce((a, b) => a + b, 0) / recalls.length,
    auc,
    classes,
    positiveClass: input.positiveClass,
    threshold: input.threshold,
    perClass,
    confusion: { labels: classes, matrix },
    ...(calibration ? { ece: calibration.ece, reliability: calibration.bins } : {}),
  };
}

/**
 * ROC AUC as the Mann–Whitney probability that a random positive outscores a random negative,
 * ties counting half (average ranks): exact, and O(n log n).
 */
export function rocAuc(isPositive: boolean[], scores: number[]): number | null {
  const nPos = isPositive.filter(Boolean).length;
  const nNeg = isPositive.length - nPos;
  if (nPos === 0 || nNeg === 0) return null;
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  let rankSumPos = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) if (isPositive[order[t][1]]) rankSumPos += avgRank;
    i = j + 1;
  }
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** A readable text report: headline numbers, per-class table and confusion matrix. */
export function formatEvaluationReport(r: EvaluationReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const present = r.classes.filter((c) => r.perClass[c]!.support > 0).length;
  const lines = [
    `images            ${r.n}`,
    `accuracy          ${pct(r.accuracy)}`,
    `balanced accuracy ${pct(r.balancedAccuracy)}`,
    `ROC AUC           ${r.auc === null ? 'n/a (a class is missing)' : r.auc.toFixed(3)}${r.classes.length === 2 ? `  (positive class: ${r.positiveClass}, threshold ${Number(r.threshold.toFixed(4))})` : ` (macro one-vs-rest${present < r.classes.length ? ` over the ${present} classes present` : ''})`}`,
    // Figures recorded before calibration was measured have no ECE: the line is left out, not faked.
    ...(r.ece === undefined ? [] : [`ECE               ${r.ece.toFixed(3)}  (expected calibration error: mean |accuracy - confidence| over ${ECE_BINS} confidence bins)`]),
    '',
  ];
  const w = Math.max(5, ...r.classes.map((c) => c.length)) + 2;
  lines.push(`${'class'.padEnd(w)}${'precision'.padStart(10)}${'recall'.padStart(10)}${'f1'.padStart(10)}${'support'.padStart(10)}`);
  for (const c of r.classes) {
    const m = r.perClass[c];
    lines.push(`${c.padEnd(w)}${m.precision.toFixed(3).padStart(10)}${m.recall.toFixed(3).padStart(10)}${m.f1.toFixed(3).padStart(10)}${String(m.support).padStart(10)}`);
  }
  lines.push('', 'confusion matrix (rows: true class, columns: predicted)');
  const cw = Math.max(w, ...r.confusion.matrix.flat().map((v) => String(v).length + 2));
  lines.push(`${''.padEnd(w)}${r.classes.map((c) => c.padStart(cw)).join('')}`);
  r.classes.forEach((c, k) => lines.push(`${c.padEnd(w)}${r.confusion.matrix[k].map((v) => String(v).padStart(cw)).join('')}`));
  return lines.join('\n');
}
