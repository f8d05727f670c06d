import { srgbToGray } from '../pixels/grayscale.js';
import { RESIZE_KERNELS, resizeFill, type ResizeKernel } from '../pixels/resizePixels.js';
import type { PreprocessSpec } from './preprocessSpec.js';
import type { Pixels } from '../pixels/pixels.js';

/** Model inputs of one size, back to back: the batch a forward pass takes. */
export function concatPixels(images: readonly Pixels[]): Uint8Array {
  const size = images[0]?.data.length ?? 0;
  const out = new Uint8Array(images.length * size);
  images.forEach((im, i) => out.set(im.data, i * size));
  return out;
}

/**
 * Whether rgbToModelInput can follow `spec`: 'fill' with a resampling kernel (every model
 * happysad trains, and both seed projects). 'cover', 'contain' and 'nearest' run on sharp in Node
 * and are not available in the browser.
 */
export function hasPortableResize(spec: Pick<PreprocessSpec, 'resize' | 'kernel'>): boolean {
  return spec.resize === 'fill' && (RESIZE_KERNELS as readonly string[]).includes(spec.kernel);
}

/**
 * Decoded RGB pixels (a face crop, or a whole image) to the model's input size and colour: the
 * definition both hosts run, byte for byte what sharp does (gray first, then the resize, as sharp
 * orders them). Scaling to floats happens later, on the batch.
 */
export function rgbToModelInput(image: Pixels<3>, spec: PreprocessSpec): Pixels {
  if (!hasPortableResize(spec)) throw new RangeError(`preprocessing resize '${spec.resize}' with kernel '${spec.kernel}' has no portable definition; only 'fill' with ${RESIZE_KERNELS.join(', ')}`);
  const source = spec.channels === 1 ? srgbToGray(image) : image;
  const out = resizeFill(source, spec.width, spec.height, spec.kernel as ResizeKernel);
  return { data: out.data, width: out.width, height: out.height, channels: spec.channels };
}
