import { tf } from '../engine/engine.js';
import { toInputTensor } from './toInputTensor.js';
import type { PreprocessSpec } from '../data/preprocessSpec.js';
import type { LayersModel, Tensor } from '@tensorflow/tfjs';

/** Runs the model over n decoded images in batches and returns its raw output rows, concatenated: the one forward path of inference. */
export function predictRaw(model: LayersModel, pixels: Uint8Array, n: number, spec: PreprocessSpec, batch = 32): Float32Array {
  const size = spec.height * spec.width * spec.channels;
  const units = model.outputs[0].shape[model.outputs[0].shape.length - 1] as number;
  const out = new Float32Array(n * units);
  for (let start = 0; start < n; start += batch) {
    const m = Math.min(batch, n - start);
    const rows = tf.tidy(() => {
      const x = toInputTensor(pixels.subarray(start * size, (start + m) * size), m, spec);
      const y = model.predict(x) as Tensor;
      // Test-time flip: a face and its mirror image carry the same expression; averaging both
      // views is a cheap, well-known gain, and it is part of the spec so every path does it.
      const out = spec.testTimeFlip ? tf.div(tf.add(y, model.predict(tf.reverse(x, 2)) as Tensor), 2) : y;
      return out.dataSync() as Float32Array;
    });
    out.set(rows, start * units);
  }
  return out;
}
