import sharp, { type Sharp } from 'sharp';
import { ImageError } from '../base/errors.js';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from './imageLimits.js';
import { messageOf } from '../base/messageOf.js';
import type { PreprocessSpec } from './preprocessSpec.js';
import { hasPortableResize, rgbToModelInput } from './modelInput.js';
import { srgbToGray } from '../pixels/grayscale.js';
import type { Pixels } from '../pixels/pixels.js';


/**
 * Decodes any supported image to the model's input size as uint8 pixels: EXIF orientation
 * applied, alpha flattened onto the spec's background, converted to gray or RGB, resized. The
 * 1/255 scaling happens later, on the batch (see toInputTensor), so the in-memory dataset stays
 * uint8 (4x smaller) and is decoded once per run. With spec.decodeFullSize (every new model) the
 * pixels are those of rgbToModelInput on the fully decoded image, as in a browser.
 */
export async function decodeImage(input: Uint8Array | string, spec: PreprocessSpec, limits: ImageLimits = DEFAULT_IMAGE_LIMITS, name = typeof input === 'string' ? input : '<buffer>'): Promise<Pixels> {
  if (spec.decodeFullSize && hasPortableResize(spec)) return fullToModelInput(await decodeFullImage(input, spec, limits, Infinity, name), spec, name);
  return toModelInput(openImage(input, spec, limits), spec, name);
}

/**
 * Decodes an image at its own size as RGB (orientation and background as in decodeImage): what
 * face detection looks at. `maxSide` bounds the work on huge photos (lanczos3, fit 'inside'); faces
 * are cropped from this. With spec.decodeFullSize the file is decoded whole and then shrunk, as a
 * browser must; otherwise sharp may shrink a JPEG of 3x maxSide or more while decoding it.
 */
export async function decodeFullImage(input: Uint8Array | string, spec: Pick<PreprocessSpec, 'background' | 'decodeFullSize'>, limits: ImageLimits = DEFAULT_IMAGE_LIMITS, maxSide = 1600, name = typeof input === 'string' ? input : '<buffer>'): Promise<Pixels<3>> {
  let img = openImage(input, spec, limits);
  const bound = Number.isFinite(maxSide);
  if (bound && !spec.decodeFullSize) img = img.resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true });
  img = img.toColourspace('srgb');
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true }).catch((err: unknown) => {
    throw new ImageError(name, 'corrupt', `${name}: cannot decode image: ${messageOf(err)}`, { cause: err });
  });
  const full = { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 as const };
  return bound && spec.decodeFullSize ? shrinkInside(full, maxSide) : full;
}

/**
 * RGB pixels shrunk to fit maxSide x maxSide (lanczos3), unchanged when they already fit: sharp's
 * resize from raw pixels, which equals resizeInside (pixels/) byte for byte, on libuv's threads.
 */
export async function shrinkInside(image: Pixels<3>, maxSide: number): Promise<Pixels<3>> {
  if (Math.max(image.width, image.height) <= maxSide) return image;
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).resize(maxSide, maxSide, { fit: 'inside' }).raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 };
}

/**
 * rgbToModelInput for a whole photo, computed faster: the gray conversion in JavaScript (pixels/),
 * the big resize by sharp from raw pixels on libuv's threads, which test/pixels holds byte for byte
 * to resizeFill. 24 ms against 48 ms per web photo for the JavaScript resize.
 */
async function fullToModelInput(full: Pixels<3>, spec: PreprocessSpec, name: string): Promise<Pixels> {
  const source = spec.channels === 1 ? srgbToGray(full) : full;
  return toModelInput(sharp(source.data, { raw: { width: source.width, height: source.height, channels: spec.channels } }), spec, name, false);
}

/**
 * An image at full size as RGB, transparency flattened onto black, EXIF orientation applied (boxes
 * refer to the picture as people see it): what the face detectors take outside a model's pipeline.
 */
export async function decodeRgbImage(input: Uint8Array | string, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Promise<Pixels<3>> {
  return decodeFullImage(input, { background: [0, 0, 0] }, limits, Infinity);
}

/**
 * Brings raw RGB pixels (a face crop) to the model input: rgbToModelInput, the definition the
 * browser runs too (the same bytes as sharp's, and immune to a libvips upgrade); sharp only for
 * a spec it cannot express ('cover', 'contain', 'nearest').
 */
export async function rawToModelInput(image: Pixels<3>, spec: PreprocessSpec): Promise<Pixels> {
  if (hasPortableResize(spec)) return rgbToModelInput(image, spec);
  return toModelInput(sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }), spec, '<crop>');
}

function openImage(input: Uint8Array | string, spec: Pick<PreprocessSpec, 'background'>, limits: ImageLimits): Sharp {
  return sharp(input, { failOn: limits.failOn ?? 'truncated', limitInputPixels: limits.maxPixels })
    .rotate()
    .flatten({ background: { r: spec.background[0], g: spec.background[1], b: spec.background[2] } });
}

/**
 * sharp's resize-and-colour step to the model input. `convert` false: the pixels already have the
 * model's channels (fullToModelInput made them gray), so only the resize runs.
 */
async function toModelInput(img: Sharp, spec: PreprocessSpec, name: string, convert = true): Promise<Pixels> {
  img = img.resize(spec.width, spec.height, { fit: spec.resize, kernel: spec.kernel, background: { r: 0, g: 0, b: 0 } });
  if (convert) img = spec.channels === 1 ? img.grayscale() : img.toColourspace('srgb');
  else if (spec.channels === 1) img = img.toColourspace('b-w');
  const { data, info } = await img
    .raw()
    .toBuffer({ resolveWithObject: true })
    .catch((err: unknown) => {
      throw new ImageError(name, 'corrupt', `${name}: cannot decode image: ${messageOf(err)}`, { cause: err });
    });
  if (info.channels !== spec.channels || info.width !== spec.width || info.height !== spec.height) {
    throw new ImageError(name, 'unsupported', `${name}: decoded to ${info.width}x${info.height}x${info.channels}, expected ${spec.width}x${spec.height}x${spec.channels}`);
  }
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: spec.channels };
}
