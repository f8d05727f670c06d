import { conv2DInfo, type ConvAttrs } from './convAttrs.js';
import type { KernelConfig, KernelFunc, TensorInfo, backend_util } from '@tensorflow/tfjs';
import { simdFor } from './simd.js';
import {
  assertFloat32,
  assertNHWC,
  dropView,
  heapF32,
  release,
  runShipped,
  viewOf,
  type WasmBackend,
  type WasmKernelArgs,
} from './wasmBackend.js';

/**
 * Conv2DBackpropFilter for the wasm backend, which ships none.
 *
 * The filter gradient is one matrix product with a huge inner dimension:
 *   dW[(kh,kw,ci), co] = sum over output pixels p of patch[(kh,kw,ci), p] * dy[p, co].
 * A transposed convolution with dy as the filter (the textbook trick) runs at ~5 GFLOP/s in XNNPACK,
 * whose convolution is shaped for inference. XNNPACK's GEMM does the arithmetic at ~30 GFLOP/s but
 * repacks its right-hand operand, all of dy, on every call at ~5 ns per float, which for a
 * 3-channel first layer costs more than the arithmetic. So the main path uses our own 4x8 SIMD GEMM
 * (simd.ts, ~40 GFLOP/s here) that reads both operands where they lie.
 *
 * Stride 1 (every conv in our models): lay the padded input out per channel as one flat grid of
 * pixels, [Ci, N*Hp*Wp] (a plain transpose when there is no padding). The patch row for tap (kh,kw)
 * is then that grid shifted by kh*Wp + kw, so "building the patch matrix" is a table of row
 * addresses and nothing is copied; the GEMM walks dy's pixels row run by row run, reading dy as it
 * lies.
 *
 * Fallbacks, all tested against the cpu backend: the same grid feeding XNNPACK's GEMM (no wasm SIMD,
 * or Co not a multiple of 8; there dy is copied onto the padded grid, 3-15% more multiply-adds on
 * our layers), and an element-wise gather of the patch matrix for strides > 1 (our models never use
 * it).
 */

/** Floats of padded x plus padded dy staged per image chunk; bounds memory for large inputs. */
const GRID_CHUNK_FLOATS = 1 << 24;
/** Patch-matrix floats per GEMM on the gather path. */
const GATHER_CHUNK_FLOATS = 1 << 23;
/** Pixels per pass of the SIMD GEMM: keeps the 8-column strip of dy it streams (32 KB) in L1. */
const SIMD_BLOCK = 1024;

export type FilterGradPath = 'simd' | 'xnnpack' | 'gather';

export interface FilterGradOptions {
  /** Force one implementation; tests run every path on the same shapes. */
  path?: FilterGradPath;
  /** Staging budget per image chunk, in floats; tests shrink it to exercise multi-chunk accumulation. */
  chunkFloats?: number;
}

export function conv2DBackpropFilterImpl(args: WasmKernelArgs, options: FilterGradOptions = {}): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = (args.attrs ?? {}) as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
  assertNHWC('Conv2DBackpropFilter', attrs.dataFormat);
  assertFloat32('Conv2DBackpropFilter', x, dy);
  const info = conv2DInfo(x.shape, attrs.filterShape, attrs);
  const unitStride = info.strideHeight === 1 && info.strideWidth === 1;
  const simdOk = simdFor(backend) !== null && info.outChannels % 8 === 0;
  const path = options.path ?? (!unitStride ? 'gather' : simdOk ? 'simd' : 'xnnpack');
  if (path !== 'gather' && !unitStride) throw new Error(`happysad: the '${path}' filter-gradient path needs stride 1`);
  if (path === 'simd' && !simdOk) throw new Error("happysad: the 'simd' filter-gradient path needs wasm SIMD and Co % 8 == 0");
  const out =
    path === 'gather'
      ? gatheredPatchGrad(backend, x, dy, info, options.chunkFloats ?? GATHER_CHUNK_FLOATS)
      : shiftedGridGrad(backend, x, dy, info, path === 'simd', options.chunkFloats ?? GRID_CHUNK_FLOATS);
  return { dataId: out.dataId, shape: attrs.filterShape, dtype: 'float32' };
}

type ConvInfo = backend_util.Conv2DInfo;

function shiftedGridGrad(backend: WasmBackend, x: TensorInfo, dy: TensorInfo, info: ConvInfo, useSimd: boolean, chunkFloats: number): TensorInfo {
  const [N, H, W, Ci] = x.shape;
  const { filterHeight: KH, filterWidth: KW, outHeight: OH, outWidth: OW, outChannels: Co, dilationHeight: dh, dilationWidth: dw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // Only the part of the padded input some output pixel reads; unused trailing pad is dropped.
  const Hp = OH + (KH - 1) * dh;
  const Wp = OW + (KW - 1) * dw;
  const gridPerImage = Hp * Wp;
  const maxShift = (KH - 1) * dh * Wp + (KW - 1) * dw;
  const R = KH * KW * Ci;
  const imagesPerChunk = Math.max(1, Math.min(N, Math.floor(chunkFloats / ((Ci + Co) * gridPerImage))));
  const gridIsInput = top === 0 && left === 0 && Hp === H && Wp === W;

  const Rpad = Math.ceil(R / 4) * 4;
  const result = backend.makeOutput([Rpad, Co], 'float32');
  if (!useSimd || N === 0) heapF32(backend, result).fill(0);

  for (let n0 = 0; n0 < N; n0 += imagesPerChunk) {
    const nb = Math.min(imagesPerChunk, N - n0);
    const L = nb * gridPerImage;
    const grids = channelGrids(backend, x, n0, nb, Hp, Wp, top, left, gridIsInput);
    const gridBase = backend.dataIdMap.get(grids.info.dataId).memoryOffset;
    const rowAddress = (r: number): number => {
      const ci = r % Ci;
      const tap = (r - ci) / Ci;
      const kh = Math.floor(tap / KW);
      const kw = tap % KW;
      return gridBase + 4 * (ci * L + kh * dh * Wp + kw * dw);
    };
    if (useSimd) {
      // p walks dy's own pixels, one run of OW per output row, so dy is read where it lies and
      // the grid's padding columns are skipped; each run starts at its row of the grid.
      const table = backend.makeOutput([Rpad], 'int32');
      const runs = backend.makeOutput([nb * OH], 'int32');
      const offset = (t: TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;
      const heap = backend.wasm.HEAPF32.buffer;
      const rows = new Int32Array(heap, offset(table), Rpad);
      // Padding rows repeat row 0; their sums land in result rows >= R, which are never read.
      for (let r = 0; r < Rpad; r++) rows[r] = rowAddress(r < R ? r : 0);
      const runStarts = new Int32Array(heap, offset(runs), nb * OH);
      for (let n = 0; n < nb; n++) for (let oh = 0; oh < OH; oh++) runStarts[n * OH + oh] = 4 * (n * Hp + oh) * Wp;
      const dyChunk = offset(dy) + 4 * n0 * OH * OW * Co;
      const runsPerBlock = Math.max(1, Math.floor(SIMD_BLOCK / OW));
      simdFor(backend)!.gemmSegmentsTimesB(
        offset(table), Rpad / 4, dyChunk, Co * 4, Co / 8, offset(runs), nb * OH, OW, offset(result), runsPerBlock, n0 > 0 ? 1 : 0,
      );
      release(backend, table, runs);
    } else {
      // Grid positions past L - maxShift all lie in the last image's zero padding of dy, so they
      // add nothing; stopping there also keeps every shifted read inside its channel's grid.
      const dyGrid = backend.makeOutput([L, Co], 'float32');
      fillDyGrid(heapF32(backend, dy), heapF32(backend, dyGrid), n0, nb, OH, OW, Co, Hp, Wp);
      xnnpackBlocks(backend, R, Co, L - maxShift, rowAddress, dyGrid, result);
      release(backend, dyGrid);
    }
    grids.dispose();
  }
  if (Rpad === R) return result;
  const out = backend.makeOutput([R, Co], 'float32');
  heapF32(backend, out).set(heapF32(backend, result, R * Co));
  release(backend, result);
  return out;
}

/**
 * Channel-major copy of images [n0, n0+nb) on the padded Hp x Wp grid: [Ci, nb*Hp*Wp]. Without
 * padding that is just a transpose, done by the backend's native Transpose; a single channel needs
 * no copy at all.
 */
function channelGrids(
  backend: WasmBackend,
  x: TensorInfo,
  n0: number,
  nb: number,
  Hp: number,
  Wp: number,
  top: number,
  left: number,
  gridIsInput: boolean,
): { info: TensorInfo; dispose(): void } {
  const [, H, W, Ci] = x.shape;
  const pixels = nb * H * W;
  if (gridIsInput) {
    const chunk = viewOf(backend, x, n0 * H * W * Ci, [pixels, Ci]);
    if (Ci === 1) return { info: chunk, dispose: () => dropView(backend, chunk) };
    const t = runShipped('Transpose', backend, { x: chunk }, { perm: [1, 0] });
    dropView(backend, chunk);
    return { info: t, dispose: () => release(backend, t) };
  }
  const L = nb * Hp * Wp;
  const grids = backend.makeOutput([Ci, L], 'float32');
  const xs = heapF32(backend, x);
  const g = heapF32(backend, grids);
  for (let ci = 0; ci < Ci; ci++) fillChannelGrid(xs, g.subarray(ci * L, (ci + 1) * L), n0, nb, H, W, Ci, ci, Hp, Wp, top, left);
  return { info: grids, dispose: () => release(backend, grids) };
}

/** Writes channel `ci` of images [n0, n0+nb) as a zero-padded Hp x Wp grid per image. */
function fillChannelGrid(
  xs: Float32Array,
  grid: Float32Array,
  n0: number,
  nb: number,
  H: number,
  W: number,
  C: number,
  ci: number,
  Hp: number,
  Wp: number,
  top: number,
  left: number,
): void {
  const wStart = Math.max(0, left);
  const wEnd = Math.min(Wp, W + left);
  let j = 0;
  for (let n = 0; n < nb; n++) {
    const imageBase = (n0 + n) * H;
    for (let hp = 0; hp < Hp; hp++) {
      const h = hp - top;
      if (h < 0 || h >= H || wStart >= wEnd) {
        grid.fill(0, j, j + Wp);
        j += Wp;
        continue;
      }
      if (wStart > 0) grid.fill(0, j, j + wStart);
      let src = ((imageBase + h) * W + (wStart - left)) * C + ci;
      for (let wp = wStart; wp < wEnd; wp++) {
        grid[j + wp] = xs[src];
        src += C;
      }
      if (wEnd < Wp) grid.fill(0, j + wEnd, j + Wp);
      j += Wp;
    }
  }
}

/** dy laid onto the padded Hp x Wp grid (zeros where no output pixel exists), so grid shifts line up with it. */
function fillDyGrid(dys: Float32Array, out: Float32Array, n0: number, nb: number, OH: number, OW: number, Co: number, Hp: number, Wp: number): void {
  const rowLen = OW * Co;
  if (Wp === OW && Hp === OH) {
    out.set(dys.subarray(n0 * OH * rowLen, (n0 + nb) * OH * rowLen));
    return;
  }
  let j = 0;
  for (let n = 0; n < nb; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const src = ((n0 + n) * OH + oh) * rowLen;
      out.set(dys.subarray(src, src + rowLen), j);
      out.fill(0, j + rowLen, j + Wp * Co);
      j += Wp * Co;
    }
    out.fill(0, j, j + (Hp - OH) * Wp * Co);
    j += (Hp - OH) * Wp * Co;
  }
}

/**
 * The same product through XNNPACK's GEMM, for when wasm SIMD is unavailable or Co % 8 != 0: copy
 * the shifted rows for a block of pixels into a patch matrix, multiply by that block of dy. Blocks
 * keep XNNPACK's packed copy of dy small enough to stay in cache.
 */
function xnnpackBlocks(
  backend: WasmBackend,
  R: number,
  Co: number,
  P: number,
  rowAddress: (r: number) => number,
  dyGrid: TensorInfo,
  result: TensorInfo,
): void {
  const Lb = Math.min(P, Math.max(256, Math.floor((1 << 18) / Co)));
  const patches = backend.makeOutput([1, R, Lb], 'float32');
  const patchBase = backend.dataIdMap.get(patches.dataId).memoryOffset >> 2;
  for (let p0 = 0; p0 < P; p0 += Lb) {
    const cols = Math.min(Lb, P - p0);
    // Re-read every block: the previous block's GEMM allocated, which may have grown the heap.
    const heap = backend.wasm.HEAPF32;
    for (let r = 0; r < R; r++) {
      const src = (rowAddress(r) >> 2) + p0;
      heap.copyWithin(patchBase + r * cols, src, src + cols);
    }
    const a = cols === Lb ? patches : { dataId: patches.dataId, shape: [1, R, cols], dtype: 'float32' as const };
    // A fresh header per block: XNNPACK caches the packed right-hand matrix by tensor id.
    const b = viewOf(backend, dyGrid, p0 * Co, [1, cols, Co]);
    const part = runShipped('BatchMatMul', backend, { a, b }, { transposeA: false, transposeB: false });
    dropView(backend, b);
    addInto(heapF32(backend, result, R * Co), heapF32(backend, part));
    release(backend, part);
  }
  release(backend, patches);
}

function gatheredPatchGrad(backend: WasmBackend, x: TensorInfo, dy: TensorInfo, info: ConvInfo, chunkFloats: number): TensorInfo {
  const [N, H, W, Ci] = x.shape;
  const { filterHeight: KH, filterWidth: KW, outHeight: OH, outWidth: OW, outChannels: Co } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const R = KH * KW * Ci;
  const pixelsPerImage = OH * OW;
  const imagesPerChunk = Math.max(1, Math.min(N, Math.floor(chunkFloats / (R * pixelsPerImage))));
  const result = backend.makeOutput([R, Co], 'float32');
  heapF32(backend, result).fill(0);

  for (let n0 = 0; n0 < N; n0 += imagesPerChunk) {
    const nb = Math.min(imagesPerChunk, N - n0);
    const M = nb * pixelsPerImage;
    const patches = backend.makeOutput([1, R, M], 'float32');
    // A fresh header per chunk: XNNPACK caches the packed right-hand matrix by tensor id.
    const dyChunk = viewOf(backend, dy, n0 * pixelsPerImage * Co, [1, M, Co]);
    const xs = heapF32(backend, x);
    const P = heapF32(backend, patches);
    let j = 0;
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        for (let ci = 0; ci < Ci; ci++) {
          for (let n = n0; n < n0 + nb; n++) {
            for (let oh = 0; oh < OH; oh++) {
              const h = oh * sh - top + kh * dh;
              if (h < 0 || h >= H) {
                P.fill(0, j, j + OW);
                j += OW;
                continue;
              }
              const rowBase = (n * H + h) * W;
              for (let ow = 0; ow < OW; ow++) {
                const w = ow * sw - left + kw * dw;
                P[j++] = w >= 0 && w < W ? xs[(rowBase + w) * Ci + ci] : 0;
              }
            }
          }
        }
      }
    }
    const part = runShipped('BatchMatMul', backend, { a: patches, b: dyChunk }, { transposeA: false, transposeB: false });
    dropView(backend, dyChunk);
    release(backend, patches);
    addInto(heapF32(backend, result), heapF32(backend, part));
    release(backend, part);
  }
  return result;
}

/** Per-chunk filter gradients are small (R x Co), so a JS loop beats another kernel call. */
function addInto(acc: Float32Array, part: Float32Array): void {
  for (let i = 0; i < acc.length; i++) acc[i] += part[i];
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: ((args: WasmKernelArgs) => conv2DBackpropFilterImpl(args)) as unknown as KernelFunc,
};
