/**
 * A picture as raw 8-bit pixels, row-major, `channels` interleaved bytes per pixel, already
 * EXIF-rotated: the one image type of happysad, for decoded photos and video frames (`Pixels<3>`,
 * RGB), face crops, and model inputs (RGB or gray, as the preprocessing says).
 */
export interface Pixels<C extends 1 | 3 = 1 | 3> {
  data: Uint8Array;
  width: number;
  height: number;
  channels: C;
}
