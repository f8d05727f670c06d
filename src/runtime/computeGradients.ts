import { tf } from '../engine/engine.js';
import type { LayersModel, Scalar, Tensor, Tensor1D, Variable } from '@tensorflow/tfjs';

export interface SliceGradients {
  /** One gradient per model.trainableWeights entry, in that order. */
  grads: Tensor[];
  /** Sum over the slice of the per-sample loss. */
  lossSum: number;
  correct: number;
}

/**
 * Gradients of (sum of this slice's weighted per-sample losses) / batchSize. Summing the results of the
 * slices of a batch gives exactly the gradient of the batch's mean loss, which is what lets the
 * batch be split across workers.
 */
export function computeGradients(model: LayersModel, x: Tensor, y: Tensor, sampleWeights: Tensor1D, output: 'sigmoid' | 'softmax', batchSize: number): SliceGradients {
  const vars = model.trainableWeights.map((w) => w.read() as Variable);
  let lossSum: Scalar | undefined;
  let correct: Scalar | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const p = model.apply(x, { training: true }) as Tensor;
    const perSample = output === 'sigmoid' ? tf.metrics.binaryCrossentropy(y, p) : tf.metrics.categoricalCrossentropy(y, p);
    const sum = tf.sum(tf.mul(perSample, sampleWeights));
    lossSum = tf.keep(sum.clone()) as Scalar;
    correct = tf.keep(countCorrect(output, y, p));
    return tf.div(sum, batchSize) as Scalar;
  }, vars);
  const result = { grads: vars.map((v) => grads[v.name]), lossSum: lossSum!.dataSync()[0], correct: correct!.dataSync()[0] };
  value.dispose();
  lossSum!.dispose();
  correct!.dispose();
  return result;
}

function countCorrect(output: 'sigmoid' | 'softmax', y: Tensor, p: Tensor): Scalar {
  return tf.tidy(() => {
    const hit = output === 'sigmoid' ? tf.equal(tf.greaterEqual(p, 0.5), tf.greaterEqual(y, 0.5)) : tf.equal(tf.argMax(p, -1), tf.argMax(y, -1));
    return tf.sum(tf.cast(hit, 'float32'));
  });
}
