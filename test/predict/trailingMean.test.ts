import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrailingMean } from '../../src/predict/trailingMean.js';

test('a moving average over S seconds of frames every 0.2 s always covers S / 0.2 frames once that many are in', () => {
  for (const seconds of [0.6, 1, 2]) {
    const mean = new TrailingMean(seconds);
    const frames = Math.round(seconds / 0.2);
    const scores: number[] = [];
    for (let i = 0; i < 60; i++) {
      // Frame times as videoFrames gives them: index × every, rounded to microseconds.
      const time = Number((i * 0.2).toFixed(6));
      const score = ((i * 7919) % 101) / 100;
      scores.push(score);
      const got = mean.add(time, score);
      const window = scores.slice(-frames);
      assert.equal(mean.size, Math.min(i + 1, frames), `--smooth ${seconds} at ${time} s`);
      assert.ok(Math.abs(got - window.reduce((a, b) => a + b, 0) / window.length) < 1e-12, `--smooth ${seconds} at ${time} s`);
    }
  }
});

test('the window is (t - S, t]: a frame exactly S seconds back is out, one just inside is in', () => {
  const mean = new TrailingMean(1);
  mean.add(0, 1);
  mean.add(0.5, 0);
  assert.equal(mean.add(1, 0), 0, 'the score at 0 s is exactly 1 s back: out');
  assert.equal(mean.size, 2);
  const fine = new TrailingMean(1);
  fine.add(0.0001, 3);
  assert.equal(fine.add(1, 1), 2, 'the score at 0.0001 s is inside the last second');
});
