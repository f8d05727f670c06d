import type { TemperatureCalibration } from '../model/bundleMetadata.js';
import { calibratedThreshold, uncalibratedThreshold } from '../predict/applyCalibration.js';
import type { EvaluationReport } from './computeMetrics.js';
import { fitTemperature } from './fitTemperature.js';
import { scoreOutputs, type DecisionRule } from './scoreOutputs.js';

export interface CalibrationFit {
  calibration: TemperatureCalibration;
  /**
   * The rule to store: the calibration, and a sigmoid's threshold moved into calibrated space, so
   * that every decision stays what it was (a softmax's most probable class never moves).
   */
  rule: DecisionRule;
  /** The fitting data scored as the model was, and with the calibration (the same decisions). */
  before: EvaluationReport;
  after: EvaluationReport;
}

/**
 * Fits temperature scaling on labelled raw model outputs (one sigmoid unit or a softmax row per
 * example, as the network gives them) for a model deciding by `rule`, which must be uncalibrated
 * (see uncalibratedRule). `fittedOn` says what the data was, for the record.
 */
export function fitCalibration(raw: ArrayLike<number>, truth: ArrayLike<number>, rule: DecisionRule, fittedOn: string): CalibrationFit {
  if (rule.calibration) throw new RangeError('fitCalibration: the rule is already calibrated; fit on uncalibratedRule(rule)');
  if (truth.length === 0) throw new RangeError('fitCalibration: no labelled examples to fit on');
  const before = scoreOutputs(raw, truth, rule);
  const positive = rule.classes.indexOf(rule.positiveClass);
  const { temperature } = fitTemperature(before.decisions.map((d) => d.probabilities), truth, rule.output, positive);
  const calibration: TemperatureCalibration = { method: 'temperature', temperature, fittedOn, n: truth.length, eceBefore: before.report.ece!, eceAfter: 0 };
  const calibrated: DecisionRule = { ...rule, calibration, threshold: rule.output === 'sigmoid' ? calibratedThreshold(rule.threshold, temperature) : rule.threshold };
  const after = scoreOutputs(raw, truth, calibrated);
  calibration.eceAfter = after.report.ece!;
  return { calibration, rule: calibrated, before: before.report, after: after.report };
}

/**
 * The rule of a bundle as its network alone decides: no calibration, and a sigmoid's threshold
 * back on the network's own p(positive). What a new calibration is fitted from, so that
 * recalibrating a calibrated bundle replaces its temperature instead of stacking a second one.
 */
export function uncalibratedRule<R extends DecisionRule>(rule: R): R {
  if (!rule.calibration) return rule;
  const { calibration, ...rest } = rule;
  return { ...rest, threshold: rule.output === 'sigmoid' ? uncalibratedThreshold(rule.threshold, calibration.temperature) : rule.threshold } as R;
}
