import { availableParallelism } from 'node:os';
import { mapConcurrent } from '../base/mapConcurrent.js';
import { decodeImage } from '../input/decodeImage.js';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from '../input/imageLimits.js';
import type { PreprocessSpec } from '../input/preprocessSpec.js';
import { messageOf } from '../base/messageOf.js';

/** Decoded images in one contiguous uint8 block, ready to be batched any number of epochs. */
export interface ImageSet<T> {
  items: T[];
  /** items[i]'s pixels are pixels[i * imageSize, (i + 1) * imageSize). */
  pixels: Uint8Array;
  imageSize: number;
  failed: { item: T; error: string }[];
}

/**
 * Decodes every file once, in parallel (sharp works on libuv's thread pool), keeping uint8 so
 * epochs never decode again. A file that fails is reported and left out; it never stops the run.
 */
export async function loadImages<T extends { file: string }>(items: T[], spec: PreprocessSpec, options: { limits?: ImageLimits; concurrency?: number; onProgress?: (done: number, total: number) => void; decode?: (item: T) => Promise<Uint8Array> } = {}): Promise<ImageSet<T>> {
  const imageSize = spec.height * spec.width * spec.channels;
  let done = 0;
  const decoded = await mapConcurrent(items, options.concurrency ?? Math.max(2, availableParallelism() * 2), async (item) => {
    try {
      return options.decode ? await options.decode(item) : (await decodeImage(item.file, spec, options.limits ?? DEFAULT_IMAGE_LIMITS)).data;
    } catch (err) {
      return messageOf(err);
    } finally {
      options.onProgress?.(++done, items.length);
    }
  });
  const kept: T[] = [];
  const failed: ImageSet<T>['failed'] = [];
  decoded.forEach((d, i) => (typeof d === 'string' ? failed.push({ item: items[i], error: d }) : kept.push(items[i])));
  const pixels = new Uint8Array(kept.length * imageSize);
  let at = 0;
  for (const d of decoded) {
    if (typeof d === 'string') continue;
    pixels.set(d, at);
    at += imageSize;
  }
  return { items: kept, pixels, imageSize, failed };
}
