import { tf } from '../engine/engine.js';

/**
 * Keras' losses on probabilities, clipped to [eps, 1 - eps] as Keras does (eps 1e-7), so a
 * saturated output cannot give an infinite loss.
 */
export function lossOnProbabilities(output: 'sigmoid' | 'softmax', y: tf.Tensor, p: tf.Tensor): tf.Scalar {
  return output === 'sigmoid' ? tf.metrics.binaryCrossentropy(y, p).mean() : tf.metrics.categoricalCrossentropy(y, p).mean();
}

/** One optimiser step on a batch; returns the batch's mean loss and number of correct predictions. */
export function trainStep(model: tf.LayersModel, optimizer: tf.Optimizer, x: tf.Tensor, y: tf.Tensor, output: 'sigmoid' | 'softmax'): { loss: number; correct: number } {
  let correct: tf.Scalar | undefined;
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const loss = optimizer.minimize(() => {
    const p = model.apply(x, { training: true }) as tf.Tensor;
    correct = tf.keep(countCorrect(output, y, p));
    return lossOnProbabilities(output, y, p);
  }, true, vars)!;
  const result = { loss: loss.dataSync()[0], correct: correct!.dataSync()[0] };
  loss.dispose();
  correct!.dispose();
  return result;
}

function countCorrect(output: 'sigmoid' | 'softmax', y: tf.Tensor, p: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const hit = output === 'sigmoid' ? tf.equal(tf.greaterEqual(p, 0.5), tf.greaterEqual(y, 0.5)) : tf.equal(tf.argMax(p, -1), tf.argMax(y, -1));
    return tf.sum(tf.cast(hit, 'float32'));
  });
}

/** Mean loss and accuracy of raw outputs against targets, computed in JS (no tensors). */
export function lossAndAccuracy(output: 'sigmoid' | 'softmax', raw: Float32Array, targets: Float32Array, n: number): { loss: number; accuracy: number } {
  const eps = 1e-7;
  const clip = (v: number) => Math.min(1 - eps, Math.max(eps, v));
  let loss = 0;
  let correct = 0;
  if (output === 'sigmoid') {
    for (let i = 0; i < n; i++) {
      const p = clip(raw[i]);
      const t = targets[i];
      loss -= t * Math.log(p) + (1 - t) * Math.log(1 - p);
      if (raw[i] >= 0.5 === t >= 0.5) correct++;
    }
  } else {
    const K = raw.length / n;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let k = 0; k < K; k++) {
        if (targets[i * K + k] > 0) loss -= targets[i * K + k] * Math.log(clip(raw[i * K + k]));
        if (raw[i * K + k] > raw[i * K + best]) best = k;
      }
      if (targets[i * K + best] >= 0.5) correct++;
    }
  }
  return { loss: n ? loss / n : NaN, accuracy: n ? correct / n : NaN };
}
