import { tf } from '../engine/engine.js';
import { forwardPass } from './forwardPass.js';
import { DEFAULT_PREDICTION_BATCH } from './predictionBatch.js';
import type { PreprocessSpec } from '../input/preprocessSpec.js';
import type { LayersModel } from '@tensorflow/tfjs';

/** forwardPass on this process's engine: the one forward path of inference. */
export function predictRaw(model: LayersModel, pixels: Uint8Array, n: number, spec: PreprocessSpec, batch = DEFAULT_PREDICTION_BATCH): Float32Array {
  return forwardPass(tf, model, pixels, n, spec, batch);
}
