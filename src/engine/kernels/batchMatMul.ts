import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { simdFor } from './simd.js';
import { captureShippedKernel, heapF32, release, runShipped, sizeOf, type WasmBackend, type WasmKernelArgs } from './wasmBackend.js';

/**
 * BatchMatMul for the wasm backend (single batch, float32; anything else goes to the shipped kernel).
 *
 * The shipped kernel hands a product to XNNPACK only when neither side is transposed; otherwise it
 * runs a naive C loop, and a Dense layer's backward pass is exactly that case (dW = x^T dy,
 * dx = dy W^T): ~0.2 s per Model A step for its 25088x128 layer. Even untransposed, XNNPACK repacks
 * the right-hand matrix on every call (~5 ns per float; the weights change every step). So products
 * run on our SIMD GEMM (simd.ts), which reads both operands in place, after choosing between
 * C = A B and C^T = B^T A^T so that the big weight matrix is read as it lies; at most the smaller
 * operand or the result is transposed. Tiny products and shapes the SIMD kernel cannot take
 * (no dimension of the result a multiple of 8) use XNNPACK after the same kind of transposition.
 */

/** Below this many multiply-adds the call overhead dominates; keep the shipped path. */
const SIMD_MIN_MACS = 1 << 16;
const SIMD_BLOCK = 1024;

function batchMatMul(args: WasmKernelArgs): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
  const tA = !!attrs.transposeA;
  const tB = !!attrs.transposeB;
  const single = a.dtype === 'float32' && b.dtype === 'float32' && batchOf(a) === 1 && batchOf(b) === 1;
  if (!single) return runShipped('BatchMatMul', backend, args.inputs, args.attrs);

  const ra = a.shape.length;
  const rb = b.shape.length;
  const M = tA ? a.shape[ra - 1] : a.shape[ra - 2];
  const K = tA ? a.shape[ra - 2] : a.shape[ra - 1];
  const N = tB ? b.shape[rb - 2] : b.shape[rb - 1];
  const outer = ra >= rb ? a.shape.slice(0, -2) : b.shape.slice(0, -2);
  const outShape = [...outer, M, N];
  const shaped = (t: TensorInfo): TensorInfo => ({ dataId: t.dataId, shape: outShape, dtype: 'float32' });

  const sizeA = M * K;
  const sizeB = K * N;
  // Cost in floats moved: transposing an operand (or the result) is one pass over it.
  const direct = (tA ? sizeA : 0) + (tB ? sizeB : 0);
  const swapped = (tA ? 0 : sizeA) + (tB ? 0 : sizeB) + M * N;
  if (simdFor(backend) && M * N * K >= SIMD_MIN_MACS && (N % 8 === 0 || M % 8 === 0)) {
    if (N % 8 === 0 && (M % 8 !== 0 || direct <= swapped)) {
      // C = op(A) op(B): rows of op(A) must be contiguous, op(B) row-major.
      const left = tA ? transpose2d(backend, a, K, M) : undefined;
      const right = tB ? transpose2d(backend, b, N, K) : undefined;
      const c = simdProduct(backend, left ?? a, M, K, right ?? b, N);
      release(backend, left, right);
      return shaped(c);
    }
    // C^T = op(B)^T op(A)^T, then transpose the (smaller) result back.
    const left = tB ? undefined : transpose2d(backend, b, K, N);
    const right = tA ? undefined : transpose2d(backend, a, M, K);
    const cT = simdProduct(backend, left ?? b, N, K, right ?? a, M);
    release(backend, left, right);
    const c = transpose2d(backend, cT, N, M);
    release(backend, cT);
    return shaped(c);
  }

  if (!tA && !tB) return runShipped('BatchMatMul', backend, args.inputs, args.attrs);
  if (swapped < direct) {
    const left = tB ? as3d(b, N, K) : transpose2d(backend, b, K, N);
    const right = tA ? as3d(a, K, M) : transpose2d(backend, a, M, K);
    const cT = runShipped('BatchMatMul', backend, { a: left, b: right }, { transposeA: false, transposeB: false });
    if (!tB) release(backend, left);
    if (!tA) release(backend, right);
    const c = transpose2d(backend, cT, N, M);
    release(backend, cT);
    return shaped(c);
  }
  const left = tA ? transpose2d(backend, a, K, M) : as3d(a, M, K);
  const right = tB ? transpose2d(backend, b, N, K) : as3d(b, K, N);
  const c = runShipped('BatchMatMul', backend, { a: left, b: right }, { transposeA: false, transposeB: false });
  if (tA) release(backend, left);
  if (tB) release(backend, right);
  return shaped(c);
}

/** C [M, N] = A [M, K] (row-major) times B [K, N] (row-major) on the SIMD GEMM; N % 8 == 0. */
function simdProduct(backend: WasmBackend, A: TensorInfo, M: number, K: number, B: TensorInfo, N: number): TensorInfo {
  const Mpad = Math.ceil(M / 4) * 4;
  const c = backend.makeOutput([Mpad, N], 'float32');
  const table = backend.makeOutput([Mpad], 'int32');
  const offset = (t: TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;
  const rows = new Int32Array(backend.wasm.HEAPF32.buffer, offset(table), Mpad);
  const aBase = offset(A);
  // Padding rows repeat row 0; their results land in rows >= M and are dropped below.
  for (let r = 0; r < Mpad; r++) rows[r] = aBase + 4 * K * (r < M ? r : 0);
  simdFor(backend)!.gemmRowsTimesB(offset(table), Mpad / 4, offset(B), N * 4, N / 8, K, offset(c), SIMD_BLOCK, 0);
  release(backend, table);
  if (Mpad === M) return c;
  const out = backend.makeOutput([M, N], 'float32');
  heapF32(backend, out).set(heapF32(backend, c, M * N));
  release(backend, c);
  return out;
}

function batchOf(t: TensorInfo): number {
  return sizeOf(t.shape.slice(0, -2));
}

function as3d(t: TensorInfo, rows: number, cols: number): TensorInfo {
  return { dataId: t.dataId, shape: [1, rows, cols], dtype: t.dtype };
}

/** The [rows, cols] matrix stored in t, transposed to a new [1, cols, rows] tensor. */
function transpose2d(backend: WasmBackend, t: TensorInfo, rows: number, cols: number): TensorInfo {
  const out = runShipped('Transpose', backend, { x: { dataId: t.dataId, shape: [rows, cols], dtype: t.dtype } }, { perm: [1, 0] });
  return { dataId: out.dataId, shape: [1, cols, rows], dtype: out.dtype };
}

export const batchMatMulConfig = (): KernelConfig => ({
  kernelName: 'BatchMatMul',
  backendName: 'wasm',
  kernelFunc: batchMatMul as unknown as KernelFunc,
  // The shipped kernel we delegate to binds its C entry point in its setup; keep that.
  setupFunc: captureShippedKernel('BatchMatMul')?.setupFunc,
});
