import { randomInt } from 'node:crypto';
import { HappysadError, OptionError } from '../base/errors.js';
import { PALETTE, renderChartSvg, type ChartSpec } from '../report/renderChart.js';
import { train } from './train.js';
import type { TrainInput } from './trainOptions.js';
import { LEARNING_CURVE_FRACTIONS } from './learningCurveFractions.js';

/** One point: a model trained on a share of the training images, scored on the whole validation split. */
export interface LearningCurvePoint {
  fraction: number;
  trainImages: number;
  validationImages: number;
  balancedAccuracy: number;
  auc: number | null;
}


/**
 * How validation balanced accuracy grows with the number of training images: one training run per
 * share of the training split (trainFraction), all with one seed, so every point is scored on the
 * same validation images and a larger share holds every image of a smaller one. A curve still
 * rising at its right end says more images would help; a flat one, that they would not much.
 * Each run is a full training (fine-tuning with `from`), so this costs a run per share.
 */
export async function learningCurve(dataDir: string, options: TrainInput, fractions: readonly number[] = [...LEARNING_CURVE_FRACTIONS, 1]): Promise<LearningCurvePoint[]> {
  if (fractions.length === 0 || fractions.some((f) => !(f > 0 && f <= 1))) throw new OptionError(`learning-curve shares must be in (0, 1], got ${fractions.join(', ')}`);
  const seed = options.seed ?? randomInt(0, 2 ** 31 - 1);
  const points: LearningCurvePoint[] = [];
  for (const fraction of fractions) {
    options.onEvent?.({ type: 'stage', message: `learning curve: training on ${Math.round(100 * fraction)}% of the training images` });
    const result = await train(dataDir, { ...options, seed, out: undefined, trainFraction: fraction });
    result.bundle.model.dispose();
    if (result.history.interrupted) throw new HappysadError('interrupted', `the learning curve was interrupted while training on ${Math.round(100 * fraction)}% of the training images; nothing was saved`);
    if (!result.validation) throw new OptionError(`a learning curve scores each run on validation images, and ${dataDir} has none (give --val-split above 0, or add ${dataDir}/val/<class>/)`);
    points.push(pointOf(fraction, result.bundle.metadata.training?.options.trainImages, result.validation));
  }
  return points;
}

/** A point from a run's validation report (the full run's too, which records no share). */
export function pointOf(fraction: number, trainImages: unknown, validation: { n: number; balancedAccuracy: number; auc: number | null }): LearningCurvePoint {
  return { fraction, trainImages: Number(trainImages), validationImages: validation.n, balancedAccuracy: validation.balancedAccuracy, auc: validation.auc };
}

/** Validation balanced accuracy against training images, as a vega-lite spec. */
export function learningCurveSpec(points: LearningCurvePoint[], title = 'Learning curve'): ChartSpec {
  // From 0.5 (chance for two classes) unless a point is lower: a curve near chance must still show.
  const low = Math.min(0.5, Math.floor(10 * Math.min(...points.map((p) => p.balancedAccuracy))) / 10);
  return {
    title: { text: title, subtitle: `validation balanced accuracy on the same ${points[0]?.validationImages ?? 0} images; each point a model trained on that many` },
    width: 420,
    height: 240,
    data: { values: points.map((p) => ({ images: p.trainImages, balancedAccuracy: p.balancedAccuracy })) },
    mark: { type: 'line', point: { size: 60, filled: true }, color: PALETTE.blue },
    encoding: {
      x: { field: 'images', type: 'quantitative', title: 'training images', scale: { zero: true } },
      y: { field: 'balancedAccuracy', type: 'quantitative', title: 'balanced accuracy', scale: { domain: [low, 1] } },
    },
  };
}

export async function renderLearningCurveSvg(points: LearningCurvePoint[], title?: string): Promise<string> {
  return renderChartSvg(learningCurveSpec(points, title));
}
