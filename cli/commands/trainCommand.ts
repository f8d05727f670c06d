import { parseInputShape } from '../../src/data/preprocessSpec.js';
import { OptionError } from '../../src/errors.js';
import { formatEvaluationReport } from '../../src/evaluate/computeMetrics.js';
import { train } from '../../src/train/train.js';
import { FACE_DETECTORS, type FaceDetectorKind } from '../../src/faces/types.js';
import { DEFAULT_TRAIN_OPTIONS as D } from '../../src/train/trainOptions.js';
import { createProgressRenderer } from '../progressBar.js';
import { parseCommand, parseImageLimits, parseNumber, parseThreads } from '../parseCommand.js';

export const trainHelp = `happysad train DIR --out MODEL_DIR [options]

Trains a classifier on DIR, either DIR/<class>/ (a seeded, stratified validation split is held
out) or DIR/{train,val,test}/<class>/. Writes the model bundle, history.json and training curves
(PNG, SVG) to MODEL_DIR; the best epoch so far is saved as it is found, so Ctrl-C keeps it.
MODEL_DIR must be new or empty, outside DIR; --overwrite replaces a model already there, which
is kept as MODEL_DIR.previous (moved aside at the new run's first checkpoint, not before).

  --arch NAME          seed-a (Model A, 128x128x3) or seed-b (Model B, 256x256x3)   [${D.arch}]
  --input HxWxC        input size, e.g. 48x48x1                         [the arch's own]
  --epochs N           most epochs                                                  [${D.epochs}]
  --patience N         early stopping: epochs without val-loss improvement          [${D.patience}]
  --overwrite          replace a model already at --out (kept as MODEL_DIR.previous)
  --no-restore-best    keep the last epoch's weights, not the best
  --batch N            batch size                                                   [${D.batch}]
  --seed N             seed of every random choice                  [random, recorded]
  --val-split F        validation fraction for the class-folders layout             [${D.valSplit}]
  --augment            random flips, shifts, rotation, zoom, brightness and contrast
  --lr F               Adam learning rate                                           [${D.learningRate}]
  --positive CLASS     class whose probability is the score        [happy, if present]
  --workers N          threads per batch (same model for any N)          [all cores]
  --label-smoothing F  pull training targets toward 0.5 by F                        [0]
  --class-weight balanced   weigh each class's loss by N / (K * N_class)
  --tune-threshold     choose the decision threshold on validation (balanced accuracy)
  --tta                average each prediction with its mirror image (stored in the model)
  --faces              a face model: crop each training image's most prominent face, as predict
                       will crop every face it finds (crops cached under ~/.cache/happysad)
  --faces-precropped   a face model trained on images that already are face crops (FER2013)
  --face-margin F      fraction of the face box added on each side of the crop         [0.2]
  --face-detector NAME blazeface, blazeface-front, ssd or tiny                    [blazeface]
  --min-side PX, --max-pixels N, --lenient-decode   image checks (see happysad clean)`;

export async function trainCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, trainHelp, {
    out: { type: 'string', short: 'o' },
    arch: { type: 'string' },
    input: { type: 'string' },
    epochs: { type: 'string' },
    patience: { type: 'string' },
    'no-restore-best': { type: 'boolean', default: false },
    batch: { type: 'string' },
    workers: { type: 'string' },
    seed: { type: 'string' },
    'val-split': { type: 'string' },
    augment: { type: 'boolean', default: false },
    'label-smoothing': { type: 'string' },
    'class-weight': { type: 'string' },
    'tune-threshold': { type: 'boolean', default: false },
    tta: { type: 'boolean', default: false },
    faces: { type: 'boolean', default: false },
    'faces-precropped': { type: 'boolean', default: false },
    'face-margin': { type: 'string' },
    'face-detector': { type: 'string' },
    lr: { type: 'string' },
    positive: { type: 'string' },
    'min-side': { type: 'string' },
    'max-pixels': { type: 'string' },
    'lenient-decode': { type: 'boolean', default: false },
    overwrite: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) throw new OptionError(`train takes one dataset folder\n\n${trainHelp}`);
  if (!values.out) throw new OptionError(`train needs --out MODEL_DIR: where to save the model\n\n${trainHelp}`);
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    if (++interrupts > 1) process.exit(130);
    process.stderr.write(`\nstopping after this batch; the best model so far stays in ${values.out} (Ctrl-C again to quit now)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const result = await train(positionals[0], {
      out: values.out,
      overwrite: values.overwrite,
      arch: values.arch,
      input: values.input ? parseInputShape(values.input) : undefined,
      epochs: parseNumber(values.epochs, 'epochs', { integer: true, min: 1 }),
      patience: parseNumber(values.patience, 'patience', { integer: true, min: 1 }),
      restoreBest: !values['no-restore-best'],
      batch: parseNumber(values.batch, 'batch', { integer: true, min: 1 }),
      seed: parseNumber(values.seed, 'seed', { integer: true, min: 0, max: 2 ** 31 - 1 }),
      valSplit: parseNumber(values['val-split'], 'val-split', { min: 0, max: 0.99 }),
      augment: values.augment,
      labelSmoothing: parseNumber(values['label-smoothing'], 'label-smoothing', { min: 0, max: 0.5 }),
      classWeight: parseClassWeight(values['class-weight']),
      tuneThreshold: values['tune-threshold'],
      testTimeFlip: values.tta,
      faces: values.faces ? 'detect' : values['faces-precropped'] ? 'precropped' : undefined,
      faceCrop: {
        ...(values['face-margin'] ? { margin: parseNumber(values['face-margin'], 'face-margin', { min: 0, max: 4 }) } : {}),
        ...(values['face-detector'] ? { detector: parseDetector(values['face-detector']) } : {}),
      },
      learningRate: parseNumber(values.lr, 'lr', { min: 0 }),
      positiveClass: values.positive,
      workers: parseThreads(values.workers, 'workers'),
      limits: parseImageLimits(values),
      signal: controller.signal,
      onEvent: createProgressRenderer(),
    });
    const t = result.bundle.metadata.training!;
    const e = process.stdout;
    if (values.json) {
      e.write(`${JSON.stringify({ out: values.out, seed: result.bundle.metadata.seed, epochsRun: t.epochsRun, bestEpoch: t.bestEpoch, stoppedEarly: t.stoppedEarly, interrupted: t.interrupted, seconds: t.seconds, validation: result.validation, test: result.test })}\n`);
      return t.interrupted ? 130 : 0;
    }
    e.write(`\n${t.interrupted ? 'Interrupted' : t.stoppedEarly ? 'Stopped early' : 'Finished'} after ${t.epochsRun} epoch(s) in ${t.seconds.toFixed(0)}s; weights of epoch ${t.bestEpoch} saved to ${values.out} (seed ${result.bundle.metadata.seed})\n`);
    if (result.validation) e.write(`\nValidation\n${formatEvaluationReport(result.validation)}\n`);
    if (result.test) e.write(`\nTest\n${formatEvaluationReport(result.test)}\n`);
    e.write(`\ncurves: ${values.out}/training-curves.png\n`);
    // Interrupted is not success, even though the best model so far was saved: a script must not
    // carry on as if training had finished (128 + SIGINT, as a second Ctrl-C gives).
    return t.interrupted ? 130 : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function parseClassWeight(v: string | undefined): 'none' | 'balanced' | undefined {
  if (v === undefined || v === 'none' || v === 'balanced') return v;
  throw new OptionError(`--class-weight ${v}: choose balanced or none`);
}

function parseDetector(v: string): FaceDetectorKind {
  if ((FACE_DETECTORS as readonly string[]).includes(v)) return v as FaceDetectorKind;
  throw new OptionError(`--face-detector ${v}: choose one of ${FACE_DETECTORS.join(', ')}`);
}
