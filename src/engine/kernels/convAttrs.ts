import { kernelTf } from './kernelTf.js';
import type { backend_util } from '@tensorflow/tfjs';

/** The attributes every Conv2D-family kernel receives (forward and both gradients). */
export interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: number | [number, number];
}

/** Output size, padding and strides of an NHWC convolution, as tfjs computes them. */
export function conv2DInfo(xShape: readonly number[], filterShape: readonly number[], attrs: ConvAttrs): backend_util.Conv2DInfo {
  return kernelTf().backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}
