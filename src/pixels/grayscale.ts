import type { Pixels } from './pixels.js';
import { rint } from './resizePixels.js';
import { roundHalfUp } from './roundHalfUp.js';

let toLinear: Float32Array | undefined;
let toEncoded: Int32Array | undefined;
/** f32(k * toLinear[v]) for each BT.709 weight k: the products the conversion takes per channel. */
let weighted: { r: Float32Array; g: Float32Array; b: Float32Array } | undefined;
/** toEncoded[i + 1] - toEncoded[i], as float32: the interpolation step. */
let steps: Float32Array | undefined;

/** libvips' 8-bit sRGB tables (colour/LabQ2sRGB.c), in float32 arithmetic as libvips computes them. */
function tables(): { toLinear: Float32Array; toEncoded: Int32Array } {
  if (toLinear && toEncoded) return { toLinear, toEncoded };
  const f32 = Math.fround;
  toLinear = new Float32Array(256);
  toEncoded = new Int32Array(257);
  for (let i = 0; i < 256; i++) {
    const f = f32(i / 255);
    const v = f <= 0.0031308 ? f32(f32(12.92) * f) : f32(f32(f32(1.055) * f32(f32(f) ** f32(f32(1) / f32(2.4)))) - f32(0.055));
    toEncoded[i] = rint(f32(255 * v));
    toLinear[i] = f <= 0.04045 ? f32(f / f32(12.92)) : f32(f32(f32(f + f32(0.055)) / f32(1 + f32(0.055))) ** 2.4);
  }
  toEncoded[256] = toEncoded[255]!;
  return { toLinear, toEncoded };
}

/**
 * What sharp's grayscale() does to 8-bit sRGB (libvips sRGB → scRGB → B_W): BT.709 luminance in
 * linear light, re-encoded through libvips' 256-step table with interpolation. Not the average of
 * R, G and B, nor canvas' luma: those differ by several levels on saturated colours.
 */
export function srgbToGray(image: Pixels): Pixels {
  if (image.channels !== 3) throw new RangeError(`srgbToGray expects 3 channels, got ${image.channels}`);
  const { toLinear: lin, toEncoded: enc } = tables();
  const f32 = Math.fround;
  const { data, width, height } = image;
  const out = new Uint8Array(width * height);
  if (!weighted) {
    // The same float32 products as computing them per pixel, looked up instead (a third faster).
    const times = (k: number) => Float32Array.from(lin, (l) => f32(k * l));
    weighted = { r: times(f32(0.2126)), g: times(f32(0.7152)), b: times(f32(0.0722)) };
  }
  const { r: wr, g: wg, b: wb } = weighted;
  steps ??= Float32Array.from({ length: 256 }, (_, i) => enc[i + 1]! - enc[i]!);
  const step = steps;
  for (let i = 0, p = 0; i < out.length; i++, p += 3) {
    const y = f32(f32(wr[data[p]!]! + wg[data[p + 1]!]!) + wb[data[p + 2]!]!);
    let yf = f32(y * 255);
    if (yf < 0) yf = 0;
    else if (yf > 255) yf = 255;
    const yi = yf | 0;
    // rint inlined, on roundHalfUp: this loop runs over every pixel of every face crop.
    const v = f32(enc[yi]! + f32(step[yi]! * f32(yf - yi)));
    const r = roundHalfUp(v);
    out[i] = r - v === 0.5 && (r & 1) !== 0 ? r - 1 : r;
  }
  return { data: out, width, height, channels: 1 };
}
