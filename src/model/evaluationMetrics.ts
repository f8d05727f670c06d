// The metrics a bundle records (happysad.json's `metrics`): defined with the bundle, below the
// evaluate/ stage that computes them, so that reading a bundle never reaches up into evaluation.

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Number of true examples of this class. */
  support: number;
}

export interface EvaluationReport {
  n: number;
  accuracy: number;
  /** Mean per-class recall: honest when classes are imbalanced. */
  balancedAccuracy: number;
  /**
   * ROC AUC of the positive class (binary; null when a class is absent) or macro one-vs-rest over
   * the true classes present (multi-class; null when fewer than two are).
   */
  auc: number | null;
  classes: string[];
  positiveClass: string;
  threshold: number;
  perClass: Record<string, ClassMetrics>;
  /** Rows are true classes, columns predicted classes, both in `classes` order. */
  confusion: { labels: string[]; matrix: number[][] };
}
