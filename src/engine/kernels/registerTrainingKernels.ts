import * as tf from '@tensorflow/tfjs';
import type { KernelConfig } from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { batchMatMulConfig, fusedMatMulConfig } from './batchMatMul.js';
import { conv2DBackpropFilterConfig } from './conv2dBackpropFilter.js';
import { conv2DBackpropInputConfig } from './conv2dBackpropInput.js';
import { maxPoolGradConfig } from './maxPoolGrad.js';
import { captureShippedKernel } from './wasmBackend.js';

/** Kernels we build on; captured before any replacement so our kernels can still reach the originals. */
const FOUNDATIONS = ['Conv2D', 'BatchMatMul', '_FusedMatMul', 'Transpose'];

let registered = false;

/**
 * Registers the gradient kernels that the wasm backend lacks or runs slowly. Call before the wasm
 * backend is first initialised (initEngine does): the engine runs kernel setup functions at that
 * point, and the replacements for BatchMatMul/_FusedMatMul carry the shipped setup along. Idempotent.
 */
export function registerTrainingKernels(): void {
  if (registered) return;
  for (const name of FOUNDATIONS) captureShippedKernel(name);
  const configs: KernelConfig[] = [
    conv2DBackpropFilterConfig,
    conv2DBackpropInputConfig,
    maxPoolGradConfig,
    batchMatMulConfig(),
    fusedMatMulConfig(),
  ];
  for (const config of configs) {
    if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
  registered = true;
}
