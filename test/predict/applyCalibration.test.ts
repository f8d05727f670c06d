import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyCalibration, calibratedThreshold, temperatureScale, uncalibratedThreshold } from '../../src/predict/applyCalibration.js';
import { decideClass, interpretOutput, type DecisionRule } from '../../src/predict/interpretOutput.js';
import type { TemperatureCalibration } from '../../src/model/bundleMetadata.js';
import { Random } from '../../src/base/random.js';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const logit = (p: number) => Math.log(p / (1 - p));
const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);
const calibration = (temperature: number): TemperatureCalibration => ({ method: 'temperature', temperature, fittedOn: 'test', n: 10, eceBefore: 0.2, eceAfter: 0.05 });
const binary: DecisionRule = { classes: ['happy', 'sad'], output: 'sigmoid', positiveClass: 'happy', threshold: 0.5 };
const three: DecisionRule = { classes: ['happy', 'neutral', 'sad'], output: 'softmax', positiveClass: 'happy', threshold: 0.5 };

test('no calibration: the probabilities are returned as they are', () => {
  const p = [0.9, 0.1];
  assert.equal(applyCalibration(p, binary), p);
});

test('sigmoid: p(positive) becomes sigmoid(logit(p) / T), whichever index the positive class has', () => {
  for (const p of [0.02, 0.3, 0.5, 0.8, 0.999]) {
    const [a, b] = applyCalibration([p, 1 - p], { ...binary, calibration: calibration(2) });
    close(a!, sigmoid(logit(p) / 2));
    close(a! + b!, 1);
    const [c, d] = applyCalibration([1 - p, p], { ...binary, positiveClass: 'sad', calibration: calibration(2) });
    close(d!, sigmoid(logit(p) / 2));
    close(c! + d!, 1);
  }
  // T > 1 softens, T < 1 sharpens, T = 1 leaves alone.
  assert.ok(applyCalibration([0.9, 0.1], { ...binary, calibration: calibration(3) })[0]! < 0.9);
  assert.ok(applyCalibration([0.9, 0.1], { ...binary, calibration: calibration(0.5) })[0]! > 0.9);
  close(applyCalibration([0.9, 0.1], { ...binary, calibration: calibration(1) })[0]!, 0.9, 1e-12);
});

test('a saturated output (exactly 0 or 1 in float32) is softened, not stuck or NaN', () => {
  const [p] = applyCalibration([1, 0], { ...binary, calibration: calibration(2) });
  assert.ok(Number.isFinite(p) && p! < 1 && p! > 0.99, String(p));
  const soft = applyCalibration([0, 1, 0], { ...three, calibration: calibration(2) });
  assert.ok(soft.every((x) => Number.isFinite(x) && x > 0), String(soft));
});

test('softmax: p\'_k is proportional to p_k^(1/T), the order of the classes kept', () => {
  const p = [0.7, 0.2, 0.1];
  const T = 2.5;
  const got = applyCalibration(p, { ...three, calibration: calibration(T) });
  const powered = p.map((x) => x ** (1 / T));
  const sum = powered.reduce((a, b) => a + b, 0);
  got.forEach((x, k) => close(x, powered[k]! / sum));
  close(got.reduce((a, b) => a + b, 0), 1);
  assert.ok(got[0]! < 0.7 && got[0]! > got[1]! && got[1]! > got[2]!, 'softer, same order');
  // It is softmax(logits / T) when p is a softmax of logits.
  const logits = [2, -1, 0.5];
  const softmax = (z: number[]) => {
    const e = z.map(Math.exp);
    return e.map((v) => v / e.reduce((a, b) => a + b, 0));
  };
  const fromLogits = softmax(logits.map((z) => z / T));
  temperatureScale(softmax(logits), 'softmax', T).forEach((x, k) => close(x, fromLogits[k]!, 1e-12));
  // Two classes: a softmax calibrates exactly as a sigmoid unit does.
  temperatureScale([0.8, 0.2], 'softmax', T).forEach((x, k) => close(x, temperatureScale([0.8, 0.2], 'sigmoid', T)[k]!, 1e-12));
});

test('thresholds: moved into calibrated space and back; a sigmoid decides the same before and after', () => {
  for (const T of [0.3, 1.7, 4]) for (const t of [0.05, 0.37, 0.5, 0.81]) close(uncalibratedThreshold(calibratedThreshold(t, T), T), t, 1e-12);
  close(calibratedThreshold(0.5, 3), 0.5);
  const r = new Random(5);
  const T = 2.2;
  const t = 0.37;
  // Random scores, the threshold itself and saturated ones: no decision may move, even at the cut.
  const raw = [...Array.from({ length: 400 }, () => r.next()), t, 0, 1, Math.fround(t)];
  const before = interpretOutput(raw, raw.length, { ...binary, threshold: t });
  const after = interpretOutput(raw, raw.length, { ...binary, threshold: calibratedThreshold(t, T), calibration: calibration(T) });
  assert.deepEqual(after.map((d) => d.labelIndex), before.map((d) => d.labelIndex));
  assert.ok(after.some((d, i) => Math.abs(d.score - before[i]!.score) > 0.01), 'the probabilities did change');
  // (Saturated outputs are first kept 1e-7 from 0 and 1, so their exact logit is not the reference.)
  after.forEach((d, i) => raw[i]! > 0 && raw[i]! < 1 && close(d.score, sigmoid(logit(raw[i]!) / T), 1e-6));
});

test('interpretOutput calibrates before deciding: a softmax keeps its most probable class', () => {
  const r = new Random(8);
  const raw = Array.from({ length: 3 * 50 }, () => r.next());
  for (let i = 0; i < 50; i++) {
    const s = raw[3 * i]! + raw[3 * i + 1]! + raw[3 * i + 2]!;
    for (let k = 0; k < 3; k++) raw[3 * i + k]! /= s;
  }
  const before = interpretOutput(raw, 50, three);
  const after = interpretOutput(raw, 50, { ...three, calibration: calibration(0.4) });
  assert.deepEqual(after.map((d) => d.labelIndex), before.map((d) => d.labelIndex));
  after.forEach((d, i) => {
    assert.deepEqual(d.probabilities, temperatureScale(before[i]!.probabilities, 'softmax', 0.4));
    assert.equal(d.score, d.probabilities[0]);
    assert.equal(d.labelIndex, decideClass(d.probabilities, three));
  });
});
