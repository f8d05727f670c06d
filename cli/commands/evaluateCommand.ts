import { availableParallelism } from 'node:os';
import { OptionError } from '../../src/base/errors.js';
import { formatEvaluationReport } from '../../src/evaluate/computeMetrics.js';
import { evaluate } from '../../src/evaluate/evaluate.js';
import { evaluationWarning } from '../../src/evaluate/learnedNothing.js';
import { countProblems, describeSkipped } from '../../src/data/problemKinds.js';
import { loadModel } from '../../src/predict/classifier.js';
import { writeEvaluationReport } from '../../src/report/evaluationReport.js';
import { claimReportOutput } from '../../src/report/reportOutput.js';
import { parseCommand, parseNumber, parseThreads } from '../parseCommand.js';
import { resolveModelDir } from '../resolveModel.js';

export async function evaluateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, 'evaluate');
  if (positionals.length !== 1) throw new OptionError(`evaluate takes one dataset folder (happysad help evaluate)`);
  if (values.split && !['train', 'val', 'test'].includes(values.split)) throw new OptionError(`--split ${values.split}: choose train, val or test`);
  // A folder the report may not go into is refused before the evaluation, not after it.
  if (values.report !== undefined) await claimReportOutput(values.report, { inputs: [positionals[0]] });
  const modelDir = resolveModelDir(values.model);
  const classifier = await loadModel(modelDir, { workers: parseThreads(values.workers, 'workers') ?? availableParallelism() });
  const result = await evaluate(positionals[0], classifier, { split: values.split as never, faces: !values['no-faces'], batch: parseNumber(values.batch, 'batch', { integer: true, min: 1 }) });
  await classifier.close();
  const written = values.report ? await writeEvaluationReport(result, classifier.bundle, values.report) : undefined;
  const warning = evaluationWarning(result, classifier.bundle.metadata);
  if (values.json) {
    console.log(JSON.stringify({ model: modelDir, split: result.split, skipped: result.skipped.length, skippedByKind: countProblems(result.skipped), ...result.report, warnings: warning ? [warning] : [], ...(written ? { report: written.html } : {}) }));
  } else {
    console.log(`model ${modelDir} on ${positionals[0]} (${result.split === 'all' ? 'all images' : `${result.split} split`})`);
    if (result.skipped.length || result.checked.nearDuplicateProblems.length) console.log(describeSkipped(result.skipped, result.checked.nearDuplicateProblems, result.checked.files));
    // First, before the figures: a reader who sees 50% accuracy should already know why.
    if (warning) console.log(`\nWARNING: ${warning.message}`);
    console.log('');
    console.log(formatEvaluationReport(result.report));
    if (written) console.log(`\nreport: ${written.html}${written.replaced ? ' (replaces the earlier report there)' : ''}`);
  }
  return 0;
}
