import { availableParallelism } from 'node:os';

/**
 * Photos each thread beyond the first must have to classify before `predict` starts it, when
 * --workers is not given. A thread spends ~0.3-0.5 s of a core coming up (its own engine, model or
 * detector), and on a 2-core machine that core is also decoding; a short run ends before the
 * thread has paid for itself. The whole command on 250x250 one-face photos, 1 vs 2 threads, on
 * this 2-core machine: 1 photo 0.45 vs 0.63 s; 25 photos 1.16 vs 1.37 s; 40 photos 1.60 vs 2.41 s;
 * 50 photos 1.94 vs 1.93 s; 100 photos 3.27 vs 2.84 s (medians of 3; load 1.3-1.8 except at 100).
 */
export const PHOTOS_PER_EXTRA_THREAD = 50;

/**
 * How many threads a `predict` run without --workers uses: every core for any video (frames are
 * detected on all of them, see FacePipeline.frame), else one more per PHOTOS_PER_EXTRA_THREAD photos.
 */
export function predictThreads(photos: number, videos: number, cores = availableParallelism()): number {
  if (videos > 0) return cores;
  return Math.max(1, Math.min(cores, 1 + Math.floor(photos / PHOTOS_PER_EXTRA_THREAD)));
}
