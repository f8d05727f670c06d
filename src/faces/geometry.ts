import type { EyeLandmarks, FaceBox } from './types.js';
import type { Pixels } from '../pixels/pixels.js';

/** Float box in image pixels, before clipping and rounding. */
export interface Candidate {
  x: number;
  y: number;
  w: number;
  h: number;
  score: number;
}

export function assertRgbPixels(image: Pixels<3>, what = 'image'): void {
  const { data, width, height, channels } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`${what}: width and height must be positive integers, got ${width}x${height}`);
  }
  if (channels !== 3) throw new RangeError(`${what}: expected 3 channels (RGB), got ${channels}`);
  if (!(data instanceof Uint8Array) || data.length !== width * height * 3) {
    throw new RangeError(`${what}: data must be a Uint8Array of width*height*3 = ${width * height * 3} bytes, got ${data?.length}`);
  }
}

function intersection(a: Candidate, b: Candidate): number {
  const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/**
 * Intersection over union from the overlap's area and the two boxes' areas (0 when they do not
 * overlap): the one formula behind every IoU here, whatever shape the boxes come in.
 */
export function intersectionOverUnion(intersection: number, areaA: number, areaB: number): number {
  return intersection > 0 ? intersection / (areaA + areaB - intersection) : 0;
}

/** IoU of two [x, y, w, h] boxes (0 for two empty ones): what trackers, tests and benches compare boxes by. */
export function boxIoU([ax, ay, aw, ah]: FaceBox, [bx, by, bw, bh]: FaceBox): number {
  const w = Math.min(ax + aw, bx + bw) - Math.max(ax, bx);
  const h = Math.min(ay + ah, by + bh) - Math.max(ay, by);
  return intersectionOverUnion(w > 0 && h > 0 ? w * h : 0, aw * ah, bw * bh);
}

/**
 * Two boxes are the same face when they overlap by IoU, or when one sits mostly inside the other:
 * the padded and unpadded passes often return a whole-face box and a partial box of the same
 * face whose IoU stays under 0.5, and real faces almost never nest.
 */
export function sameFace(a: Candidate, b: Candidate, iouThreshold = 0.45, containThreshold = 0.7): boolean {
  const i = intersection(a, b);
  if (i <= 0) return false;
  const smaller = Math.min(a.w * a.h, b.w * b.h);
  return intersectionOverUnion(i, a.w * a.h, b.w * b.h) > iouThreshold || i / smaller > containThreshold;
}

/** Greedy suppression, best score first; ties go to the larger box so the order is total. */
export function mergeCandidates(cands: Candidate[]): Candidate[] {
  const sorted = [...cands].sort(compareCandidates);
  const kept: Candidate[] = [];
  for (const c of sorted) if (!kept.some((k) => sameFace(k, c))) kept.push(c);
  return kept;
}

export function compareCandidates(a: Candidate, b: Candidate): number {
  return b.score - a.score || b.w * b.h - a.w * a.h || a.y - b.y || a.x - b.x;
}

/** Clips to the image and rounds to whole pixels; null when nothing of the box is inside. */
export function toPixelBox(c: Candidate, width: number, height: number): FaceBox | null {
  const x0 = Math.max(0, Math.min(width, Math.round(c.x)));
  const y0 = Math.max(0, Math.min(height, Math.round(c.y)));
  const x1 = Math.max(0, Math.min(width, Math.round(c.x + c.w)));
  const y1 = Math.max(0, Math.min(height, Math.round(c.y + c.h)));
  if (x1 - x0 < 1 || y1 - y0 < 1) return null;
  return [x0, y0, x1 - x0, y1 - y0];
}

/**
 * Angle of the eye line in radians, in image coordinates (y down): positive when the right-hand
 * eye sits lower, i.e. the head is tilted clockwise as seen. Rotating the image by minus this
 * angle levels the eyes.
 */
export function eyeLineAngle(landmarks: EyeLandmarks): number {
  const [lx, ly] = landmarks.leftEye;
  const [rx, ry] = landmarks.rightEye;
  return Math.atan2(ry - ly, rx - lx);
}

/** Copies an integer box that lies inside the image (as DetectedFace boxes do). */
export function copyRegion(image: Pixels<3>, [x, y, w, h]: FaceBox): Pixels<3> {
  if (x < 0 || y < 0 || w < 1 || h < 1 || x + w > image.width || y + h > image.height || ![x, y, w, h].every(Number.isInteger)) {
    throw new RangeError(`box [${x}, ${y}, ${w}, ${h}] is not an integer box inside the ${image.width}x${image.height} image`);
  }
  const data = new Uint8Array(w * h * 3);
  for (let row = 0; row < h; row++) {
    const from = ((y + row) * image.width + x) * 3;
    data.set(image.data.subarray(from, from + w * 3), row * w * 3);
  }
  return { data, width: w, height: h, channels: 3 };
}
