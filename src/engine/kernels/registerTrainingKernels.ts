import { setFlagsFromString } from 'node:v8';
import { tf } from '../tfjs.js';
import type { KernelConfig } from '@tensorflow/tfjs';
import '../tfjs.js';
import { batchMatMulConfig } from './batchMatMul.js';
import { castConfig } from './cast.js';
import { conv2DConfig, fusedConv2DConfig } from './conv2d.js';
import { conv2DBackpropFilterConfig } from './conv2dBackpropFilter.js';
import { conv2DBackpropInputConfig } from './conv2dBackpropInput.js';
import { identityConfig } from './identity.js';
import { maxPoolGradConfig } from './maxPoolGrad.js';
import { sumConfig } from './sum.js';
import { tileConfig } from './tile.js';
import { bindKernelTf } from './kernelTf.js';
import { setRelaxedSimdEnabler } from './simd.js';
import { captureShippedKernel } from './wasmBackend.js';

/** Kernels we build on; captured before any replacement so our kernels can still reach the originals. */
const FOUNDATIONS = ['Conv2D', 'FusedConv2D', 'BatchMatMul', 'Transpose', 'Identity', 'Cast', 'Sum', 'Tile'];

let registered = false;

/**
 * Registers the kernels that make training on the wasm backend fast (Model A, batch 32: ~5.3 s of
 * CPU per step with the shipped kernels, ~0.95 s with these):
 *   Conv2DBackpropFilter  missing from the backend; SIMD GEMM over a shifted-grid view of x
 *   Conv2DBackpropInput   shipped one is a naive loop; convolution of padded dy with the rotated filter
 *   Conv2D, FusedConv2D   stride-1 convolutions on our SIMD implicit GEMM, faster than XNNPACK here;
 *                         the fused bias and ReLU applied before the store
 *   MaxPoolGrad           shipped one rescans every window per pixel; one SIMD pass for 2x2 pools
 *   BatchMatMul           shipped one is naive when transposed (Dense backward); SIMD GEMM
 *   Sum                   shipped one transposes to reduce leading axes (bias gradients); one pass
 *   Tile                  shipped one indexes per element; batch norm's backward tiles whole blocks: memcpy
 *   Identity, Cast        shipped ones copy; share the buffer as the other backends do
 * Each replacement falls back to the shipped kernel for shapes or dtypes it does not handle.
 *
 * Call before the wasm backend is first initialised (initEngine does): the engine runs kernel setup
 * functions at that point, and replacements carry the shipped kernel's setup along so they can
 * still delegate to it. Idempotent.
 */
export function registerTrainingKernels(): void {
  if (registered) return;
  bindKernelTf(tf);
  setRelaxedSimdEnabler(() => setFlagsFromString('--experimental-wasm-relaxed-simd'));
  for (const name of FOUNDATIONS) captureShippedKernel(name);
  const configs: KernelConfig[] = [
    conv2DConfig(),
    fusedConv2DConfig(),
    conv2DBackpropFilterConfig,
    conv2DBackpropInputConfig,
    maxPoolGradConfig,
    batchMatMulConfig(),
    identityConfig(),
    castConfig(),
    sumConfig(),
    tileConfig(),
  ];
  for (const config of configs) {
    if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
  registered = true;
}
