import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { captureShippedKernel, runShipped, shareBuffer, sizeOf, type WasmBackend, type WasmKernelArgs } from './wasmBackend.js';

/**
 * Cast for the wasm backend: a cast to the dtype a tensor already has shares its buffer instead of
 * copying it. The ReLU gradient is mul(dy, cast(step(x), 'float32')), so the shipped kernel copies
 * every activation once more per backward pass.
 */
function cast(args: WasmKernelArgs): TensorInfo {
  const backend = args.backend as WasmBackend;
  const x = args.inputs.x as TensorInfo;
  const dtype = (args.attrs as { dtype: string }).dtype;
  if (x.dtype === dtype && dtype !== 'string') return shareBuffer(backend, x);
  if (dtype === 'bool' && (x.dtype === 'float32' || x.dtype === 'int32')) return toBool(backend, x);
  return runShipped('Cast', backend, args.inputs, args.attrs);
}

/**
 * x != 0, as every other backend casts to bool. The shipped kernel (tfjs-backend-wasm 4.22)
 * truncates to a byte instead: -2 becomes 254 and 0.5 becomes 0 (false).
 */
function toBool(backend: WasmBackend, x: TensorInfo): TensorInfo {
  const out = backend.makeOutput(x.shape, 'bool');
  const n = sizeOf(x.shape);
  const heap = backend.wasm.HEAPF32.buffer;
  const src = x.dtype === 'float32' ? new Float32Array(heap, backend.dataIdMap.get(x.dataId).memoryOffset, n) : new Int32Array(heap, backend.dataIdMap.get(x.dataId).memoryOffset, n);
  const dst = new Uint8Array(heap, backend.dataIdMap.get(out.dataId).memoryOffset, n);
  for (let i = 0; i < n; i++) dst[i] = src[i] !== 0 ? 1 : 0;
  return out;
}

export const castConfig = (): KernelConfig => ({
  kernelName: 'Cast',
  backendName: 'wasm',
  kernelFunc: cast as unknown as KernelFunc,
  setupFunc: captureShippedKernel('Cast')?.setupFunc,
});
