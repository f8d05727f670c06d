import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initEngine } from '../../src/engine/engine.js';
import { OptionError } from '../../src/errors.js';
import { discoverDataset, type Split } from '../../src/data/discoverDataset.js';
import { bestThreshold } from '../../src/evaluate/bestThreshold.js';
import { computeMetrics, formatEvaluationReport, type EvaluationReport } from '../../src/evaluate/computeMetrics.js';
import { evaluate, type EvaluateResult } from '../../src/evaluate/evaluate.js';
import { ensembleBundles } from '../../src/model/ensembleBundles.js';
import { readBundle, saveBundle } from '../../src/model/modelBundle.js';
import { claimBundleOutput, writeClaimedBundle } from '../../src/model/bundleOutput.js';
import type { BundleMetadata } from '../../src/model/bundleMetadata.js';
import { loadModel } from '../../src/predict/classifier.js';
import { interpretOutput } from '../../src/predict/interpretOutput.js';
import { parseCommand, parseNumber, parseThreads } from '../parseCommand.js';

export const ensembleHelp = `happysad ensemble MODEL_DIR MODEL_DIR... --out DIR [options]

Averages the probabilities of several models into one model bundle that predict, evaluate, serve
and the browser run like any other. The models must share classes and preprocessing (input size,
colour, scaling, face crop); train them with different --seed values for the average to help.

  --out DIR            where to write the ensemble: a new or empty folder
  --overwrite          replace a model already at --out (kept as DIR.previous)
  --tune DIR           labelled images none of the models trained on: the decision threshold is set
                       for the best balanced accuracy there, and the figures recorded as validation
                       metrics (without it: the mean of the members' thresholds)
  --tune-split S       split of DIR to tune on when it has train/val/test folders   [val]
                       (a folder of class folders is used whole)
  --test DIR           labelled images to score the result on, recorded as test metrics
  --test-split S       split of the --test folder, when it has split folders        [test]
  --threshold X        fix the threshold instead of tuning it
  --no-faces           score --tune / --test images as they are (already face crops)
  --name NAME          name recorded in the bundle                                 [ensemble]
  --workers N          inference threads                                         [all cores]
  --json               print the result as one JSON line`;

export async function ensembleCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, ensembleHelp, {
    out: { type: 'string', short: 'o' },
    tune: { type: 'string' },
    'tune-split': { type: 'string' },
    test: { type: 'string' },
    'test-split': { type: 'string' },
    threshold: { type: 'string' },
    'no-faces': { type: 'boolean', default: false },
    name: { type: 'string' },
    workers: { type: 'string' },
    overwrite: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length < 2) throw new OptionError(`ensemble takes two or more model folders\n\n${ensembleHelp}`);
  if (!values.out) throw new OptionError(`ensemble needs --out DIR: where to write the ensemble\n\n${ensembleHelp}`);
  for (const flag of ['tune-split', 'test-split'] as const) {
    if (values[flag] !== undefined && !['train', 'val', 'test'].includes(values[flag])) throw new OptionError(`--${flag} ${values[flag]}: choose train, val or test`);
  }
  const fixed = parseNumber(values.threshold, 'threshold', { min: 0, max: 1 });
  if (fixed !== undefined && values.tune) throw new OptionError('give --threshold or --tune, not both');
  const workers = parseThreads(values.workers, 'workers') ?? availableParallelism();
  const out = await claimBundleOutput(values.out, { overwrite: values.overwrite, inputs: [...positionals, ...(values.tune ? [values.tune] : []), ...(values.test ? [values.test] : [])] });

  await initEngine();
  const members = [];
  for (const dir of positionals) members.push(await readBundle(dir));
  const built = await ensembleBundles(members, {
    name: values.name,
    threshold: fixed,
    source: `happysad ensemble of ${positionals.join(', ')}${values.tune ? `; threshold tuned on ${values.tune}${values['tune-split'] ? ` (${values['tune-split']} split)` : ''}` : ''}`,
  });
  const metadata: BundleMetadata = built.metadata;
  if (values.tune || values.test) {
    // Scored from a scratch copy, so --out is written once, complete, with its final threshold.
    const scratch = await mkdtemp(join(tmpdir(), 'happysad-ensemble-'));
    try {
      await saveBundle(scratch, built.model, metadata);
      const classifier = await loadModel(scratch, { workers });
      const score = (dir: string, split: Split | undefined) => evaluate(dir, classifier, { split, faces: !values['no-faces'] });
      try {
        const tuned = values.tune ? await score(values.tune, await tuneSplit(values.tune, values['tune-split'] as Split | undefined)) : undefined;
        const tested = values.test ? await score(values.test, values['test-split'] as Split | undefined) : undefined;
        if (tuned && tested && resolve(values.tune!) === resolve(values.test!) && tuned.split === tested.split) {
          throw new OptionError(`--test ${values.test} (${tested.split}) is the data the threshold is tuned on, so its figures would not be a test; give held-out images, or another split with --test-split`);
        }
        if (tuned && metadata.output === 'sigmoid') {
          metadata.threshold = bestThreshold(tuned.rows.map((r) => r.score), tuned.rows.map((r) => r.truth === metadata.positiveClass));
        }
        metadata.metrics = {
          ...(tuned ? { validation: rescore(tuned, metadata) } : {}),
          ...(tested ? { test: rescore(tested, metadata) } : {}),
        };
      } finally {
        await classifier.close();
      }
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  const previous = await writeClaimedBundle(out, (dir) => saveBundle(dir, built.model, metadata));
  if (previous) process.stderr.write(`the model that was in ${values.out} is kept as ${previous}\n`);
  for (const m of [...members.map((b) => b.model), built.model]) m.dispose();

  const { validation, test } = metadata.metrics ?? {};
  if (values.json) {
    console.log(JSON.stringify({ out: values.out, members: positionals, arch: metadata.arch, threshold: metadata.threshold, validation, test }));
    return 0;
  }
  console.log(`Wrote ${values.out}: ${metadata.arch}, mean of ${positionals.length} models' probabilities, threshold ${metadata.threshold.toFixed(4)}${values.tune ? ` (tuned on ${values.tune})` : fixed !== undefined ? ' (given)' : ' (mean of the members\')'}`);
  if (validation) console.log(`\non ${values.tune} (threshold tuned here, so optimistic)\n${formatEvaluationReport(validation)}`);
  if (test) console.log(`\non ${values.test}\n${formatEvaluationReport(test)}`);
  return 0;
}

/**
 * Tuning wants a split layout's val folder (evaluate's own default is test, which must stay
 * unseen); a folder of class folders is used whole.
 */
async function tuneSplit(dir: string, given: Split | undefined): Promise<Split | undefined> {
  if (given) return given;
  return (await discoverDataset(dir)).layout === 'split' ? 'val' : undefined;
}

/** The report at the final threshold, from the scores already computed (no second pass over the images). */
function rescore(result: EvaluateResult, m: BundleMetadata): EvaluationReport {
  if (m.output !== 'sigmoid') return result.report;
  const rows = result.rows;
  const decisions = interpretOutput(rows.map((r) => r.score), rows.length, m);
  return computeMetrics({
    classes: m.classes,
    positiveClass: m.positiveClass,
    threshold: m.threshold,
    truth: rows.map((r) => m.classes.indexOf(r.truth)),
    predicted: decisions.map((d) => d.labelIndex),
    probabilities: decisions.flatMap((d) => d.probabilities),
  });
}
