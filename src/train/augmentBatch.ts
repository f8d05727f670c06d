import type { Random } from '../base/random.js';

export interface AugmentOptions {
  flip: boolean;
  /** Largest shift as a fraction of width/height. */
  shift: number;
  /** Brightness multiplied by a factor in [1 - brightness, 1 + brightness]. */
  brightness: number;
  /** Largest rotation either way, in degrees (0 or absent = none). */
  rotation?: number;
  /** Scale drawn in [1 - zoom, 1 + zoom] (0 or absent = none); above 1 zooms in. */
  zoom?: number;
  /** Contrast around the image's mean multiplied by a factor in [1 - contrast, 1 + contrast] (0 or absent = none). */
  contrast?: number;
}

/**
 * Small rotations and zooms stand in for the head tilt and framing of face crops that did not come
 * from FER2013's own aligner; contrast for other cameras and lighting. All are mild enough that a
 * smile or a frown stays readable.
 */
export const DEFAULT_AUGMENT: AugmentOptions = { flip: true, shift: 0.1, brightness: 0.2, rotation: 10, zoom: 0.1, contrast: 0.2 };

/**
 * Random horizontal flip, shift, rotation, zoom (edge pixels repeated), brightness and contrast, on
 * uint8 HWC images in place. Every draw comes from `rng`, so a seed replays the same augmented
 * epochs. With no rotation, zoom or contrast the draws and the result are exactly those of plain
 * flip/shift/brightness (whole-pixel shifts, no resampling).
 */
export function augmentBatch(pixels: Uint8Array, n: number, h: number, w: number, c: number, rng: Random, o: AugmentOptions = DEFAULT_AUGMENT): void {
  const size = h * w * c;
  const src = new Uint8Array(size);
  const rotation = o.rotation ?? 0;
  const zoom = o.zoom ?? 0;
  const contrast = o.contrast ?? 0;
  const geometric = rotation > 0 || zoom > 0;
  const mean = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    const img = pixels.subarray(i * size, (i + 1) * size);
    src.set(img);
    const flip = o.flip && rng.next() < 0.5;
    const dxf = (rng.next() * 2 - 1) * o.shift * w;
    const dyf = (rng.next() * 2 - 1) * o.shift * h;
    const gain = 1 + (rng.next() * 2 - 1) * o.brightness;
    const angle = rotation > 0 ? ((rng.next() * 2 - 1) * rotation * Math.PI) / 180 : 0;
    const scale = zoom > 0 ? 1 + (rng.next() * 2 - 1) * zoom : 1;
    const k = contrast > 0 ? 1 + (rng.next() * 2 - 1) * contrast : 1;
    if (k !== 1) {
      mean.fill(0);
      for (let j = 0; j < size; j++) mean[j % c] += src[j];
      for (let ch = 0; ch < c; ch++) mean[ch] /= h * w;
    }
    // Pixel value after the photometric changes: contrast around the mean, then brightness.
    const tone = (v: number, ch: number) => {
      const t = (k === 1 ? v : mean[ch] + (v - mean[ch]) * k) * gain;
      return t < 0 ? 0 : Math.min(t, 255);
    };
    if (!geometric) {
      const dx = Math.round(dxf);
      const dy = Math.round(dyf);
      for (let y = 0; y < h; y++) {
        const sy = Math.min(h - 1, Math.max(0, y - dy));
        for (let x = 0; x < w; x++) {
          let sx = Math.min(w - 1, Math.max(0, x - dx));
          if (flip) sx = w - 1 - sx;
          const from = (sy * w + sx) * c;
          const to = (y * w + x) * c;
          for (let ch = 0; ch < c; ch++) img[to + ch] = tone(src[from + ch], ch);
        }
      }
      continue;
    }
    // Inverse map: output pixel -> undo shift -> undo rotation and zoom about the centre -> flip.
    const cx = (w - 1) / 2;
    const cy = (h - 1) / 2;
    const cos = Math.cos(angle) / scale;
    const sin = Math.sin(angle) / scale;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const ux = x - dxf - cx;
        const uy = y - dyf - cy;
        let sx = cos * ux + sin * uy + cx;
        const sy = -sin * ux + cos * uy + cy;
        if (flip) sx = w - 1 - sx;
        // Bilinear, edges repeated.
        const fx = Math.min(w - 1, Math.max(0, sx));
        const fy = Math.min(h - 1, Math.max(0, sy));
        const x0 = Math.floor(fx);
        const y0 = Math.floor(fy);
        const x1 = Math.min(w - 1, x0 + 1);
        const y1 = Math.min(h - 1, y0 + 1);
        const ax = fx - x0;
        const ay = fy - y0;
        const to = (y * w + x) * c;
        for (let ch = 0; ch < c; ch++) {
          const top = src[(y0 * w + x0) * c + ch] * (1 - ax) + src[(y0 * w + x1) * c + ch] * ax;
          const bottom = src[(y1 * w + x0) * c + ch] * (1 - ax) + src[(y1 * w + x1) * c + ch] * ax;
          img[to + ch] = tone(top * (1 - ay) + bottom * ay, ch) + 0.5;
        }
      }
    }
  }
}
