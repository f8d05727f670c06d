import type { ImageSet } from '../data/loadImages.js';
import type { ImageRecord } from '../data/prepareDataset.js';
import { scoreForcedChoice } from '../evaluate/forcedChoiceReport.js';
import { scoreDecisions } from '../evaluate/scoreOutputs.js';
import type { StartedFrom } from '../model/bundleMetadata.js';
import type { ModelBundle } from '../model/modelBundle.js';
import { optionalForcedChoicePair } from '../predict/forcedChoice.js';
import { decisionsOnImages } from './decisionsOnImages.js';

/**
 * How a trained model scores, as it is, on the validation images of a run that fine-tunes it: the
 * figure the fine-tuned model has to beat, on exactly its images and face crops. Its own rule
 * (threshold, calibration); for a model with a neither class, the forced choice between its pair
 * too, over the images of those two classes. Undefined when the data has a class it does not know.
 */
export async function scoreStart(bundle: ModelBundle, set: ImageSet<ImageRecord>): Promise<StartedFrom['validationBefore']> {
  const m = bundle.metadata;
  const n = set.items.length;
  if (n === 0 || set.items.some((r) => !m.classes.includes(r.label))) return undefined;
  const decisions = await decisionsOnImages(bundle, set);
  const truth = set.items.map((r) => m.classes.indexOf(r.label));
  const report = scoreDecisions(decisions, truth, m);
  const pair = optionalForcedChoicePair(m);
  const forced = pair ? scoreForcedChoice(decisions, truth, m, pair) : undefined;
  return {
    balancedAccuracy: report.balancedAccuracy,
    auc: report.auc,
    n,
    ...(forced?.kept.length ? { forcedChoice: { balancedAccuracy: forced.report.balancedAccuracy, auc: forced.report.auc, n: forced.kept.length } } : {}),
  };
}
