/// <reference lib="dom" />
import { ImageError } from '../base/errors.js';
import type { Pixels } from '../pixels/pixels.js';

/** What the browser build's predict() takes. */
export type ImageSource = HTMLImageElement | HTMLVideoElement | HTMLCanvasElement | OffscreenCanvas | ImageBitmap | ImageData | Blob;

/** Largest image decoded, as Node's DEFAULT_IMAGE_LIMITS: a 64-megapixel RGBA canvas is already 256 MB. */
const MAX_PIXELS = 64_000_000;

/**
 * Whether an encoded image carries an ICC profile (JPEG APP2 "ICC_PROFILE", PNG iCCP). sharp
 * converts such images to sRGB and leaves the others alone, ignoring PNG gAMA/cHRM; asking the
 * browser to convert only these reproduces its pixels (exactly on plain JPEG and PNG, within one
 * level on ICC files: research/browser-study §1).
 */
export function hasIccProfile(b: Uint8Array): boolean {
  if (b[0] === 0xff && b[1] === 0xd8) {
    for (let i = 2; i + 4 < b.length && b[i] === 0xff; ) {
      const marker = b[i + 1]!;
      const length = (b[i + 2]! << 8) | b[i + 3]!;
      if (marker === 0xe2 && String.fromCharCode(...b.subarray(i + 4, i + 15)) === 'ICC_PROFILE') return true;
      if (marker === 0xda) break;
      i += 2 + length;
    }
    return false;
  }
  if (b[0] === 0x89 && b[1] === 0x50) {
    for (let i = 8; i + 8 < b.length; ) {
      const length = ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
      const type = String.fromCharCode(...b.subarray(i + 4, i + 8));
      if (type === 'iCCP') return true;
      if (type === 'IDAT') return false;
      i += 12 + length;
    }
  }
  return false;
}

/** RGBA to RGB, composited onto `background` as sharp's flatten() does. */
export function flattenRgba(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number, background: readonly [number, number, number]): Pixels<3> {
  const out = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; j < out.length; i += 4, j += 3) {
    const a = rgba[i + 3]!;
    if (a === 255) {
      out[j] = rgba[i]!;
      out[j + 1] = rgba[i + 1]!;
      out[j + 2] = rgba[i + 2]!;
    } else {
      for (let k = 0; k < 3; k++) out[j + k] = Math.round((rgba[i + k]! * a + background[k]! * (255 - a)) / 255);
    }
  }
  return { data: out, width, height, channels: 3 };
}

type Drawable = HTMLVideoElement | HTMLCanvasElement | OffscreenCanvas | ImageBitmap | HTMLImageElement;

let scratch: OffscreenCanvas | undefined;

/** The pixels of anything a 2D canvas can draw, read back at its natural size. */
function readDrawable(source: Drawable, width: number, height: number, background: readonly [number, number, number], name: string): Pixels<3> {
  if (!(width > 0 && height > 0)) throw new ImageError(name, 'unsupported', `${name}: has no pixels yet (${width}x${height}); wait for the image or video to load`);
  if (width * height > MAX_PIXELS) throw new ImageError(name, 'too-large', `${name}: ${width}x${height} is more than ${MAX_PIXELS / 1e6} megapixels; shrink it first`);
  if (!scratch || scratch.width !== width || scratch.height !== height) scratch = new OffscreenCanvas(width, height);
  const ctx = scratch.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new ImageError(name, 'unsupported', `${name}: this browser gives no 2D canvas to read pixels with`);
  ctx.clearRect(0, 0, width, height);
  ctx.drawImage(source, 0, 0);
  let data: ImageData;
  try {
    data = ctx.getImageData(0, 0, width, height);
  } catch (err) {
    throw new ImageError(name, 'unsupported', `${name}: the browser will not let the page read this image's pixels (cross-origin without CORS); serve it from the page's origin or with Access-Control-Allow-Origin`, { cause: err });
  }
  return flattenRgba(data.data, width, height, background);
}

/** An encoded image (a file, an upload, a fetch) decoded as Node's sharp decodes it: EXIF orientation applied, ICC only when present. */
async function decodeBlob(blob: Blob, background: readonly [number, number, number], name: string): Promise<Pixels<3>> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image', premultiplyAlpha: 'none', colorSpaceConversion: hasIccProfile(bytes) ? 'default' : 'none' });
  } catch (err) {
    throw new ImageError(name, 'corrupt', `${name}: the browser cannot decode this image (${(err as Error).message}); it may be damaged, or a format browsers do not read (TIFF, HEIC): convert it to JPEG or PNG`, { cause: err });
  }
  try {
    return readDrawable(bitmap, bitmap.width, bitmap.height, background, name);
  } finally {
    bitmap.close();
  }
}

/** Any supported source to RGB pixels, transparency composited onto `background`. */
export async function decodeImageSource(source: ImageSource, background: readonly [number, number, number]): Promise<Pixels<3>> {
  if (typeof Blob !== 'undefined' && source instanceof Blob) return decodeBlob(source, background, source instanceof File ? source.name : 'image');
  if (typeof ImageData !== 'undefined' && source instanceof ImageData) return flattenRgba(source.data, source.width, source.height, background);
  if (typeof HTMLImageElement !== 'undefined' && source instanceof HTMLImageElement) {
    if (!source.complete || source.naturalWidth === 0) await source.decode();
    // Re-read the file rather than the element: the element is decoded with the browser's colour
    // management, which differs from sharp's on PNGs with gamma and on untagged files.
    const blob = await fetch(source.currentSrc || source.src).then((r) => (r.ok ? r.blob() : undefined), () => undefined);
    if (blob) return decodeBlob(blob, background, source.currentSrc || 'image');
    return readDrawable(source, source.naturalWidth, source.naturalHeight, background, source.currentSrc || 'image');
  }
  if (typeof HTMLVideoElement !== 'undefined' && source instanceof HTMLVideoElement) return readDrawable(source, source.videoWidth, source.videoHeight, background, 'video frame');
  if (typeof ImageBitmap !== 'undefined' && source instanceof ImageBitmap) return readDrawable(source, source.width, source.height, background, 'image bitmap');
  const canvas = source as HTMLCanvasElement | OffscreenCanvas;
  if (typeof canvas.getContext === 'function' && typeof canvas.width === 'number') return readDrawable(canvas, canvas.width, canvas.height, background, 'canvas');
  throw new TypeError('predict() takes an HTMLImageElement, HTMLVideoElement, HTMLCanvasElement, OffscreenCanvas, ImageBitmap, ImageData or Blob');
}
