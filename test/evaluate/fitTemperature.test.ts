import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Random } from '../../src/base/random.js';
import { fitTemperature } from '../../src/evaluate/fitTemperature.js';
import { fitCalibration, uncalibratedRule } from '../../src/evaluate/fitCalibration.js';
import { calibratedThreshold } from '../../src/predict/applyCalibration.js';
import type { DecisionRule } from '../../src/evaluate/scoreOutputs.js';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Labels drawn from sigmoid(z); the model reports sigmoid(k z): overconfident for k > 1. */
function binaryData(n: number, k: number, seed: number): { p: number[]; truth: number[] } {
  const r = new Random(seed);
  const p: number[] = [];
  const truth: number[] = [];
  for (let i = 0; i < n; i++) {
    const z = (r.next() - 0.5) * 6;
    truth.push(r.next() < sigmoid(z) ? 0 : 1);
    p.push(sigmoid(k * z));
  }
  return { p, truth };
}

test('a model k times too sure gets T ≈ k back; one too timid gets T < 1', () => {
  for (const k of [3, 0.5]) {
    const { p, truth } = binaryData(6000, k, 1);
    const fit = fitTemperature(p.map((x) => [x, 1 - x]), truth, 'sigmoid');
    assert.ok(Math.abs(fit.temperature - k) / k < 0.1, `k ${k}: fitted ${fit.temperature}`);
    assert.ok(fit.nllAfter < fit.nllBefore);
  }
});

test('softmax: logits scaled by 2.5 are found, deterministically', () => {
  const r = new Random(2);
  const probabilities: number[][] = [];
  const truth: number[] = [];
  const softmax = (z: number[]) => {
    const e = z.map(Math.exp);
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  };
  for (let i = 0; i < 5000; i++) {
    const z = [0, 0, 0].map(() => (r.next() - 0.5) * 4);
    const q = softmax(z);
    const u = r.next();
    truth.push(u < q[0]! ? 0 : u < q[0]! + q[1]! ? 1 : 2);
    probabilities.push(softmax(z.map((v) => 2.5 * v)));
  }
  const fit = fitTemperature(probabilities, truth, 'softmax');
  assert.ok(Math.abs(fit.temperature - 2.5) / 2.5 < 0.1, `fitted ${fit.temperature}`);
  assert.deepEqual(fitTemperature(probabilities, truth, 'softmax'), fit, 'same data, same temperature');
  assert.throws(() => fitTemperature([], [], 'softmax'), RangeError);
});

test('fitCalibration: decisions kept at a tuned threshold, the threshold moved, the error down', () => {
  const { p, truth } = binaryData(3000, 4, 3);
  const rule: DecisionRule = { classes: ['happy', 'sad'], output: 'sigmoid', positiveClass: 'happy', threshold: 0.62 };
  const fit = fitCalibration(p, truth, rule, 'synthetic');
  const T = fit.calibration.temperature;
  assert.ok(T > 3 && T < 5, `T ${T}`);
  assert.equal(fit.rule.threshold, calibratedThreshold(0.62, T));
  assert.ok(fit.rule.threshold < 0.62, 'a softer model cuts nearer 0.5');
  assert.deepEqual(fit.after.confusion, fit.before.confusion, 'the same decisions');
  assert.deepEqual({ fittedOn: fit.calibration.fittedOn, n: fit.calibration.n, method: fit.calibration.method }, { fittedOn: 'synthetic', n: 3000, method: 'temperature' });
  assert.equal(fit.calibration.eceBefore, fit.before.ece);
  assert.equal(fit.calibration.eceAfter, fit.after.ece);
  assert.ok(fit.calibration.eceAfter < fit.calibration.eceBefore / 2, `ECE ${fit.calibration.eceBefore} -> ${fit.calibration.eceAfter}`);
  assert.equal(fit.after.threshold, fit.rule.threshold);
  // Back to the network's own rule, exactly enough to refit the same way.
  const back = uncalibratedRule(fit.rule);
  assert.equal(back.calibration, undefined);
  assert.ok(Math.abs(back.threshold - 0.62) < 1e-12);
  assert.throws(() => fitCalibration(p, truth, fit.rule, 'again'), /already calibrated/);
});

test('fitCalibration on a softmax: the threshold is left alone and the most probable class kept', () => {
  const r = new Random(4);
  const raw: number[] = [];
  const truth: number[] = [];
  for (let i = 0; i < 600; i++) {
    const z = [0, 0, 0].map(() => (r.next() - 0.5) * 8);
    const e = z.map(Math.exp);
    const s = e.reduce((a, b) => a + b, 0);
    raw.push(...e.map((v) => v / s));
    truth.push(Math.floor(r.next() * 3));
  }
  const rule: DecisionRule = { classes: ['happy', 'neutral', 'sad'], output: 'softmax', positiveClass: 'happy', threshold: 0.5 };
  const fit = fitCalibration(raw, truth, rule, 'noise');
  assert.equal(fit.rule.threshold, 0.5);
  assert.ok(fit.calibration.temperature > 5, `labels unrelated to the outputs: soften a lot (T ${fit.calibration.temperature})`);
  assert.deepEqual(fit.after.confusion, fit.before.confusion);
  assert.ok(fit.calibration.eceAfter < fit.calibration.eceBefore);
});
