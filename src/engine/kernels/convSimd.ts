import type { TensorInfo } from '@tensorflow/tfjs';
import { simdFor } from './simd.js';
import { heapF32, type WasmBackend } from './wasmBackend.js';

/**
 * Stride-1 NHWC convolution on our SIMD implicit GEMM (simd.ts convValidS1), shared by the forward
 * Conv2D and by Conv2DBackpropInput (which is a convolution of dy with the rotated filter).
 * It runs at ~40 GFLOP/s here against ~33 for XNNPACK's convolution on the same shapes, because it
 * skips XNNPACK's per-call weight packing and indirection setup, which a training step pays for
 * every call since the weights change every step.
 */

/** Whether the SIMD convolution can take this shape; otherwise callers use XNNPACK. */
export function simdConvApplies(backend: WasmBackend, outChannels: number, outWidth: number): boolean {
  return simdFor(backend) !== null && outChannels % 8 === 0 && outWidth >= 4;
}

/** What the convolution applies to its accumulators before storing them: the fused part of FusedConv2D. */
export interface ConvEpilogue {
  /** [Co], added to every output pixel. */
  bias?: TensorInfo;
  /** Then max(., 0). */
  relu?: boolean;
}

/**
 * out = valid, stride-1 convolution of `x` [N,H,W,Ci] with `filter` [KH,KW,Ci,Co], dilations
 * (dh, dw), then the epilogue. Callers pad x beforehand (padNHWC) when the convolution is padded.
 */
export function simdConvValid(backend: WasmBackend, x: TensorInfo, filter: TensorInfo, dh: number, dw: number, epilogue: ConvEpilogue = {}): TensorInfo {
  const [N, H, W, Ci] = x.shape;
  const [KH, KW, , Co] = filter.shape;
  const OH = H - (KH - 1) * dh;
  const OW = W - (KW - 1) * dw;
  const out = backend.makeOutput([N, OH, OW, Co], 'float32');
  if (OH <= 0 || OW <= 0 || N === 0) return out;
  const offset = (t: TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;
  // With dw == 1 a filter row's taps read KW*Ci consecutive floats; with dilation, KW runs of Ci.
  const S = dw === 1 ? 1 : KW;
  const segLen = dw === 1 ? KW * Ci : Ci;
  simdFor(backend)!.convValidS1(offset(x), H, W, Ci, offset(filter), Co, KH, S, segLen, dw * Ci * 4, dh * W * Ci * 4, offset(out), N, OH, OW, Co / 8,
    epilogue.bias ? offset(epilogue.bias) : 0, epilogue.relu ? 1 : 0,
  );
  return out;
}

/** Zero-padded copy of an NHWC tensor; a row-wise memcpy, cheap next to the convolution it feeds. */
export function padNHWC(backend: WasmBackend, x: TensorInfo, top: number, bottom: number, left: number, right: number): TensorInfo {
  const [N, H, W, C] = x.shape;
  const Hp = H + top + bottom;
  const Wp = W + left + right;
  const out = backend.makeOutput([N, Hp, Wp, C], 'float32');
  const src = heapF32(backend, x);
  const dst = heapF32(backend, out);
  const rowIn = W * C;
  const rowOut = Wp * C;
  let j = 0;
  for (let n = 0; n < N; n++) {
    dst.fill(0, j, j + top * rowOut);
    j += top * rowOut;
    for (let h = 0; h < H; h++) {
      const s = (n * H + h) * rowIn;
      dst.fill(0, j, j + left * C);
      dst.set(src.subarray(s, s + rowIn), j + left * C);
      dst.fill(0, j + left * C + rowIn, j + rowOut);
      j += rowOut;
    }
    dst.fill(0, j, j + bottom * rowOut);
    j += bottom * rowOut;
  }
  return out;
}
