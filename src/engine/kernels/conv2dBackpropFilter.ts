import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
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
 * The filter gradient is one matrix product: dW[(kh,kw,ci), co] = sum over output pixels p of
 * patch[(kh,kw,ci), p] * dy[p, co]. XNNPACK's fully-connected GEMM (what the shipped BatchMatMul
 * uses when nothing is transposed) runs that at ~25 GFLOP/s, while a transposed convolution with dy
 * as the filter runs at a fifth of that (its K dimension is the whole batch of pixels, which XNNPACK's
 * inference-shaped conv does not block for). So the work here is only building the patch matrix.
 *
 * Stride 1 (every conv in our models): lay the padded input out as one flat grid of pixels per
 * channel, [Ci, N*Hp*Wp]. The patch row for tap (kh,kw) is then the same grid shifted by
 * kh*Wp + kw, so each row is a single memmove rather than a gather. The price is computing dy on the
 * full padded grid (dy padded with zeros to Hp x Wp): 3-15% more multiply-adds than needed, far
 * cheaper than a per-element im2col in JS.
 *
 * Other strides gather the patch matrix element by element (correct, slower; our models never use it).
 */

/** Patch-matrix floats per GEMM on the gather path; bounds memory (Model B would otherwise need ~300 MB). */
const CHUNK_FLOATS = 1 << 23;
/** Floats of padded x plus padded dy staged per image chunk on the shifted-grid path. */
const GRID_CHUNK_FLOATS = Number(process.env.HS_GRID_CHUNK ?? 1 << 24);
/** Columns per GEMM so that the packed dy block (cols x Co floats) stays around 1 MB. */
function blockColumns(Co: number): number {
  const target = Number(process.env.HS_BLOCK_BYTES ?? 1 << 20);
  return Math.max(256, Math.floor(target / 4 / Co));
}

export interface FilterGradOptions {
  /** Force the general gather path even for stride 1; tests use it to cover both paths on the same shapes. */
  forceGather?: boolean;
}

export function conv2DBackpropFilterImpl(args: WasmKernelArgs, options: FilterGradOptions = {}): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = (args.attrs ?? {}) as {
    strides: number | [number, number];
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
    dataFormat?: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
    dilations?: number | [number, number];
  };
  assertNHWC('Conv2DBackpropFilter', attrs.dataFormat);
  assertFloat32('Conv2DBackpropFilter', x, dy);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  if (info.strideHeight === 1 && info.strideWidth === 1 && !options.forceGather) return shiftedGridGrad(backend, x, dy, info, attrs.filterShape);
  return gatheredPatchGrad(backend, x, dy, info, attrs.filterShape);
}

type ConvInfo = tf.backend_util.Conv2DInfo;

function shiftedGridGrad(backend: WasmBackend, x: TensorInfo, dy: TensorInfo, info: ConvInfo, filterShape: number[]): TensorInfo {
  const [N, H, W, Ci] = x.shape;
  const { filterHeight: KH, filterWidth: KW, outHeight: OH, outWidth: OW, outChannels: Co, dilationHeight: dh, dilationWidth: dw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // Only the part of the padded input that some output pixel reads; trailing pad is never touched.
  const Hp = OH + (KH - 1) * dh;
  const Wp = OW + (KW - 1) * dw;
  const gridPerImage = Hp * Wp;
  const maxShift = (KH - 1) * dh * Wp + (KW - 1) * dw;
  const K = KH * KW * Ci;
  const imagesPerChunk = Math.max(1, Math.min(N, Math.floor(GRID_CHUNK_FLOATS / ((Ci + Co) * gridPerImage))));
  const blockCols = blockColumns(Co);

  let acc: TensorInfo | undefined;
  for (let n0 = 0; n0 < N; n0 += imagesPerChunk) {
    const nb = Math.min(imagesPerChunk, N - n0);
    const L = nb * gridPerImage;
    const gridStride = L + maxShift;
    const channelGrids = backend.makeOutput([Ci, gridStride], 'float32');
    const dyGrid = backend.makeOutput([L, Co], 'float32');
    const Lb = Math.min(blockCols, L);
    const patches = backend.makeOutput([1, K, Lb], 'float32');
    // Views only after every allocation of this chunk: a malloc can grow (and detach) the heap.
    const heap = backend.wasm.HEAPF32;
    const xs = heapF32(backend, x);
    const grids = heapF32(backend, channelGrids);
    const gridBase = grids.byteOffset >> 2;
    const patchBase = backend.dataIdMap.get(patches.dataId).memoryOffset >> 2;
    for (let ci = 0; ci < Ci; ci++) {
      const g = grids.subarray(ci * gridStride, (ci + 1) * gridStride);
      fillChannelGrid(xs, g, n0, nb, H, W, Ci, ci, Hp, Wp, top, left);
      g.fill(0, L);
    }
    fillDyGrid(heapF32(backend, dy), heapF32(backend, dyGrid), n0, nb, OH, OW, Co, Hp, Wp);

    // Column blocks keep the GEMM's packed right-hand side (Lb x Co) resident in L2: XNNPACK
    // streams it once per few rows of the patch matrix and does not block K itself.
    for (let p0 = 0; p0 < L; p0 += Lb) {
      const cols = Math.min(Lb, L - p0);
      for (let ci = 0; ci < Ci; ci++) {
        for (let kh = 0; kh < KH; kh++) {
          for (let kw = 0; kw < KW; kw++) {
            const row = (kh * KW + kw) * Ci + ci;
            const src = gridBase + ci * gridStride + p0 + kh * dh * Wp + kw * dw;
            heap.copyWithin(patchBase + row * cols, src, src + cols);
          }
        }
      }
      const a = cols === Lb ? patches : { dataId: patches.dataId, shape: [1, K, cols], dtype: 'float32' as const };
      // A fresh header per block: XNNPACK caches the packed right-hand matrix by tensor id.
      const b = viewOf(backend, dyGrid, p0 * Co, [1, cols, Co]);
      const part = runShipped('BatchMatMul', backend, { a, b }, { transposeA: false, transposeB: false });
      dropView(backend, b);
      acc = accumulate(backend, acc, part);
    }
    release(backend, patches, channelGrids, dyGrid);
  }
  return { dataId: acc!.dataId, shape: filterShape, dtype: 'float32' };
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

function gatheredPatchGrad(backend: WasmBackend, x: TensorInfo, dy: TensorInfo, info: ConvInfo, filterShape: number[]): TensorInfo {
  const [N, H, W, Ci] = x.shape;
  const { filterHeight: KH, filterWidth: KW, outHeight: OH, outWidth: OW, outChannels: Co } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const K = KH * KW * Ci;
  const pixelsPerImage = OH * OW;
  const imagesPerChunk = Math.max(1, Math.min(N, Math.floor(CHUNK_FLOATS / (K * pixelsPerImage))));

  let acc: TensorInfo | undefined;
  for (let n0 = 0; n0 < N; n0 += imagesPerChunk) {
    const nb = Math.min(imagesPerChunk, N - n0);
    const M = nb * pixelsPerImage;
    const patches = backend.makeOutput([1, K, M], 'float32');
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
    acc = accumulate(backend, acc, part);
  }
  return { dataId: acc!.dataId, shape: filterShape, dtype: 'float32' };
}

/** Sums per-chunk filter gradients in place; they are small (K x Co), so a JS loop beats a kernel call. */
function accumulate(backend: WasmBackend, acc: TensorInfo | undefined, part: TensorInfo): TensorInfo {
  if (!acc) return part;
  const a = heapF32(backend, acc);
  const p = heapF32(backend, part);
  for (let i = 0; i < a.length; i++) a[i] += p[i];
  release(backend, part);
  return acc;
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: ((args: WasmKernelArgs) => conv2DBackpropFilterImpl(args)) as unknown as KernelFunc,
};
