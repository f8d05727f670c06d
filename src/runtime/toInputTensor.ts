import { tf } from '../engine/engine.js';
import { makeInputTensor } from './forwardPass.js';
import type { PreprocessSpec } from '../input/preprocessSpec.js';
import type { Tensor4D } from '@tensorflow/tfjs';

/** makeInputTensor on this process's engine: training, evaluation, prediction and serving all scale pixels here. */
export function toInputTensor(pixels: Uint8Array, n: number, spec: PreprocessSpec): Tensor4D {
  return makeInputTensor(tf, pixels, n, spec);
}
