import { availableParallelism } from 'node:os';
import { OptionError } from '../../src/errors.js';
import { formatEvaluationReport } from '../../src/evaluate/computeMetrics.js';
import { evaluate } from '../../src/evaluate/evaluate.js';
import { loadModel } from '../../src/predict/classifier.js';
import { parseCommand, parseNumber, parseThreads } from '../parseCommand.js';
import { resolveModelDir } from '../resolveModel.js';

export async function evaluateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, 'evaluate');
  if (positionals.length !== 1) throw new OptionError(`evaluate takes one dataset folder (happysad help evaluate)`);
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
