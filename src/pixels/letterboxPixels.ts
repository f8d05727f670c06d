import { resizeFill } from './resizePixels.js';
import type { Pixels } from './pixels.js';

export interface LetterboxPlacement {
  /** Size of the shrunk image on the canvas. */
  width: number;
  height: number;
  /** Where it sits on the side x side canvas. */
  left: number;
  top: number;
  /** Image pixels per canvas pixel on each axis. */
  sx: number;
  sy: number;
}

export interface Letterbox extends LetterboxPlacement {
  /** The side x side canvas. */
  view: Pixels & { channels: 3 };
}

/** Where an image whose longer side is scaled to `inner` sits, centred, on a side x side canvas. */
export function letterboxPlacement(width: number, height: number, side: number, inner: number): LetterboxPlacement {
  const longest = Math.max(width, height);
  const w = Math.max(1, Math.min(side, Math.round((width * inner) / longest)));
  const h = Math.max(1, Math.min(side, Math.round((height * inner) / longest)));
  const left = Math.floor((side - w) / 2);
  const top = Math.floor((side - h) / 2);
  return { width: w, height: h, left, top, sx: width / w, sy: height / h };
}

/**
 * An RGB image shrunk (antialiased, lanczos3 as sharp's default) so that its longer side is `inner`
 * pixels, centred on a `side` x `side` canvas of `fill`: a square detector input that does not
 * stretch the face. Byte for byte what faces/letterbox.ts makes with sharp.
 */
export function letterboxPixels(image: Pixels, side: number, inner: number, fill: readonly [number, number, number]): Letterbox {
  if (image.channels !== 3) throw new RangeError(`letterbox expects 3 channels, got ${image.channels}`);
  const place = letterboxPlacement(image.width, image.height, side, inner);
  const { width: w, height: h, left, top } = place;
  const small = resizeFill(image, w, h, 'lanczos3');
  const out = new Uint8Array(side * side * 3);
  for (let i = 0; i < out.length; i += 3) {
    out[i] = fill[0];
    out[i + 1] = fill[1];
    out[i + 2] = fill[2];
  }
  for (let y = 0; y < h; y++) out.set(small.data.subarray(y * w * 3, (y + 1) * w * 3), ((top + y) * side + left) * 3);
  return { ...place, view: { data: out, width: side, height: side, channels: 3 } };
}
