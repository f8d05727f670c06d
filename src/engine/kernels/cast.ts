import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { captureShippedKernel, runShipped, shareBuffer, type WasmBackend, type WasmKernelArgs } from './wasmBackend.js';

/**
 * Cast for the wasm backend: a cast to the dtype a tensor already has shares its buffer instead of
 * copying it. The ReLU gradient is mul(dy, cast(step(x), 'float32')), so the shipped kernel copies
 * every activation once more per backward pass.
 */
function cast(args: WasmKernelArgs): TensorInfo {
  const x = args.inputs.x as TensorInfo;
  const dtype = (args.attrs as { dtype: string }).dtype;
  if (x.dtype === dtype && dtype !== 'string') return shareBuffer(args.backend as WasmBackend, x);
  return runShipped('Cast', args.backend as WasmBackend, args.inputs, args.attrs);
}

export const castConfig = (): KernelConfig => ({
  kernelName: 'Cast',
  backendName: 'wasm',
  kernelFunc: cast as unknown as KernelFunc,
  setupFunc: captureShippedKernel('Cast')?.setupFunc,
});
