import { tf } from '../engine/engine.js';
import { toInputTensor } from '../data/toInputTensor.js';
import type { PreprocessSpec } from '../data/preprocessSpec.js';

/** Runs the model over n decoded images in batches and returns its raw output rows, concatenated. */
export function predictRaw(model: tf.LayersModel, pixels: Uint8Array, n: number, spec: PreprocessSpec, batch = 32): Float32Array {
  const size = spec.height * spec.width * spec.channels;
  const units = model.outputs[0].shape[model.outputs[0].shape.length - 1] as number;
  const out = new Float32Array(n * units);
  for (let start = 0; start < n; start += batch) {
    const m = Math.min(batch, n - start);
    const rows = tf.tidy(() => {
      const x = toInputTensor(pixels.subarray(start * size, (start + m) * size), m, spec);
      return (model.predict(x) as tf.Tensor).dataSync() as Float32Array;
    });
    out.set(rows, start * units);
  }
  return out;
}
