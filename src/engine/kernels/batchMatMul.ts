import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { captureShippedKernel, release, runShipped, sizeOf, type WasmBackend, type WasmKernelArgs } from './wasmBackend.js';

/**
 * BatchMatMul / _FusedMatMul for the wasm backend. The shipped kernels hand a product to XNNPACK only
 * when neither side is transposed and there is a single batch; anything else falls to a naive
 * blocked C loop. A Dense layer's backward pass is exactly that case (dW = x^T dy, dx = dy W^T): for
 * Model A's 25088x128 dense layer that is ~0.2 s per step. Transposing the operand first is a cheap
 * memory pass, after which the product runs in XNNPACK.
 */
function withoutTransposes(kernelName: 'BatchMatMul' | '_FusedMatMul') {
  return (args: WasmKernelArgs): TensorInfo => {
    const backend = args.backend as WasmBackend;
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    const single = a.dtype === 'float32' && b.dtype === 'float32' && batchOf(a) === 1 && batchOf(b) === 1;
    if (!single || (!attrs.transposeA && !attrs.transposeB)) return runShipped(kernelName, backend, args.inputs, args.attrs);

    const aT = attrs.transposeA ? transpose2d(backend, a) : undefined;
    const bT = attrs.transposeB ? transpose2d(backend, b) : undefined;
    const out = runShipped(kernelName, backend, { ...args.inputs, a: aT ?? as3d(a), b: bT ?? as3d(b) }, {
      ...args.attrs,
      transposeA: false,
      transposeB: false,
    });
    release(backend, aT, bT);
    // Keep the caller's batch dims (e.g. rank 2 in, rank 2 out), as the shipped kernel does.
    const rows = attrs.transposeA ? a.shape[a.shape.length - 1] : a.shape[a.shape.length - 2];
    const cols = attrs.transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
    const outer = a.shape.length >= b.shape.length ? a.shape.slice(0, -2) : b.shape.slice(0, -2);
    return { dataId: out.dataId, shape: [...outer, rows, cols], dtype: out.dtype };
  };
}

function batchOf(t: TensorInfo): number {
  return sizeOf(t.shape.slice(0, -2));
}

function as3d(t: TensorInfo): TensorInfo {
  const r = t.shape.length;
  return { dataId: t.dataId, shape: [1, t.shape[r - 2], t.shape[r - 1]], dtype: t.dtype };
}

function transpose2d(backend: WasmBackend, t: TensorInfo): TensorInfo {
  const r = t.shape.length;
  const out = runShipped('Transpose', backend, { x: { dataId: t.dataId, shape: [t.shape[r - 2], t.shape[r - 1]], dtype: t.dtype } }, { perm: [1, 0] });
  return { dataId: out.dataId, shape: [1, t.shape[r - 1], t.shape[r - 2]], dtype: out.dtype };
}

function config(kernelName: 'BatchMatMul' | '_FusedMatMul'): KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: withoutTransposes(kernelName) as unknown as KernelFunc,
    // The shipped kernel we delegate to binds its C entry point in its setup; keep that.
    setupFunc: captureShippedKernel(kernelName)?.setupFunc,
  };
}

export const batchMatMulConfig = (): KernelConfig => config('BatchMatMul');
export const fusedMatMulConfig = (): KernelConfig => config('_FusedMatMul');
