import { availableParallelism } from 'node:os';
import { OptionError } from '../../src/base/errors.js';
import { formatEvaluationReport } from '../../src/evaluate/computeMetrics.js';
import { evaluate, type EvaluateResult } from '../../src/evaluate/evaluate.js';
import { evaluationWarning } from '../../src/evaluate/learnedNothing.js';
import { countProblems, describeSkipped } from '../../src/data/problemKinds.js';
import { loadModel } from '../../src/predict/classifier.js';
import { forcedChoicePair } from '../../src/predict/forcedChoice.js';
import type { ModelBundle } from '../../src/model/modelBundle.js';
import { writeEvaluationReport, type ReportedModel } from '../../src/report/evaluationReport.js';
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
  const forcedChoice = values['forced-choice'];
  const classifier = await loadModel(modelDir, { workers: parseThreads(values.workers, 'workers') ?? availableParallelism() });
  let result: EvaluateResult;
  try {
    result = await evaluate(positionals[0], classifier, { split: values.split as never, faces: !values['no-faces'], forcedChoice, batch: parseNumber(values.batch, 'batch', { integer: true, min: 1 }) });
  } finally {
    await classifier.close();
  }
  const written = values.report ? await writeEvaluationReport(result, forcedChoice ? forcedChoiceView(classifier.bundle) : classifier.bundle, values.report) : undefined;
  const warning = evaluationWarning(result, classifier.bundle.metadata);
  const leftOut = result.leftOut ? `; ${result.leftOut} image(s) of other classes left out` : '';
  if (values.json) {
    console.log(JSON.stringify({ model: modelDir, split: result.split, skipped: result.skipped.length, skippedByKind: countProblems(result.skipped), warnings: warning ? [warning] : [], ...(forcedChoice ? { forcedChoiceOnly: true, leftOut: result.leftOut ?? 0 } : {}), ...result.report, ...(result.forcedChoice ? { forcedChoice: result.forcedChoice } : {}), ...(written ? { report: written.html } : {}) }));
  } else {
    console.log(`model ${modelDir} on ${positionals[0]} (${result.split === 'all' ? 'all images' : `${result.split} split`})${forcedChoice ? `, forced choice between ${result.report.classes.join(' and ')}${leftOut}` : ''}`);
    if (result.skipped.length || result.checked.nearDuplicateProblems.length) console.log(describeSkipped(result.skipped, result.checked.nearDuplicateProblems, result.checked.files));
    // First, before the figures: a reader who sees 50% accuracy should already know why.
    if (warning) console.log(`\nWARNING: ${warning.message}`);
    console.log('');
    if (result.forcedChoice) console.log(`The model's own answers (${result.report.classes.join(', ')}; an image it calls by a class it does not have here counts as wrong):\n`);
    console.log(formatEvaluationReport(result.report));
    if (result.forcedChoice) {
      console.log(`\nForced choice between ${result.forcedChoice.classes.join(' and ')} (threshold ${Number(result.forcedChoice.threshold.toFixed(4))} on p(${result.forcedChoice.positiveClass}) / (p(${result.forcedChoice.classes.join(') + p(')})); images of other classes left out):\n`);
      console.log(formatEvaluationReport(result.forcedChoice));
    }
    if (written) console.log(`\nreport: ${written.html}${written.replaced ? ' (replaces the earlier report there)' : ''}`);
  }
  return 0;
}

/**
 * The model as the forced-choice report describes it: a two-class model over the pair, deciding at
 * the pair's threshold, so that curves, operating point and mistakes use the rule that made the labels.
 */
function forcedChoiceView(bundle: ModelBundle): ReportedModel {
  const pair = forcedChoicePair(bundle.metadata);
  if (!pair) return bundle;
  const classes = bundle.metadata.classes.filter((_, k) => k === pair.positive || k === pair.other);
  return { dir: bundle.dir, metadata: { ...bundle.metadata, classes, threshold: pair.threshold } };
}
