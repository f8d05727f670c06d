import { availableParallelism } from 'node:os';
import { OptionError } from '../../src/errors.js';
import { formatEvaluationReport } from '../../src/evaluate/computeMetrics.js';
import { evaluate } from '../../src/evaluate/evaluate.js';
import { loadModel } from '../../src/predict/classifier.js';
import { parseCommand, parseNumber, parseThreads } from '../parseCommand.js';
import { resolveModelDir } from '../resolveModel.js';

export const evaluateHelp = `happysad evaluate DIR [--model MODEL_DIR] [--json] [--split test|val|train] [--batch N] [--workers N] [--no-faces]

Scores a model on labelled images: DIR/<class>/ (all of it) or a train/val/test layout (its test
split, or val when there is no test). On class folders, --split val rebuilds the exact held-out
split the model was trained with, from the seed and fraction recorded in the model. Prints
accuracy, balanced accuracy, per-class precision / recall / F1, ROC AUC and the confusion matrix.
Without --model, scores the default face model. A face model crops each image's most prominent
face first, as predict does; --no-faces scores the images as they are, for data that already is
face crops (FER2013).`;

export async function evaluateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, evaluateHelp, {
    model: { type: 'string', short: 'm' },
    json: { type: 'boolean', default: false },
    'no-faces': { type: 'boolean', default: false },
    split: { type: 'string' },
    batch: { type: 'string' },
    workers: { type: 'string' },
  });
  if (positionals.length !== 1) throw new OptionError(`evaluate takes one dataset folder\n\n${evaluateHelp}`);
  if (values.split && !['train', 'val', 'test'].includes(values.split)) throw new OptionError(`--split ${values.split}: choose train, val or test`);
  const modelDir = resolveModelDir(values.model);
  const classifier = await loadModel(modelDir, { workers: parseThreads(values.workers, 'workers') ?? availableParallelism() });
  const result = await evaluate(positionals[0], classifier, { split: values.split as never, faces: !values['no-faces'], batch: parseNumber(values.batch, 'batch', { integer: true, min: 1 }) });
  await classifier.close();
  if (values.json) {
    console.log(JSON.stringify({ model: modelDir, split: result.split, skipped: result.skipped.length, ...result.report }));
  } else {
    console.log(`model ${modelDir} on ${positionals[0]} (${result.split === 'all' ? 'all images' : `${result.split} split`})${result.skipped.length ? `, ${result.skipped.length} file(s) skipped` : ''}\n`);
    console.log(formatEvaluationReport(result.report));
  }
  return 0;
}
