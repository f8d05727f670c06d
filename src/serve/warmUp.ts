import sharp from 'sharp';
import type { ServableModel } from './servableModel.js';

/**
 * The first prediction of a face model loads the detector and landmark nets (seconds); doing it
 * before listening means that /healthz answering is the same as being ready to predict quickly.
 */
export async function warmUp(model: ServableModel): Promise<void> {
  const blank = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 128, g: 128, b: 128 } } }).png().toBuffer();
  const [row] = await model.predict([new Uint8Array(blank)]);
  if (row?.error) throw new Error(`warm-up prediction failed: ${row.error.message}`);
}
