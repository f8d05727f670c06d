import { prepareDataset, type PreparedDataset } from '../data/prepareDataset.js';
import { describeSkipped } from '../data/problemKinds.js';
import type { ImageLimits } from '../input/imageLimits.js';
import type { PreprocessSpec } from '../input/preprocessSpec.js';
import type { TrainEvent } from './trainOptions.js';

export interface TrainingDataOptions {
  spec: PreprocessSpec;
  seed: number;
  valSplit: number;
  limits: ImageLimits;
  faces?: 'detect' | 'precropped';
}

/**
 * A training folder decoded, checked and split as train() uses it, with every finding about the
 * data said once as a warning (skipped files, leaks, shortcuts, conflicting labels). Its own step
 * so that fine-tuning an ensemble prepares the data once for all its members.
 */
export async function prepareTrainingData(dataDir: string, o: TrainingDataOptions, emit: (e: TrainEvent) => void): Promise<PreparedDataset> {
  const data = await prepareDataset(dataDir, { spec: o.spec, splits: ['train', 'val', 'test'], valSplit: o.valSplit, seed: o.seed, limits: o.limits, faces: o.faces === 'detect' ? 'detect' : undefined, nearDuplicates: true, audit: true, onStage: (message) => emit({ type: 'stage', message }) });
  if (data.skipped.length) emit({ type: 'warning', code: 'skipped', message: `${describeSkipped(data.skipped, data.nearDuplicateProblems, data.dataset.files.length)} (run \`happysad clean ${dataDir}\` for the list)` });
  if (data.leaks.length) emit({ type: 'warning', code: 'leak', message: `TRAIN/EVALUATION LEAK: ${data.leaks.length} evaluation image(s) are copies (exact or near) of training images; they were excluded from evaluation (\`happysad clean ${dataDir}\` lists them)` });
  for (const s of data.shortcuts) emit({ type: 'warning', code: 'shortcut', message: `SHORTCUT: ${s.attribute} alone tells the classes apart (cross-validated balanced accuracy ${s.balancedAccuracy.toFixed(2)}): ${s.detail}` });
  const conflicting = data.nearDuplicates.filter((g) => g.conflictingLabels);
  if (conflicting.length) emit({ type: 'warning', code: 'conflicting-labels', message: `CONFLICTING LABELS: ${conflicting.length} picture(s) look the same under more than one class (e.g. ${conflicting[0]!.files.join(' and ')}); check them (\`happysad clean ${dataDir}\` lists them all)` });
  return data;
}
