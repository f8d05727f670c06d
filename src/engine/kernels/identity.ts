import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { captureShippedKernel, runShipped, shareBuffer, type WasmBackend, type WasmKernelArgs } from './wasmBackend.js';

/**
 * Identity for the wasm backend, sharing the buffer (reference counted) instead of copying it. The
 * engine clones every tensor it saves for the backward pass through Identity, so the shipped copying
 * kernel spends ~60 ms of a Model A step duplicating activations. Tensors are immutable, the cpu and
 * webgl backends share here too, and the wasm backend's own Reshape already shares the same way.
 */
function identity(args: WasmKernelArgs): TensorInfo {
  const x = args.inputs.x as TensorInfo;
  if (x.dtype === 'string') return runShipped('Identity', args.backend as WasmBackend, args.inputs, args.attrs);
  return shareBuffer(args.backend as WasmBackend, x);
}

export const identityConfig = (): KernelConfig => ({
  kernelName: 'Identity',
  backendName: 'wasm',
  kernelFunc: identity as unknown as KernelFunc,
  setupFunc: captureShippedKernel('Identity')?.setupFunc,
});
