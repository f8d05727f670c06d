import type { ImageSet } from '../data/loadImages.js';
import type { ImageRecord } from '../data/prepareDataset.js';
import { bestThreshold } from '../evaluate/bestThreshold.js';
import type { EvaluationReport } from '../evaluate/computeMetrics.js';
import { fitCalibration } from '../evaluate/fitCalibration.js';
import { learnedNothingWarning } from '../evaluate/learnedNothing.js';
import { scoreOutputs } from '../evaluate/scoreOutputs.js';
import type { ForcedChoiceRecord, TemperatureCalibration } from '../model/bundleMetadata.js';
import type { DecisionRule } from '../predict/interpretOutput.js';
import type { TrainEvent } from './trainOptions.js';
import { forcedChoiceOnValidation } from './tuneForcedChoice.js';

export interface SettleInput {
  /** The trained model's rule before this step (its threshold is kept unless tuned). */
  rule: Pick<DecisionRule, 'classes' | 'output' | 'positiveClass' | 'threshold'>;
  val?: ImageSet<ImageRecord>;
  test?: ImageSet<ImageRecord>;
  /** The final weights' raw outputs on a set. */
  rawOf: (set: ImageSet<ImageRecord>) => Promise<ArrayLike<number>>;
  /** True class indices (into rule.classes) of a set. */
  truthOf: (set: ImageSet<ImageRecord>) => number[];
  options: { tuneThreshold: boolean; calibrate?: boolean; neitherClass?: string; patience: number };
  /** What calibration records it was fitted on. */
  fittedOn: string;
  /** For the learned-nothing advice. */
  faces: boolean;
  fromTrained: boolean;
  /** 'averaged': the mean of fine-tuned members, as the messages say. */
  subject?: 'model' | 'averaged';
  emit: (event: TrainEvent) => void;
}

export interface Settled {
  threshold: number;
  calibration?: TemperatureCalibration;
  forcedChoice?: ForcedChoiceRecord;
  validation?: EvaluationReport;
  test?: EvaluationReport;
}

/**
 * What training settles on validation once the weights are final, in this order: the decision
 * threshold, the calibration (which moves a sigmoid threshold with it), the forced-choice threshold
 * (on calibrated probabilities), then the recorded figures and the learned-nothing check. The
 * validation images go through the model once, however many of these steps use them.
 */
export async function settleOnValidation(s: SettleInput): Promise<Settled> {
  const { val, emit } = s;
  // Only these fields: a calibration or forced-choice record the input carries is what this step replaces.
  const rule = { classes: s.rule.classes, output: s.rule.output, positiveClass: s.rule.positiveClass, threshold: s.rule.threshold };
  const valSet = val?.items.length ? val : undefined;
  let valRaw: Promise<ArrayLike<number>> | undefined;
  const rawOf = (set: ImageSet<ImageRecord>) => {
    if (set !== valSet) return s.rawOf(set);
    valRaw ??= s.rawOf(set);
    return valRaw;
  };
  let threshold = rule.threshold;
  let calibration: TemperatureCalibration | undefined;
  if (s.options.tuneThreshold && rule.output === 'sigmoid' && valSet) {
    const positive = rule.classes.indexOf(rule.positiveClass);
    threshold = bestThreshold(await rawOf(valSet), s.truthOf(valSet).map((t) => t === positive));
    emit({ type: 'stage', message: `${s.subject === 'averaged' ? 'the averaged members\' decision threshold, tuned' : 'decision threshold tuned'} on validation for balanced accuracy: ${threshold.toFixed(4)}` });
  }
  if (s.options.calibrate && valSet) {
    const fit = fitCalibration(await rawOf(valSet), s.truthOf(valSet), { ...rule, threshold }, s.fittedOn);
    ({ calibration } = fit);
    threshold = fit.rule.threshold;
    emit({ type: 'stage', message: `${s.subject === 'averaged' ? 'calibration refitted' : 'calibrated'} on validation: temperature ${fit.calibration.temperature.toFixed(3)}, expected calibration error ${fit.calibration.eceBefore.toFixed(3)} -> ${fit.calibration.eceAfter.toFixed(3)}` });
    // The temperature minimises log-loss; on few images, or for a model that has learned little, binned ECE can disagree.
    if (fit.calibration.eceAfter > fit.calibration.eceBefore) emit({ type: 'warning', code: 'calibration-raised-ece', message: `calibration raised the validation ECE (${fit.calibration.eceBefore.toFixed(3)} -> ${fit.calibration.eceAfter.toFixed(3)}) while lowering its log-loss: too few validation images (${fit.calibration.n}) to bin, or a model that learned little; check with happysad evaluate` });
  }
  const settled = { ...rule, threshold, calibration };
  // A model with a neither class (happy, neutral, sad) records the pair forced choice decides between.
  const forcedChoice = await forcedChoiceOnValidation({ ...settled, neitherClass: s.options.neitherClass }, valSet && { raw: () => rawOf(valSet), truth: s.truthOf(valSet) }, emit);
  const scored = async (set: ImageSet<ImageRecord> | undefined) => (set?.items.length ? scoreOutputs(await rawOf(set), s.truthOf(set), settled).report : undefined);
  const validation = await scored(valSet);
  const test = await scored(s.test);
  // A model that learned nothing is still saved (the user may want to look at it) but never quietly.
  const heldOut = validation ?? test;
  const nothing = heldOut && learnedNothingWarning(heldOut, validation ? 'validation images' : 'test images', { faces: s.faces, patience: s.options.patience, fromTrained: s.fromTrained });
  if (nothing) emit({ type: 'warning', ...nothing });
  return { threshold, ...(calibration ? { calibration } : {}), ...(forcedChoice ? { forcedChoice } : {}), ...(validation ? { validation } : {}), ...(test ? { test } : {}) };
}
