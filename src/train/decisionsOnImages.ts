import type { ImageSet } from '../data/loadImages.js';
import type { ModelBundle } from '../model/modelBundle.js';
import { interpretOutput, type ClassDecision } from '../predict/interpretOutput.js';
import { ParallelPredictor } from '../runtime/parallelPredictor.js';

/**
 * A trained model's decisions (its own rule: threshold, calibration, test-time flip) on images
 * already decoded by its preprocessing: what a fine-tuning run scores it by before training
 * (scoreStart) and what a distilling run learns from (teacherProbabilities).
 */
export async function decisionsOnImages(bundle: ModelBundle, set: ImageSet<unknown>, workers = 1): Promise<ClassDecision[]> {
  const m = bundle.metadata;
  const n = set.items.length;
  const predictor = await ParallelPredictor.create(bundle.model, m.preprocessing, m.output, workers);
  try {
    return interpretOutput(await predictor.predict(set.pixels, n, 64), n, m);
  } finally {
    await predictor.close();
  }
}
