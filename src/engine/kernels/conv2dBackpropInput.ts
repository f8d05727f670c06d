import { conv2DInfo, type ConvAttrs } from './convAttrs.js';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { padNHWC, simdConvApplies, simdConvValid } from './convSimd.js';
import { assertFloat32, assertNHWC, heapF32, release, runShipped, type WasmBackend, type WasmKernelArgs } from './wasmBackend.js';

/**
 * Conv2DBackpropInput for the wasm backend. The shipped one is a naive C loop (~4 s of a 7 s Model A
 * step); this one uses the textbook identity dx = conv(dy, filter rotated 180 degrees with in/out
 * channels swapped), so the work runs in a fast forward convolution.
 *
 * With stride 1, dy is zero-padded by the filter's reach ("full" padding) and convolved on our SIMD
 * implicit GEMM (convSimd.ts); where that does not apply (no wasm SIMD, Ci not a multiple of 8), the
 * padding goes to XNNPACK's convolution as explicit padding instead. Other strides first spread dy
 * onto a zero grid with stride-1 gaps (s*s times the multiply-adds; correct but not tuned, our
 * models never use it).
 */
export type InputGradPath = 'simd' | 'xnnpack' | 'spread';

export function conv2DBackpropInputImpl(args: WasmKernelArgs, options: { path?: InputGradPath } = {}): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = (args.attrs ?? {}) as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
  assertNHWC('Conv2DBackpropInput', attrs.dataFormat);
  assertFloat32('Conv2DBackpropInput', dy, filter);
  const info = conv2DInfo(attrs.inputShape, filter.shape, attrs);
  const [N, H, W, Ci] = attrs.inputShape;
  const { filterHeight: KH, filterWidth: KW, outHeight: OH, outWidth: OW, outChannels: Co } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const reachH = (KH - 1) * dh;
  const reachW = (KW - 1) * dw;
  const padTop = reachH - info.padInfo.top;
  const padLeft = reachW - info.padInfo.left;

  const rotated = rotateFilter(backend, filter, KH, KW, Ci, Co);
  const convAttrs = { strides: [1, 1], dilations: [dh, dw], dataFormat: 'NHWC', dimRoundingMode: undefined } as Record<string, unknown>;

  const padBottom = H - OH - padTop + reachH;
  const padRight = W - OW - padLeft + reachW;
  const direct = sh === 1 && sw === 1 && padTop >= 0 && padLeft >= 0 && padBottom >= 0 && padRight >= 0;
  const simdOk = direct && simdConvApplies(backend, Ci, W);
  const path = options.path ?? (!direct ? 'spread' : simdOk ? 'simd' : 'xnnpack');
  if ((path === 'simd' && !simdOk) || (path === 'xnnpack' && !direct)) throw new Error(`happysad: the '${path}' input-gradient path does not apply here`);
  if (path === 'simd') {
    const dyFull = padNHWC(backend, dy, padTop, padBottom, padLeft, padRight);
    const dx = simdConvValid(backend, dyFull, rotated, dh, dw);
    release(backend, dyFull, rotated);
    return dx;
  }
  if (path === 'xnnpack') {
    convAttrs.pad = [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]];
    const dx = runShipped('Conv2D', backend, { x: dy, filter: rotated }, convAttrs as never);
    release(backend, rotated);
    return dx;
  }

  // Spread dy onto the grid the rotated filter slides over with stride 1. Positions that fall
  // outside [0, Hp) x [0, Wp) only ever feed dx pixels outside the input, so they are dropped.
  const Hp = H + reachH;
  const Wp = W + reachW;
  const spread = backend.makeOutput([N, Hp, Wp, Co], 'float32');
  const grid = heapF32(backend, spread);
  const dys = heapF32(backend, dy);
  grid.fill(0);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const p = padTop + oh * sh;
      if (p < 0 || p >= Hp) continue;
      for (let ow = 0; ow < OW; ow++) {
        const q = padLeft + ow * sw;
        if (q < 0 || q >= Wp) continue;
        const src = ((n * OH + oh) * OW + ow) * Co;
        grid.set(dys.subarray(src, src + Co), ((n * Hp + p) * Wp + q) * Co);
      }
    }
  }
  convAttrs.pad = 'valid';
  const dx = simdConvApplies(backend, Ci, W)
    ? simdConvValid(backend, spread, rotated, dh, dw)
    : runShipped('Conv2D', backend, { x: spread, filter: rotated }, convAttrs as never);
  release(backend, rotated, spread);
  return dx;
}

/** [KH, KW, Ci, Co] -> [KH, KW, Co, Ci] rotated 180 degrees: the filter of the transposed convolution. */
function rotateFilter(backend: WasmBackend, filter: TensorInfo, KH: number, KW: number, Ci: number, Co: number): TensorInfo {
  const out = backend.makeOutput([KH, KW, Co, Ci], 'float32');
  const src = heapF32(backend, filter);
  const dst = heapF32(backend, out);
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      const s = ((KH - 1 - kh) * KW + (KW - 1 - kw)) * Ci * Co;
      const d = (kh * KW + kw) * Co * Ci;
      for (let ci = 0; ci < Ci; ci++) {
        for (let co = 0; co < Co; co++) dst[d + co * Ci + ci] = src[s + ci * Co + co];
      }
    }
  }
  return out;
}

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: ((args: WasmKernelArgs) => conv2DBackpropInputImpl(args)) as unknown as KernelFunc,
};
