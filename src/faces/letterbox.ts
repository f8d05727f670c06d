import sharp from 'sharp';
import type { RgbImage } from './types.js';

export interface Letterbox {
  /** The side x side canvas. */
  view: RgbImage;
  /** Where the image sits in it, and image pixels per canvas pixel on each axis. */
  left: number;
  top: number;
  sx: number;
  sy: number;
}

/**
 * The image scaled (antialiased, by sharp) so that its longer side is `inner` pixels, centred on a
 * `side` x `side` canvas of `fill`: how a square detector input is made without stretching the
 * face, and, with `inner` well below `side`, a face that fills the frame given context around it.
 */
export async function letterbox(image: RgbImage, side: number, inner: number, fill: { r: number; g: number; b: number }): Promise<Letterbox> {
  const longest = Math.max(image.width, image.height);
  const w = Math.max(1, Math.min(side, Math.round((image.width * inner) / longest)));
  const h = Math.max(1, Math.min(side, Math.round((image.height * inner) / longest)));
  const left = Math.floor((side - w) / 2);
  const top = Math.floor((side - h) / 2);
  const { data } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(w, h, { fit: 'fill' })
    .extend({ left, top, right: side - w - left, bottom: side - h - top, background: fill })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { view: { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: side, height: side, channels: 3 }, left, top, sx: image.width / w, sy: image.height / h };
}
