import sharp from 'sharp';
import type { RgbImage } from './types.js';

/**
 * Decodes a file or buffer to the RgbImage the face code takes: EXIF orientation applied (boxes
 * must refer to the picture as people see it), transparency flattened onto black, gray and CMYK
 * converted to sRGB so there are always exactly 3 channels.
 */
export async function decodeRgbImage(input: string | Uint8Array): Promise<RgbImage> {
  const { data, info } = await sharp(input)
    .rotate()
    .flatten({ background: { r: 0, g: 0, b: 0 } })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decodeRgbImage: expected 3 channels after conversion, got ${info.channels}`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 };
}
