import { parseInputShape } from '../../src/input/preprocessSpec.js';
import { OptionError } from '../../src/base/errors.js';
import { formatEvaluationReport } from '../../src/evaluate/computeMetrics.js';
import { randomInt } from 'node:crypto';
import { basename, join } from 'node:path';
import { train } from '../../src/train/train.js';
import type { TrainInput } from '../../src/train/trainOptions.js';
import { learningCurve, pointOf, renderLearningCurveSvg, type LearningCurvePoint } from '../../src/train/learningCurve.js';
import { LEARNING_CURVE_FRACTIONS } from '../../src/train/learningCurveFractions.js';
import { claimBundleOutput } from '../../src/model/bundleOutput.js';
import { writeFileAtomic } from '../../src/io/atomicWrite.js';
import type { BundleMetadata } from '../../src/model/bundleMetadata.js';
import { countProblems } from '../../src/data/problemKinds.js';
import type { LearnedNothingCode } from '../../src/evaluate/learnedNothing.js';
import { FACE_DETECTORS, type FaceDetectorKind } from '../../src/input/preprocessSpec.js';
import { createProgressRenderer } from '../progressBar.js';
import { parseCommand, parseImageLimits, parseNumber, parseThreads } from '../parseCommand.js';

const LEARNED_NOTHING = new Set<string>(['collapsed', 'at-chance'] satisfies LearnedNothingCode[]);

export async function trainCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, 'train');
  if (positionals.length !== 1) throw new OptionError(`train takes one dataset folder (happysad help train)`);
  if (!values.out) throw new OptionError(`train needs --out MODEL_DIR: where to save the model (happysad help train)`);
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    if (++interrupts > 1) process.exit(130);
    const kept = values.from ? `a single model's best epoch so far stays in ${values.out}; an ensemble's members are saved only once all are trained` : `the best model so far stays in ${values.out}`;
    process.stderr.write(`\nstopping after this batch; ${kept} (Ctrl-C again to quit now)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    if (values.augment && values['no-augment']) throw new OptionError('give --augment or --no-augment, not both');
    if (values['no-augment'] && !values.from) throw new OptionError('--no-augment only changes a --from run (training from scratch has no augmentation unless --augment is given)');
    // One seed for the curve's runs and the model: the same validation images throughout.
    const seed = parseNumber(values.seed, 'seed', { integer: true, min: 0, max: 2 ** 31 - 1 }) ?? (values['learning-curve'] ? randomInt(0, 2 ** 31 - 1) : undefined);
    if (values['learning-curve']) await claimBundleOutput(values.out, { overwrite: values.overwrite, inputs: [positionals[0]] });
    const options: TrainInput = {
      from: values.from,
      teacher: values.teacher,
      distillWeight: parseNumber(values['distill-weight'], 'distill-weight', { min: 0, max: 1 }),
      out: values.out,
      overwrite: values.overwrite,
      arch: values.arch,
      input: values.input ? parseInputShape(values.input) : undefined,
      epochs: parseNumber(values.epochs, 'epochs', { integer: true, min: 1 }),
      patience: parseNumber(values.patience, 'patience', { integer: true, min: 1 }),
      restoreBest: !values['no-restore-best'],
      batch: parseNumber(values.batch, 'batch', { integer: true, min: 1 }),
      seed,
      valSplit: parseNumber(values['val-split'], 'val-split', { min: 0, max: 0.99 }),
      augment: values.augment ? true : values['no-augment'] ? false : undefined,
      labelSmoothing: parseNumber(values['label-smoothing'], 'label-smoothing', { min: 0, max: 0.5 }),
      classWeight: parseClassWeight(values['class-weight']),
      tuneThreshold: values['tune-threshold'] || undefined,
      calibrate: values.calibrate || undefined,
      testTimeFlip: values.tta || undefined,
      faces: values.faces ? 'detect' : values['faces-precropped'] ? 'precropped' : undefined,
      faceCrop: {
        ...(values['face-margin'] ? { margin: parseNumber(values['face-margin'], 'face-margin', { min: 0, max: 4 }) } : {}),
        ...(values['face-detector'] ? { detector: parseDetector(values['face-detector']) } : {}),
      },
      learningRate: parseNumber(values.lr, 'lr', { min: 0 }),
      positiveClass: values.positive,
      neitherClass: values.neither,
      workers: parseThreads(values.workers, 'workers'),
      limits: parseImageLimits(values),
      signal: controller.signal,
      onEvent: createProgressRenderer(),
    };
    const shares = values['learning-curve'] ? await learningCurve(positionals[0], options, LEARNING_CURVE_FRACTIONS) : undefined;
    const result = await train(positionals[0], options);
    const curve = shares && result.validation ? await writeLearningCurve(values.out, [...shares, pointOf(1, trainImagesOf(result.bundle.metadata), result.validation)], positionals[0]) : undefined;
    const t = result.bundle.metadata.training!;
    const e = process.stdout;
    if (values.json) {
      e.write(`${JSON.stringify({ out: values.out, ...(curve ? { learningCurve: curve.points } : {}), startedFrom: result.bundle.metadata.startedFrom ?? null, ...(result.members ? { members: result.members.map((m) => ({ name: m.name, epochsRun: m.history.epochs.length, bestEpoch: m.history.bestEpoch ?? null })) } : {}), seed: result.bundle.metadata.seed, epochsRun: t.epochsRun, bestEpoch: t.bestEpoch, stoppedEarly: t.stoppedEarly, interrupted: t.interrupted, seconds: t.seconds, calibration: result.bundle.metadata.calibration ?? null, validation: result.validation, test: result.test, skipped: result.skipped.length, skippedByKind: countProblems(result.skipped), warnings: result.warnings })}\n`);
      return t.interrupted ? 130 : 0;
    }
    if (result.members) e.write(`\nFine-tuned ${result.members.length} members in ${t.seconds.toFixed(0)}s (${result.members.map((m) => `${m.name}: ${m.history.epochs.length} epochs, best ${m.history.bestEpoch}`).join('; ')}); their average saved to ${values.out} (seed ${result.bundle.metadata.seed})\n`);
    else e.write(`\n${t.interrupted ? 'Interrupted' : t.stoppedEarly ? 'Stopped early' : 'Finished'} after ${t.epochsRun} epoch(s) in ${t.seconds.toFixed(0)}s; weights of epoch ${t.bestEpoch} saved to ${values.out} (seed ${result.bundle.metadata.seed})\n`);
    const c = result.bundle.metadata.calibration;
    if (c) e.write(`\nCalibrated on validation: temperature ${c.temperature.toFixed(3)}, expected calibration error ${c.eceBefore.toFixed(3)} -> ${c.eceAfter.toFixed(3)}; the figures below are the calibrated model's\n`);
    if (result.validation) e.write(`\nValidation\n${formatEvaluationReport(result.validation)}\n`);
    if (result.test) e.write(`\nTest\n${formatEvaluationReport(result.test)}\n`);
    const s = result.bundle.metadata.startedFrom;
    if (s) e.write(`\nStarted from ${s.from === s.dir || !s.dir ? s.from : `${s.from} (${s.dir})`}${s.members ? `, its ${s.members} members fine-tuned one by one` : ''}${s.validationBefore ? `; on these validation images it scored balanced accuracy ${s.validationBefore.balancedAccuracy.toFixed(3)}${s.validationBefore.forcedChoice ? ` (forced choice ${s.validationBefore.forcedChoice.balancedAccuracy.toFixed(3)})` : ''} before fine-tuning` : ''}\n`);
    e.write(`\ncurves: ${result.members ? result.members.map((m) => `${values.out}/training-curves-${m.name}.svg`).join(', ') : `${values.out}/training-curves.png`}\n`);
    if (curve) {
      e.write(`\nLearning curve (${curve.file}): validation balanced accuracy on the same ${curve.points[0]!.validationImages} images\n`);
      for (const p of curve.points) e.write(`  ${String(p.trainImages).padStart(6)} training images (${String(Math.round(100 * p.fraction)).padStart(3)}%)  ${p.balancedAccuracy.toFixed(3)}\n`);
    }
    // Said during the run too, but a model that learned nothing must be the last thing read, not a line scrolled past.
    for (const w of result.warnings.filter((x) => LEARNED_NOTHING.has(x.code))) e.write(`\nWARNING: ${w.message}\n`);
    // Interrupted is not success, even though the best model so far was saved: a script must not
    // carry on as if training had finished (128 + SIGINT, as a second Ctrl-C gives).
    return t.interrupted ? 130 : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** The training images a model was trained on, from its dataset record. */
function trainImagesOf(m: BundleMetadata): number {
  return Object.values(m.dataset?.counts.train ?? {}).reduce((a, b) => a + b, 0);
}

async function writeLearningCurve(out: string, points: LearningCurvePoint[], dataDir: string): Promise<{ file: string; points: LearningCurvePoint[] }> {
  const file = join(out, 'learning-curve.svg');
  await writeFileAtomic(file, await renderLearningCurveSvg(points, `Learning curve on ${basename(dataDir)}`));
  await writeFileAtomic(join(out, 'learning-curve.json'), `${JSON.stringify(points, null, 2)}\n`);
  return { file, points };
}

function parseClassWeight(v: string | undefined): 'none' | 'balanced' | undefined {
  if (v === undefined || v === 'none' || v === 'balanced') return v;
  throw new OptionError(`--class-weight ${v}: choose balanced or none`);
}

function parseDetector(v: string): FaceDetectorKind {
  if ((FACE_DETECTORS as readonly string[]).includes(v)) return v as FaceDetectorKind;
  throw new OptionError(`--face-detector ${v}: choose one of ${FACE_DETECTORS.join(', ')}`);
}
