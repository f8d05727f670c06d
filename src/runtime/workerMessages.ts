import type { PreprocessSpec } from '../input/preprocessSpec.js';

/** What the main thread tells a model worker once, at start. */
export interface WorkerInit {
  type: 'init';
  /** model.toJSON(): the same layer stack, rebuilt in the worker's own engine. */
  topology: string;
  /** All model.weights, concatenated: written by the main thread after each optimiser step. */
  weights: SharedArrayBuffer;
  /** This worker's trainable gradients, then its non-trainable weights after the step (e.g. batch-norm statistics); absent for inference. */
  grads?: SharedArrayBuffer;
  spec: PreprocessSpec;
  output: 'sigmoid' | 'softmax';
  seed: number;
}

export interface WorkerStep {
  type: 'step';
  step: number;
  /** Index in the whole batch of this slice's first sample. */
  offset: number;
  batchSize: number;
  n: number;
  pixels: Uint8Array;
  targets: Float32Array;
  /** Per-sample loss weights (class balancing); ones when unweighted. */
  sampleWeights: Float32Array;
}

export interface WorkerPredict {
  type: 'predict';
  n: number;
  pixels: Uint8Array;
  /** Reload weights from shared memory first (they changed since the last call). */
  syncWeights: boolean;
}

export type WorkerRequest = WorkerInit | WorkerStep | WorkerPredict | { type: 'close' };

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'step-done'; lossSum: number; correct: number }
  | { type: 'predict-done'; output: Float32Array }
  | { type: 'error'; message: string };
