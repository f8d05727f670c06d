import sharp from 'sharp';
import type { FaceBox } from '../src/faces/types.js';
import type { Pixels } from '../src/pixels/pixels.js';

/** What a camera frame looks like around a pasted photo: mid-gray, as the detectors' own padding. */
export const SHOT_FILL = 128;

export interface ShotPlacement {
  /** The frame's size, e.g. a webcam's 640x480. */
  width: number;
  height: number;
  /** The face box's longer side in the frame, px. */
  faceSide: number;
  /** Where the face box's centre lands in the frame, px. */
  centre: readonly [number, number];
}

/**
 * A camera-like frame made from a photo: the photo scaled so that its face box (`face`, in the
 * photo's pixels) is `faceSide` px and centred at `centre`, on gray; the rest of the photo around
 * the face comes along, as a real scene would. Only the part of the photo that lands in the frame
 * is resized (sharp, lanczos3), so a small face blown up from a big photo stays cheap. Returns the
 * frame and where the face box landed, px (fractional: the scale is that of whole source pixels).
 */
export async function cameraShot(photo: Pixels<3>, face: FaceBox, placement: ShotPlacement): Promise<{ frame: Pixels<3>; face: FaceBox }> {
  const { width, height, faceSide, centre } = placement;
  const [bx, by, bw, bh] = face;
  if (!(bw > 0 && bh > 0 && faceSide > 0)) throw new RangeError(`cameraShot: face box ${face} and side ${faceSide} must be positive`);
  const k = faceSide / Math.max(bw, bh);
  const fx = bx + bw / 2;
  const fy = by + bh / 2;
  // The photo's pixels that land inside the frame, widened to whole pixels.
  const sx0 = Math.max(0, Math.floor(fx - centre[0] / k));
  const sy0 = Math.max(0, Math.floor(fy - centre[1] / k));
  const sx1 = Math.min(photo.width, Math.ceil(fx + (width - centre[0]) / k));
  const sy1 = Math.min(photo.height, Math.ceil(fy + (height - centre[1]) / k));
  if (sx1 - sx0 < 1 || sy1 - sy0 < 1) throw new RangeError(`cameraShot: the face centred at ${centre} leaves nothing of the photo in the frame`);
  const rw = Math.max(1, Math.round((sx1 - sx0) * k));
  const rh = Math.max(1, Math.round((sy1 - sy0) * k));
  // The scale actually applied: whole output pixels for whole source pixels.
  const ax = rw / (sx1 - sx0);
  const ay = rh / (sy1 - sy0);
  const left = Math.round(centre[0] - (fx - sx0) * ax);
  const top = Math.round(centre[1] - (fy - sy0) * ay);
  const region = await sharp(photo.data, { raw: { width: photo.width, height: photo.height, channels: 3 } })
    .extract({ left: sx0, top: sy0, width: sx1 - sx0, height: sy1 - sy0 })
    .resize(rw, rh, { fit: 'fill' })
    .raw()
    .toBuffer();
  const data = new Uint8Array(width * height * 3).fill(SHOT_FILL);
  const u0 = Math.max(0, left);
  const u1 = Math.min(width, left + rw);
  for (let v = Math.max(0, top); v < Math.min(height, top + rh); v++) {
    const from = ((v - top) * rw + (u0 - left)) * 3;
    data.set(region.subarray(from, from + (u1 - u0) * 3), (v * width + u0) * 3);
  }
  return { frame: { data, width, height, channels: 3 }, face: [left + (bx - sx0) * ax, top + (by - sy0) * ay, bw * ax, bh * ay] };
}
