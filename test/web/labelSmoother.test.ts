import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FaceTracker, type DecisionRule, type FacePrediction, type PredictionRow } from '../../src/browser/index.js';
import { LabelSmoother } from '../../web/labelSmoother.js';

// The page's camera smoothing is the library's tracker, trailing mean and decision rule: two
// faces keep their ids whichever order the detector lists them in, labels follow the averaged
// probabilities through the model's threshold.

const rule: DecisionRule = { classes: ['happy', 'sad'], output: 'sigmoid', positiveClass: 'happy', threshold: 0.55 };

function face(box: FacePrediction['box'], happy: number): FacePrediction {
  return { box, label: happy >= rule.threshold ? 'happy' : 'sad', score: happy, detector_score: 0.9, probabilities: { happy, sad: 1 - happy } };
}

/** Two people moving right a little each frame; the detector lists them in a different order on odd frames. */
function frame(i: number): PredictionRow {
  const left = face([40 + 6 * i, 100, 150, 150], i % 2 ? 0.4 : 0.8);
  const right = face([380 + 6 * i, 120, 160, 160], 0.2);
  return { ...left, faces: i % 2 ? [right, left] : [left, right] };
}

test('the page keeps each face\'s track id across frames, as the library\'s FaceTracker assigns them', () => {
  const smoother = new LabelSmoother(rule, 0.5);
  const tracker = new FaceTracker();
  for (let i = 0; i < 8; i++) {
    const row = frame(i);
    const time = i * 0.05;
    const steady = smoother.smooth(row, time);
    assert.deepEqual(steady.faces!.map((f) => f.track), tracker.assign(time, row.faces!.map((f) => f.box)), `frame ${i}`);
    // The left person is track 1 and the right one track 2 in every frame, whatever the order.
    const byTrack = Object.fromEntries(steady.faces!.map((f) => [f.track, f.box[0]]));
    assert.deepEqual(byTrack, { 1: 40 + 6 * i, 2: 380 + 6 * i }, `frame ${i}`);
  }
});

test('labels come from the trailing mean of each track\'s probabilities, decided by the model\'s threshold', () => {
  const smoother = new LabelSmoother(rule, 0.5);
  const first = smoother.smooth(frame(0), 0);
  const left0 = first.faces!.find((f) => f.track === 1)!;
  assert.equal(left0.score, 0.8);
  // Frame 1 alone says 0.4 (sad, under 0.55); averaged with frame 0 it is 0.6: still happy.
  const second = smoother.smooth(frame(1), 0.1);
  const left1 = second.faces!.find((f) => f.track === 1)!;
  assert.ok(Math.abs(left1.score - 0.6) < 1e-12, String(left1.score));
  assert.ok(Math.abs(left1.probabilities.sad! - 0.4) < 1e-12);
  assert.equal(left1.label, 'happy');
  assert.equal(second.faces!.find((f) => f.track === 2)!.label, 'sad');
  // Past the 0.5 s window only the new frame counts.
  const late = smoother.smooth(frame(1), 0.7);
  const left2 = late.faces!.find((f) => f.track === 1)!;
  assert.ok(Math.abs(left2.score - 0.4) < 1e-12, String(left2.score));
  assert.equal(left2.label, 'sad');
});

test('a face gone longer than the gap comes back as a new track with a fresh mean; rows without faces pass through', () => {
  const smoother = new LabelSmoother(rule, 5, 1);
  smoother.smooth(frame(0), 0);
  const none: PredictionRow = { label: 'sad', score: 0.1, probabilities: { happy: 0.1, sad: 0.9 }, face: 'none-found' };
  assert.deepEqual(smoother.smooth(none, 0.5), none);
  const back = smoother.smooth(frame(1), 3);
  assert.deepEqual(back.faces!.map((f) => f.track).sort(), [3, 4]);
  const left = back.faces!.find((f) => f.box[0] === 46)!;
  assert.equal(left.score, 0.4, 'nothing of the earlier track is averaged in');
});

test('a 3-class model: every class is averaged and the mean decided by argmax, or between happy and sad with forcedChoice', () => {
  const three: DecisionRule = { classes: ['happy', 'neutral', 'sad'], output: 'softmax', positiveClass: 'happy', threshold: 0.5, forcedChoice: { between: ['happy', 'sad'], threshold: 0.6 } };
  const row = (p: [number, number, number]): PredictionRow => {
    const probabilities = { happy: p[0], neutral: p[1], sad: p[2] };
    return { faces: [{ box: [40, 40, 100, 100], label: 'x', score: p[0], detector_score: 0.9, probabilities }] };
  };
  const own = new LabelSmoother(three, 1);
  own.smooth(row([0.7, 0.2, 0.1]), 0);
  const mean = own.smooth(row([0.1, 0.5, 0.4]), 0.1).faces![0]!;
  // This frame alone says neutral; the means (happy 0.4, neutral 0.35, sad 0.25) say happy.
  assert.ok(Math.abs(mean.probabilities.neutral! - 0.35) < 1e-12);
  assert.ok(Math.abs(mean.probabilities.sad! - 0.25) < 1e-12);
  assert.equal(mean.label, 'happy');
  assert.equal(own.smooth(row([0.1, 0.8, 0.1]), 0.2).faces![0]!.label, 'neutral', 'neutral 0.5 on average');
  // The page predicts with forcedChoice (neutral 0): the steadied label is the pair's, at its threshold 0.6.
  const forced = new LabelSmoother(three, 1, 1, { forcedChoice: true });
  forced.smooth(row([0.7, 0, 0.3]), 0);
  const f = forced.smooth(row([0.45, 0, 0.55]), 0.1).faces![0]!;
  assert.ok(Math.abs(f.score - 0.575) < 1e-12);
  assert.equal(f.label, 'sad', '0.575 is under the pair\'s 0.6');
  assert.equal(forced.smooth(row([0.9, 0, 0.1]), 0.2).faces![0]!.label, 'happy');
});
