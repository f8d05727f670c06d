import { OptionError } from '../base/errors.js';
import { assertRgbPixels, eyeLineAngle } from './geometry.js';
import type { DetectedFace } from './types.js';
import type { Pixels } from '../pixels/pixels.js';
import { roundHalfUp } from '../pixels/roundHalfUp.js';

export interface CropFaceOptions {
  /** Fraction of the face box's longer side added on each side. Default 0.25. */
  margin?: number;
  /** Rotate about the box centre so the eyes are level. Needs `face.landmarks`; without them the crop is unrotated. */
  align?: boolean;
  /** How pixels outside the image are filled: 'edge' (default) repeats the border, 'black' is 0. */
  fill?: 'edge' | 'black';
}

/**
 * Below this tilt alignment is skipped so near-level faces keep exact pixel copies: bilinear
 * resampling softens the whole crop, not worth it to remove less than a degree.
 */
export const MIN_ALIGN_RADIANS = (1 * Math.PI) / 180;

/**
 * A square crop centred on the face box, side = longer box side * (1 + 2 * margin), as raw RGB.
 * Unaligned crops copy pixels exactly; aligned ones sample bilinearly. Plain arithmetic rather
 * than sharp's rotate/extract, so the bytes cannot change with a libvips upgrade and a crop
 * that leaves the image is filled the same way whichever side it leaves by.
 */
export async function cropFace(image: Pixels<3>, face: DetectedFace, options: CropFaceOptions = {}): Promise<Pixels<3>> {
  return cropFaceSync(image, face, options);
}

export function cropFaceSync(image: Pixels<3>, face: DetectedFace, options: CropFaceOptions = {}): Pixels<3> {
  assertRgbPixels(image);
  const margin = options.margin ?? 0.25;
  if (!(margin >= 0 && margin <= 4)) throw new OptionError(`face crop margin must be between 0 and 4, got ${margin}`);
  const fill = options.fill ?? 'edge';
  if (fill !== 'edge' && fill !== 'black') throw new OptionError(`face crop fill must be 'edge' or 'black', got '${String(fill)}'`);
  const [bx, by, bw, bh] = face.box;
  if (!(bw > 0 && bh > 0)) throw new RangeError(`face box must have a positive size, got ${bw}x${bh}`);
  const side = Math.max(1, Math.round(Math.max(bw, bh) * (1 + 2 * margin)));
  const cx = bx + bw / 2;
  const cy = by + bh / 2;
  const angle = options.align && face.landmarks ? eyeLineAngle(face.landmarks) : 0;
  return Math.abs(angle) < MIN_ALIGN_RADIANS
    ? copySquare(image, Math.round(cx - side / 2), Math.round(cy - side / 2), side, fill)
    : rotatedSquare(image, cx, cy, side, angle, fill);
}

function copySquare(image: Pixels<3>, left: number, top: number, side: number, fill: 'edge' | 'black'): Pixels<3> {
  const { width, height, data: src } = image;
  const out = new Uint8Array(side * side * 3);
  for (let i = 0; i < side; i++) {
    let sy = top + i;
    if (sy < 0 || sy >= height) {
      if (fill === 'black') continue;
      sy = sy < 0 ? 0 : height - 1;
    }
    for (let j = 0; j < side; j++) {
      let sx = left + j;
      if (sx < 0 || sx >= width) {
        if (fill === 'black') continue;
        sx = sx < 0 ? 0 : width - 1;
      }
      const s = (sy * width + sx) * 3;
      const o = (i * side + j) * 3;
      out[o] = src[s]!;
      out[o + 1] = src[s + 1]!;
      out[o + 2] = src[s + 2]!;
    }
  }
  return { data: out, width: side, height: side, channels: 3 };
}

/**
 * Output pixel (j, i) samples the image at centre + R(angle) * offset: the output's x axis runs
 * along the eye line, so the eyes come out level.
 */
function rotatedSquare(image: Pixels<3>, cx: number, cy: number, side: number, angle: number, fill: 'edge' | 'black'): Pixels<3> {
  const { width, height, data: src } = image;
  const out = new Uint8Array(side * side * 3);
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const half = side / 2;
  // u * cos and u * sin per column, computed once: the same products, so the same sums below.
  const uCos = new Float64Array(side);
  const uSin = new Float64Array(side);
  for (let j = 0; j < side; j++) {
    const u = j + 0.5 - half;
    uCos[j] = u * cos;
    uSin[j] = u * sin;
  }
  // Byte offset of pixel (x, y), or -1 for a black (outside) tap.
  const at = (x: number, y: number): number => {
    if (x < 0 || x >= width || y < 0 || y >= height) {
      if (fill === 'black') return -1;
      x = x < 0 ? 0 : x >= width ? width - 1 : x;
      y = y < 0 ? 0 : y >= height ? height - 1 : y;
    }
    return (y * width + x) * 3;
  };
  for (let i = 0; i < side; i++) {
    const v = i + 0.5 - half;
    const vSin = v * sin;
    const vCos = v * cos;
    for (let j = 0; j < side; j++) {
      // Pixel k covers [k, k+1), so its centre is k + 0.5: shift back to index space.
      const fx = cx + uCos[j]! - vSin - 0.5;
      const fy = cy + uSin[j]! + vCos - 0.5;
      const x0 = Math.floor(fx);
      const y0 = Math.floor(fy);
      const ax = fx - x0;
      const ay = fy - y0;
      const w00 = (1 - ax) * (1 - ay);
      const w10 = ax * (1 - ay);
      const w01 = (1 - ax) * ay;
      const w11 = ax * ay;
      const o = (i * side + j) * 3;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < width && y0 + 1 < height) {
        // All four taps inside (nearly every pixel of a face crop): the same sums, no bounds logic.
        const p00 = (y0 * width + x0) * 3;
        const p01 = p00 + width * 3;
        // Channels written out: V8 keeps the weights in registers (a third faster than the loop).
        out[o] = roundHalfUp(src[p00]! * w00 + src[p00 + 3]! * w10 + src[p01]! * w01 + src[p01 + 3]! * w11);
        out[o + 1] = roundHalfUp(src[p00 + 1]! * w00 + src[p00 + 4]! * w10 + src[p01 + 1]! * w01 + src[p01 + 4]! * w11);
        out[o + 2] = roundHalfUp(src[p00 + 2]! * w00 + src[p00 + 5]! * w10 + src[p01 + 2]! * w01 + src[p01 + 5]! * w11);
        continue;
      }
      const p00 = at(x0, y0);
      const p10 = at(x0 + 1, y0);
      const p01 = at(x0, y0 + 1);
      const p11 = at(x0 + 1, y0 + 1);
      for (let c = 0; c < 3; c++) {
        const value = (p00 < 0 ? 0 : src[p00 + c]! * w00) + (p10 < 0 ? 0 : src[p10 + c]! * w10)
          + (p01 < 0 ? 0 : src[p01 + c]! * w01) + (p11 < 0 ? 0 : src[p11 + c]! * w11);
        out[o + c] = roundHalfUp(value);
      }
    }
  }
  return { data: out, width: side, height: side, channels: 3 };
}
