import sharp from 'sharp';
import { letterboxPlacement, type Letterbox } from '../pixels/letterboxPixels.js';
import type { Pixels } from '../pixels/pixels.js';

export type { Letterbox };

/**
 * pixels/letterboxPixels.ts done by sharp: the same bytes (test/pixels/resizePixels.test.ts checks
 * it), in ~3 ms on libuv's threads against ~9-12 ms of JavaScript on this one for a 640x480 frame.
 * Node's detectors use this; the browser uses the JavaScript definition.
 */
export async function letterbox(image: Pixels<3>, side: number, inner: number, fill: readonly [number, number, number]): Promise<Letterbox> {
  const place = letterboxPlacement(image.width, image.height, side, inner);
  const { width: w, height: h, left, top } = place;
  const { data } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(w, h, { fit: 'fill' })
    .extend({ left, top, right: side - w - left, bottom: side - h - top, background: { r: fill[0], g: fill[1], b: fill[2] } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { ...place, view: { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: side, height: side, channels: 3 } };
}
