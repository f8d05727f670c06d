import { conv2DConfig, fusedConv2DConfig } from './conv2d.js';
import { bindKernelTf, type KernelTf } from './kernelTf.js';
import { captureShippedKernel } from './wasmBackend.js';

const registered = new WeakSet<object>();

/**
 * Replaces the wasm backend's Conv2D and FusedConv2D with ours (conv2d.ts: the SIMD implicit GEMM
 * Node's engine runs, falling back to the shipped XNNPACK kernel for shapes it does not take), in
 * the TensorFlow.js given. In a page it makes the classifier and BlazeFace run the same
 * convolution arithmetic as Node, and faster: XNNPACK's convolutions ran the default model's
 * 6 passes of a 48x48 net in ~20 ms here. Call before the wasm backend is first initialised (the
 * replacements carry the shipped kernels' setup along). Idempotent per TensorFlow.js.
 */
export function registerConvKernels(tf: KernelTf): void {
  if (registered.has(tf)) return;
  bindKernelTf(tf);
  for (const name of ['Conv2D', 'FusedConv2D']) captureShippedKernel(name);
  for (const config of [conv2DConfig(), fusedConv2DConfig()]) {
    if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
  registered.add(tf);
}
