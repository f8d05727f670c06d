import { tf } from '../engine/engine.js';
import type { LayersModel, Tensor } from '@tensorflow/tfjs';

/** Which step and which slice of the batch a replica is computing, so masks follow the sample. */
export interface DropoutContext {
  step: number;
  /** Index in the whole batch of this replica's first sample. */
  offset: number;
}

/**
 * Replaces each Dropout layer's training-time mask with one drawn per sample from
 * (seed, step, layer, sample index). A sample then gets the same mask whichever worker computes it
 * and however the batch is sliced, so training on 1 or N cores gives the same model. Only the
 * instance's `call` is patched: the saved topology still says plain `Dropout`, which any
 * TensorFlow.js (or Keras) loader reads.
 */
export function installSampleDropout(model: LayersModel, seed: number): DropoutContext {
  const context: DropoutContext = { step: 0, offset: 0 };
  model.layers.forEach((layer, layerIndex) => {
    if (layer.getClassName() !== 'Dropout') return;
    const rate = (layer.getConfig() as { rate: number }).rate;
    (layer as unknown as { call: (inputs: Tensor | Tensor[], kwargs: { training?: boolean }) => Tensor }).call = (inputs, kwargs) => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (!kwargs?.training || rate <= 0) return x;
      const n = x.shape[0];
      const per = x.size / n;
      const keep = 1 - rate;
      const mult = new Float32Array(x.size);
      for (let i = 0; i < n; i++) {
        let s = mix(mix(mix(seed, context.step), layerIndex), context.offset + i);
        for (let j = i * per, end = j + per; j < end; j++) {
          // mulberry32, inlined: this loop runs millions of times per step.
          s = (s + 0x6d2b79f5) >>> 0;
          let t = Math.imul(s ^ (s >>> 15), s | 1);
          t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
          mult[j] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 < keep ? 1 / keep : 0;
        }
      }
      return tf.tidy(() => tf.mul(x, tf.tensor(mult, x.shape)));
    };
  });
  return context;
}

function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x9e3779b1);
  h ^= h >>> 16;
  return Math.imul(h, 0x85ebca6b) >>> 0;
}
