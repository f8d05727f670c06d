import { conv2DInfo, type ConvAttrs } from './convAttrs.js';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { padNHWC, simdConvApplies, simdConvValid } from './convSimd.js';
import { captureShippedKernel, release, runShipped, type WasmBackend, type WasmKernelArgs } from './wasmBackend.js';

/**
 * Conv2D for the wasm backend: stride-1 NHWC float32 convolutions (all of ours) run on our SIMD
 * implicit GEMM, ~15-25% faster than the shipped XNNPACK path on Model A's layers; anything else
 * (strides, NCHW, channel counts not a multiple of 8, tiny outputs) goes to the shipped kernel.
 */
function conv2d(args: WasmKernelArgs): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  const attrs = (args.attrs ?? {}) as unknown as ConvAttrs;
  const nhwc = attrs.dataFormat == null || attrs.dataFormat === 'NHWC';
  if (!nhwc || x.dtype !== 'float32' || filter.dtype !== 'float32') return runShipped('Conv2D', backend, args.inputs, args.attrs);
  const info = conv2DInfo(x.shape, filter.shape, attrs);
  const { top, bottom, left, right } = info.padInfo;
  const padded = top > 0 || bottom > 0 || left > 0 || right > 0;
  const consistent =
    info.inHeight + top + bottom - info.effectiveFilterHeight + 1 === info.outHeight &&
    info.inWidth + left + right - info.effectiveFilterWidth + 1 === info.outWidth;
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || !consistent || !simdConvApplies(backend, info.outChannels, info.outWidth)) {
    return runShipped('Conv2D', backend, args.inputs, args.attrs);
  }
  const input = padded ? padNHWC(backend, x, top, bottom, left, right) : x;
  const out = simdConvValid(backend, input, filter, info.dilationHeight, info.dilationWidth);
  if (padded) release(backend, input);
  return out;
}

export const conv2DConfig = (): KernelConfig => ({
  kernelName: 'Conv2D',
  backendName: 'wasm',
  kernelFunc: conv2d as unknown as KernelFunc,
  // The shipped kernel we fall back to binds its C entry point in its setup; keep that.
  setupFunc: captureShippedKernel('Conv2D')?.setupFunc,
});
