import type { Random } from '../random.js';

export interface AugmentOptions {
  flip: boolean;
  /** Largest shift as a fraction of width/height. */
  shift: number;
  /** Brightness multiplied by a factor in [1 - brightness, 1 + brightness]. */
  brightness: number;
}

export const DEFAULT_AUGMENT: AugmentOptions = { flip: true, shift: 0.1, brightness: 0.2 };

/**
 * Random horizontal flip, shift (edge pixels repeated) and brightness, on uint8 HWC images in
 * place. Every draw comes from `rng`, so a seed replays the same augmented epochs.
 */
export function augmentBatch(pixels: Uint8Array, n: number, h: number, w: number, c: number, rng: Random, o: AugmentOptions = DEFAULT_AUGMENT): void {
  const size = h * w * c;
  const src = new Uint8Array(size);
  for (let i = 0; i < n; i++) {
    const img = pixels.subarray(i * size, (i + 1) * size);
    src.set(img);
    const flip = o.flip && rng.next() < 0.5;
    const dx = Math.round((rng.next() * 2 - 1) * o.shift * w);
    const dy = Math.round((rng.next() * 2 - 1) * o.shift * h);
    const gain = 1 + (rng.next() * 2 - 1) * o.brightness;
    for (let y = 0; y < h; y++) {
      const sy = Math.min(h - 1, Math.max(0, y - dy));
      for (let x = 0; x < w; x++) {
        let sx = Math.min(w - 1, Math.max(0, x - dx));
        if (flip) sx = w - 1 - sx;
        const from = (sy * w + sx) * c;
        const to = (y * w + x) * c;
        for (let k = 0; k < c; k++) {
          const v = src[from + k] * gain;
          img[to + k] = v > 255 ? 255 : v;
        }
      }
    }
  }
}
