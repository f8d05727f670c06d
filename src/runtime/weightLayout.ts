import { tf } from '../engine/engine.js';
import type { LayersModel } from '@tensorflow/tfjs';

export interface WeightLayout {
  /** Indices into model.weights of the trainable and the non-trainable weights. */
  trainable: number[];
  nonTrainable: number[];
  /** Floats for all weights; for one worker's gradients + non-trainable state. */
  totalSize: number;
  /** Floats of the trainable weights: where a worker's non-trainable state starts in its buffer. */
  trainableSize: number;
  gradsSize: number;
}

const sizeOf = (w: { shape: (number | null)[] }) => w.shape.reduce<number>((a, b) => a * (b ?? 1), 1);

export function weightLayout(model: LayersModel): WeightLayout {
  const trainable: number[] = [];
  const nonTrainable: number[] = [];
  model.weights.forEach((w, i) => (w.trainable ? trainable : nonTrainable).push(i));
  const totalSize = model.weights.reduce((n, w) => n + sizeOf(w), 0);
  const trainableSize = trainable.reduce((n, i) => n + sizeOf(model.weights[i]), 0);
  return { trainable, nonTrainable, totalSize, trainableSize, gradsSize: totalSize };
}

/** Copies every weight of the model, in model.weights order, into `out`. */
export function writeWeightsFrom(model: LayersModel, out: Float32Array): void {
  let at = 0;
  for (const w of model.weights) {
    const v = w.read().dataSync() as Float32Array;
    out.set(v, at);
    at += v.length;
  }
}

/** Sets every weight of the model from `src` (model.weights order), copying out of shared memory. */
export function readWeightsInto(model: LayersModel, src: Float32Array): void {
  let at = 0;
  for (const w of model.weights) {
    const n = sizeOf(w);
    // A copy: the shared buffer changes under us at the next step.
    const t = tf.tensor(src.slice(at, at + n), w.shape as number[]);
    w.write(t);
    t.dispose();
    at += n;
  }
}
