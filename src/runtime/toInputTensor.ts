import { tf } from '../engine/engine.js';
import type { PreprocessSpec } from '../data/preprocessSpec.js';
import type { Tensor4D } from '@tensorflow/tfjs';

/**
 * Turns n decoded uint8 images (concatenated, HWC) into the model's float input: the last step of
 * the one preprocessing definition, shared by training, evaluation, prediction and serving.
 */
export function toInputTensor(pixels: Uint8Array, n: number, spec: PreprocessSpec): Tensor4D {
  const size = spec.height * spec.width * spec.channels;
  if (pixels.length !== n * size) throw new RangeError(`expected ${n} images of ${size} values, got ${pixels.length} values`);
  const f = new Float32Array(pixels.length);
  const { scale, offset } = spec;
  for (let i = 0; i < pixels.length; i++) f[i] = pixels[i] * scale + offset;
  return tf.tensor4d(f, [n, spec.height, spec.width, spec.channels]);
}
