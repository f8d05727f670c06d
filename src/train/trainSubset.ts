import type { ImageSet } from '../data/loadImages.js';
import type { ImageRecord } from '../data/prepareDataset.js';
import { Random } from '../base/random.js';

/**
 * A seeded, stratified share of a training set: each class keeps round(fraction x its count)
 * images (at least one), so a smaller training set has the class balance of the whole. The same
 * seed picks the same images, and a larger share holds every image of a smaller one.
 */
export function trainSubset(set: ImageSet<ImageRecord>, fraction: number, seed: number): ImageSet<ImageRecord> {
  const rng = new Random(seed).derive('train-fraction');
  const byClass = new Map<number, number[]>();
  set.items.forEach((r, i) => byClass.set(r.classIndex, [...(byClass.get(r.classIndex) ?? []), i]));
  const kept: number[] = [];
  for (const [, indices] of [...byClass.entries()].sort(([a], [b]) => a - b)) {
    // One shuffle per class, whatever the fraction: shares are prefixes of it, so they nest.
    const order = rng.shuffle([...indices]);
    kept.push(...order.slice(0, Math.max(1, Math.round(fraction * indices.length))));
  }
  kept.sort((a, b) => a - b);
  const pixels = new Uint8Array(kept.length * set.imageSize);
  kept.forEach((j, i) => pixels.set(set.pixels.subarray(j * set.imageSize, (j + 1) * set.imageSize), i * set.imageSize));
  return { items: kept.map((j) => set.items[j]!), pixels, imageSize: set.imageSize, failed: [] };
}
