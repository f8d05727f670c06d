import { conv2DInfo, type ConvAttrs } from './convAttrs.js';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { padNHWC, simdConvApplies, simdConvValid, type ConvEpilogue } from './convSimd.js';
import { captureShippedKernel, release, runShipped, type WasmBackend, type WasmKernelArgs } from './wasmBackend.js';

/**
 * Conv2D and FusedConv2D for the wasm backend: stride-1 NHWC float32 convolutions (all of ours)
 * run on our SIMD implicit GEMM, faster than the shipped XNNPACK path on Model A's layers because
 * XNNPACK repacks the filter on every call; FusedConv2D's bias and ReLU are applied to the
 * accumulators before they are stored. Anything else (strides, NCHW, channel counts not a
 * multiple of 8, tiny outputs, other activations, PReLU weights) goes to the shipped kernel.
 */

/** The SIMD convolution of x with filter, or null when the shape is not one it takes. */
function simdConv(backend: WasmBackend, x: TensorInfo, filter: TensorInfo, attrs: ConvAttrs, epilogue: ConvEpilogue = {}): TensorInfo | null {
  const nhwc = attrs.dataFormat == null || attrs.dataFormat === 'NHWC';
  if (!nhwc || x.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  const info = conv2DInfo(x.shape, filter.shape, attrs);
  const { top, bottom, left, right } = info.padInfo;
  const padded = top > 0 || bottom > 0 || left > 0 || right > 0;
  const consistent =
    info.inHeight + top + bottom - info.effectiveFilterHeight + 1 === info.outHeight &&
    info.inWidth + left + right - info.effectiveFilterWidth + 1 === info.outWidth;
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || !consistent || !simdConvApplies(backend, info.outChannels, info.outWidth)) {
    return null;
  }
  const input = padded ? padNHWC(backend, x, top, bottom, left, right) : x;
  const out = simdConvValid(backend, input, filter, info.dilationHeight, info.dilationWidth, epilogue);
  if (padded) release(backend, input);
  return out;
}

function conv2d(args: WasmKernelArgs): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  const attrs = (args.attrs ?? {}) as unknown as ConvAttrs;
  return simdConv(backend, x, filter, attrs) ?? runShipped('Conv2D', backend, args.inputs, args.attrs);
}

interface FusedConvAttrs extends ConvAttrs {
  activation?: string;
}

function fusedConv2d(args: WasmKernelArgs): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x, filter, bias, preluActivationWeights } = args.inputs as { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
  const attrs = (args.attrs ?? {}) as unknown as FusedConvAttrs;
  const activation = attrs.activation ?? 'linear';
  const outChannels = filter.shape[3];
  const biasFits = bias == null || (bias.dtype === 'float32' && bias.shape.length === 1 && bias.shape[0] === outChannels);
  const out =
    (activation === 'linear' || activation === 'relu') && biasFits && preluActivationWeights == null
      ? simdConv(backend, x, filter, attrs, { bias: bias ?? undefined, relu: activation === 'relu' })
      : null;
  return out ?? runShipped('FusedConv2D', backend, args.inputs, args.attrs);
}

// The shipped kernels we fall back to bind their C entry points in their setup; keep those.
export const conv2DConfig = (): KernelConfig => ({
  kernelName: 'Conv2D',
  backendName: 'wasm',
  kernelFunc: conv2d as unknown as KernelFunc,
  setupFunc: captureShippedKernel('Conv2D')?.setupFunc,
});

export const fusedConv2DConfig = (): KernelConfig => ({
  kernelName: 'FusedConv2D',
  backendName: 'wasm',
  kernelFunc: fusedConv2d as unknown as KernelFunc,
  setupFunc: captureShippedKernel('FusedConv2D')?.setupFunc,
});
