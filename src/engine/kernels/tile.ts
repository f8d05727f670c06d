import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { captureShippedKernel, runShipped, sizeOf, type WasmBackend, type WasmKernelArgs } from './wasmBackend.js';

/**
 * Tile for the wasm backend when the result is the input repeated end to end: no tiled axis comes
 * after an axis of size > 1 (tiling [2,3] by [2,1] or [1,3] by [2,2] repeats the data whole;
 * tiling [2,3] by [1,2] interleaves it). Batch norm's backward pass tiles its [1,1,1,C] statistics
 * to [N,H,W,C] this way; the shipped kernel computes a source index per output element (~17% of a
 * face-48 training step), a doubling memcpy does it at memory speed.
 * Other tilings, and dtypes that are not 4 bytes wide, go to the shipped kernel.
 */
function tile(args: WasmKernelArgs): TensorInfo {
  const backend = args.backend as WasmBackend;
  const x = args.inputs.x as TensorInfo;
  const reps = (args.attrs?.reps ?? []) as number[];
  if ((x.dtype !== 'float32' && x.dtype !== 'int32') || !repeatsWhole(x.shape, reps)) return runShipped('Tile', backend, args.inputs, args.attrs);
  const out = backend.makeOutput(x.shape.map((d, i) => d * reps[i]), x.dtype);
  const block = sizeOf(x.shape);
  const total = block * reps.reduce((a, b) => a * b, 1);
  if (total === 0) return out;
  // Views after the last allocation (a malloc may grow and detach the heap). Int32 copies bits as they are.
  const heap = backend.wasm.HEAPF32.buffer;
  const src = new Int32Array(heap, backend.dataIdMap.get(x.dataId).memoryOffset, block);
  const dst = new Int32Array(heap, backend.dataIdMap.get(out.dataId).memoryOffset, total);
  dst.set(src);
  for (let filled = block; filled < total; filled *= 2) dst.copyWithin(filled, 0, Math.min(filled, total - filled));
  return out;
}

/** Whether tiling `shape` by `reps` is `shape`'s data repeated prod(reps) times. */
export function repeatsWhole(shape: readonly number[], reps: readonly number[]): boolean {
  if (reps.length !== shape.length) return false;
  let seenData = false;
  for (let i = 0; i < shape.length; i++) {
    if (reps[i] !== 1 && seenData) return false;
    if (shape[i] !== 1) seenData = true;
  }
  return true;
}

export const tileConfig = (): KernelConfig => ({
  kernelName: 'Tile',
  backendName: 'wasm',
  kernelFunc: tile as unknown as KernelFunc,
  setupFunc: captureShippedKernel('Tile')?.setupFunc,
});
