/** Raw 8-bit pixels, row-major, `channels` interleaved bytes per pixel. */
export interface Pixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}
