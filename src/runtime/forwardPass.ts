import type * as TF from '@tensorflow/tfjs';
import type { LayersModel, Tensor, Tensor4D } from '@tensorflow/tfjs';
import type { PreprocessSpec } from '../input/preprocessSpec.js';
import { DEFAULT_PREDICTION_BATCH } from './predictionBatch.js';

/** The part of TensorFlow.js a forward pass uses: Node's engine or the page's, passed in. */
export type ForwardTf = Pick<typeof TF, 'tensor4d' | 'tidy' | 'div' | 'add' | 'reverse' | 'concat' | 'split'>;

/**
 * Turns n decoded uint8 images (concatenated, HWC) into the model's float input: the last step of
 * the one preprocessing definition, shared by training, evaluation, prediction, serving and the
 * browser.
 */
export function makeInputTensor(tf: ForwardTf, pixels: Uint8Array, n: number, spec: PreprocessSpec): Tensor4D {
  const size = spec.height * spec.width * spec.channels;
  if (pixels.length !== n * size) throw new RangeError(`expected ${n} images of ${size} values, got ${pixels.length} values`);
  const f = new Float32Array(pixels.length);
  const { scale, offset } = spec;
  for (let i = 0; i < pixels.length; i++) f[i] = pixels[i]! * scale + offset;
  return tf.tensor4d(f, [n, spec.height, spec.width, spec.channels]);
}

/** Runs the model over n decoded images in batches and returns its raw output rows, concatenated: the one forward path of inference. */
export function forwardPass(tf: ForwardTf, model: LayersModel, pixels: Uint8Array, n: number, spec: PreprocessSpec, batch = DEFAULT_PREDICTION_BATCH): Float32Array {
  const size = spec.height * spec.width * spec.channels;
  const shape = model.outputs[0]!.shape;
  const units = shape[shape.length - 1] as number;
  const out = new Float32Array(n * units);
  for (let start = 0; start < n; start += batch) {
    const m = Math.min(batch, n - start);
    const rows = tf.tidy(() => {
      const x = makeInputTensor(tf, pixels.subarray(start * size, (start + m) * size), m, spec);
      if (!spec.testTimeFlip) return (model.predict(x) as Tensor).dataSync() as Float32Array;
      // Test-time flip: a face and its mirror image carry the same expression; averaging both
      // views is a cheap, well-known gain, and it is part of the spec so every path does it. Both
      // views go through the model as one batch: each image's output is computed exactly as alone
      // (test/runtime/forwardPass.test.ts), and one call instead of two halves the per-layer
      // overhead that dominates a single face (6 passes of a 48x48 net: 28 -> 17 ms of CPU).
      const [y, mirrored] = tf.split(model.predict(tf.concat([x, tf.reverse(x, 2)], 0)) as Tensor, 2, 0);
      return tf.div(tf.add(y!, mirrored!), 2).dataSync() as Float32Array;
    });
    out.set(rows, start * units);
  }
  return out;
}
