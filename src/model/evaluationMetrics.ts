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
  /**
   * Expected calibration error of the top label: over 15 equal-width bins of confidence (the
   * largest class probability), the image-weighted mean |accuracy - mean confidence|. 0 is a
   * model whose "90% sure" is right 90% of the time. Absent in figures recorded before it existed.
   */
  ece?: number;
  /** The bins behind `ece` that hold images, lowest confidence first: a reliability diagram's data. */
  reliability?: ReliabilityBin[];
}

/** Images whose top-label confidence falls in (lower, upper] (the first bin includes 0). */
export interface ReliabilityBin {
  lower: number;
  upper: number;
  count: number;
  /** Mean confidence (largest class probability) of its images. */
  confidence: number;
  /** Share of its images whose most probable class is the true one. */
  accuracy: number;
}
