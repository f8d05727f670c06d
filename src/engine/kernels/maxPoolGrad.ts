import { tf } from '../tfjs.js';
import type { KernelConfig, KernelFunc, TensorInfo, backend_util } from '@tensorflow/tfjs';
import { simdFor } from './simd.js';
import { assertFloat32, heapF32, type WasmBackend, type WasmKernelArgs } from './wasmBackend.js';

/**
 * MaxPoolGrad for the wasm backend. The shipped kernel walks every dx pixel over every window that
 * could contain it, through a generic 3-D pooling template (~0.6 s per Model A step). Here each
 * output window finds its arg-max once, channels innermost so reads are sequential, and routes its dy
 * there: one pass over x and dy.
 *
 * Ties go to the first maximum in row-major window order with a strict '>', as the CPU backend (and
 * TensorFlow) do. After a ReLU whole windows are often exactly 0, so this choice is visible; the
 * shipped wasm kernel picks the last maximum instead and disagrees with the CPU backend there.
 * (One deliberate gap: a window whose first element is NaN routes to that NaN on the SIMD path,
 * where the cpu backend skips NaNs. A NaN activation has already ruined the step either way.)
 */
export function maxPoolGradImpl(args: WasmKernelArgs): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
  const attrs = (args.attrs ?? {}) as {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  assertFloat32('MaxPoolGrad', dy, input);
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const [N, H, W, C] = input.shape;
  const { outHeight: OH, outWidth: OW, strideHeight: sh, strideWidth: sw } = info;
  const FH = info.effectiveFilterHeight;
  const FW = info.effectiveFilterWidth;
  const top = info.padInfo.top;
  const left = info.padInfo.left;

  const out = backend.makeOutput(input.shape, 'float32');
  const simd = simdFor(backend);
  const tiles2x2 = FH === 2 && FW === 2 && sh === 2 && sw === 2 && top === 0 && left === 0 && OH === H >> 1 && OW === W >> 1;
  if (simd && tiles2x2 && C % 4 === 0) {
    // The common Keras pool: disjoint 2x2 tiles, so every covered dx element is written exactly once.
    const offset = (t: TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;
    simd.maxPoolGrad2x2(offset(input), offset(dy), offset(out), N, H, W, C, OH, OW);
    zeroUncoveredEdges(heapF32(backend, out), N, H, W, C);
    return out;
  }
  const xs = heapF32(backend, input);
  const gs = heapF32(backend, dy);
  const dx = heapF32(backend, out);
  dx.fill(0);

  const best = new Float32Array(C);
  const arg = new Int32Array(C);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - top;
      const hStart = Math.max(0, h0);
      const hEnd = Math.min(H, h0 + FH);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = ow * sw - left;
        const wStart = Math.max(0, w0);
        const wEnd = Math.min(W, w0 + FW);
        best.fill(-Infinity);
        arg.fill(-1);
        for (let h = hStart; h < hEnd; h++) {
          for (let w = wStart; w < wEnd; w++) {
            const base = ((n * H + h) * W + w) * C;
            for (let c = 0; c < C; c++) {
              const v = xs[base + c];
              if (v > best[c]) {
                best[c] = v;
                arg[c] = base + c;
              }
            }
          }
        }
        const g = ((n * OH + oh) * OW + ow) * C;
        for (let c = 0; c < C; c++) {
          const at = arg[c];
          // Overlapping windows can pick the same pixel, so accumulate rather than assign.
          if (at >= 0) dx[at] += gs[g + c];
        }
      }
    }
  }
  return out;
}

/** An odd trailing row / column lies in no 2x2 tile, so it gets no gradient. */
function zeroUncoveredEdges(dx: Float32Array, N: number, H: number, W: number, C: number): void {
  const rowLen = W * C;
  for (let n = 0; n < N; n++) {
    const image = n * H * rowLen;
    if (W % 2 === 1) {
      for (let h = 0; h < H - (H % 2); h++) dx.fill(0, image + h * rowLen + (W - 1) * C, image + (h + 1) * rowLen);
    }
    if (H % 2 === 1) dx.fill(0, image + (H - 1) * rowLen, image + H * rowLen);
  }
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: 'wasm',
  kernelFunc: maxPoolGradImpl as unknown as KernelFunc,
};
