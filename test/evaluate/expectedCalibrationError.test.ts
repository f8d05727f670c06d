import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectedCalibrationError } from '../../src/evaluate/expectedCalibrationError.js';
import { computeMetrics, formatEvaluationReport } from '../../src/evaluate/computeMetrics.js';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

test('top-label ECE by hand: bins of 1/15, weighted by their images', () => {
  // Two classes; confidence = the larger probability. Examples:
  //  0.9 right, 0.9 wrong        -> bin (13/15, 14/15]: confidence 0.9, accuracy 0.5
  //  0.62 (class 1) right        -> bin (9/15, 10/15]:  confidence 0.62, accuracy 1
  //  0.99 right                  -> last bin:           confidence 0.99, accuracy 1
  const probabilities = [0.9, 0.1, 0.9, 0.1, 0.38, 0.62, 0.99, 0.01];
  const truth = [0, 1, 1, 0];
  const { ece, bins } = expectedCalibrationError(probabilities, truth, 2);
  assert.deepEqual(bins.map((b) => [b.lower, b.upper, b.count]), [[9 / 15, 10 / 15, 1], [13 / 15, 14 / 15, 2], [14 / 15, 1, 1]]);
  close(bins[1]!.confidence, 0.9);
  close(bins[1]!.accuracy, 0.5);
  close(ece, (1 / 4) * 0.38 + (2 / 4) * 0.4 + (1 / 4) * 0.01);
});

test('edges: confidence 1 falls in the last bin; a tie counts the first class as the prediction', () => {
  const { bins } = expectedCalibrationError([1, 0, 0.5, 0.5], [0, 1], 2);
  assert.deepEqual(bins.map((b) => [b.upper, b.count, b.accuracy]), [[8 / 15, 1, 0], [1, 1, 1]]);
  assert.throws(() => expectedCalibrationError([0.5, 0.5], [0, 1], 2), RangeError);
});

test('a calibrated model scores near 0, an overconfident one high; three classes too', () => {
  // In each bin the share right equals the confidence exactly.
  const probabilities: number[] = [];
  const truth: number[] = [];
  for (const [conf, n, right] of [[0.7, 10, 7], [0.9, 10, 9], [0.5, 2, 1]] as const) {
    for (let i = 0; i < n; i++) {
      probabilities.push(conf, (1 - conf) / 2, (1 - conf) / 2);
      truth.push(i < right ? 0 : 1);
    }
  }
  close(expectedCalibrationError(probabilities, truth, 3).ece, 0);
  const sure = probabilities.map((p) => (p > 0.4 ? 0.99 : 0.005));
  assert.ok(expectedCalibrationError(sure, truth, 3).ece > 0.15);
});

test('every EvaluationReport carries the ECE and its bins, and the text report prints it', () => {
  const report = computeMetrics({ classes: ['happy', 'sad'], positiveClass: 'happy', threshold: 0.5, truth: [0, 1, 1], predicted: [0, 0, 1], probabilities: [0.9, 0.1, 0.8, 0.2, 0.3, 0.7] });
  const direct = expectedCalibrationError([0.9, 0.1, 0.8, 0.2, 0.3, 0.7], [0, 1, 1], 2);
  assert.equal(report.ece, direct.ece);
  assert.deepEqual(report.reliability, direct.bins);
  assert.match(formatEvaluationReport(report), new RegExp(`ECE\\s+${direct.ece.toFixed(3)}\\s+\\(expected calibration error`));
  // Figures recorded before calibration was measured print without the line.
  const { ece: _e, reliability: _r, ...old } = report;
  assert.doesNotMatch(formatEvaluationReport(old), /calibration/);
});
