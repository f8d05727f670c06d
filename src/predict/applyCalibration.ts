import type { BundleMetadata } from '../model/bundleMetadata.js';

/** What calibrating needs from a bundle: how its outputs are read, and its calibration if any. */
export type CalibrationRule = Pick<BundleMetadata, 'classes' | 'output' | 'positiveClass' | 'calibration'>;

/**
 * Probabilities are kept this far from 0 and 1 before taking logs: a float32 sigmoid or softmax
 * saturates to exactly 0 or 1, whose logit is infinite, and a temperature cannot soften infinity.
 */
const EPS = 1e-7;

const clamp = (p: number) => Math.min(1 - EPS, Math.max(EPS, p));
const logit = (p: number) => Math.log(clamp(p) / (1 - clamp(p)));
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
/** p(positive) of one sigmoid unit under temperature T: what both probabilities and thresholds go through. */
const scaleSigmoid = (p: number, temperature: number) => sigmoid(logit(p) / temperature);

/**
 * One example's class probabilities (metadata.classes order) as the bundle's calibration says;
 * returned unchanged when it has none. interpretOutput calls this for every host, so a calibrated
 * bundle's probabilities are calibrated everywhere (CLI, server, browser, video, evaluate).
 */
export function applyCalibration(probabilities: number[], rule: CalibrationRule): number[] {
  if (!rule.calibration) return probabilities;
  return temperatureScale(probabilities, rule.output, rule.calibration.temperature, rule.classes.indexOf(rule.positiveClass));
}

/**
 * Temperature scaling of one example's probabilities.
 * One sigmoid unit: p' = sigmoid(logit(p) / T) for the class at index `positive`, 1 - p' for the
 * other; computed on p(positive) by the very function that moves the threshold
 * (calibratedThreshold), so that rounding cannot move a decision.
 * A softmax: p' = softmax(log p / T), i.e. p'_k ∝ p_k^(1/T). On a softmax's output that divides
 * its logits by T; on an ensemble's averaged probabilities, which have no logits, it is the same
 * operation. Order is kept: the most probable class stays the most probable.
 */
export function temperatureScale(probabilities: number[], output: BundleMetadata['output'], temperature: number, positive = 0): number[] {
  if (output === 'sigmoid') {
    const p = scaleSigmoid(probabilities[positive]!, temperature);
    return positive === 0 ? [p, 1 - p] : [1 - p, p];
  }
  const z = probabilities.map((p) => Math.log(clamp(p)) / temperature);
  const max = Math.max(...z);
  const e = z.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/**
 * A sigmoid model's threshold on p(positive), moved into calibrated space: p >= t exactly when
 * sigmoid(logit(p) / T) >= sigmoid(logit(t) / T), so a calibrated model decides as before.
 */
export function calibratedThreshold(threshold: number, temperature: number): number {
  return scaleSigmoid(threshold, temperature);
}

/** The inverse of calibratedThreshold: the cut on the network's own p(positive). */
export function uncalibratedThreshold(threshold: number, temperature: number): number {
  return sigmoid(logit(threshold) * temperature);
}
