import { tf } from '../tfjs.js';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { simdFor } from './simd.js';
import { captureShippedKernel, heapF32, release, runShipped, sizeOf, type WasmBackend, type WasmKernelArgs } from './wasmBackend.js';

/**
 * Sum for the wasm backend when the reduced axes lead (e.g. a conv bias gradient: dy [N,H,W,C]
 * summed over N,H,W). The shipped kernel only reduces innermost axes, so it first transposes the
 * whole tensor to [C, N*H*W]: ~200 ms of a Model A step for three bias gradients. Summing rows
 * into per-column accumulators reads the tensor once, in order. Accumulators are float64, as in
 * the cpu backend, so 500k-row sums do not drift.
 */
function sum(args: WasmKernelArgs): TensorInfo {
  const backend = args.backend as WasmBackend;
  const x = args.inputs.x as TensorInfo;
  const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((a, i) => a === i);
  if (x.dtype !== 'float32' || !leading) return runShipped('Sum', backend, args.inputs, args.attrs);

  const rows = sizeOf(x.shape.slice(0, axes.length));
  const restShape = x.shape.slice(axes.length);
  const cols = sizeOf(restShape);
  const outShape = keepDims ? [...axes.map(() => 1), ...restShape] : restShape;
  const out = backend.makeOutput(outShape, 'float32');
  const simd = simdFor(backend);
  if (simd && cols % 4 === 0) {
    const acc = backend.makeOutput([2 * cols], 'float32');
    const accF64 = new Float64Array(backend.wasm.HEAPF32.buffer, backend.dataIdMap.get(acc.dataId).memoryOffset, cols);
    accF64.fill(0);
    simd.columnSumsF64(backend.dataIdMap.get(x.dataId).memoryOffset, rows, cols, accF64.byteOffset);
    heapF32(backend, out).set(new Float64Array(backend.wasm.HEAPF32.buffer, accF64.byteOffset, cols));
    release(backend, acc);
  } else {
    columnSums(heapF32(backend, x), rows, cols, heapF32(backend, out));
  }
  return out;
}

function columnSums(x: Float32Array, rows: number, cols: number, out: Float32Array): void {
  const acc = new Float64Array(cols);
  let j = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) acc[c] += x[j++];
  }
  out.set(acc);
}

export const sumConfig = (): KernelConfig => ({
  kernelName: 'Sum',
  backendName: 'wasm',
  kernelFunc: sum as unknown as KernelFunc,
  setupFunc: captureShippedKernel('Sum')?.setupFunc,
});
