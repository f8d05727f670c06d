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
