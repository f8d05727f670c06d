import { availableParallelism } from 'node:os';
import { initEngine } from '../../src/engine/engine.js';
import { OptionError } from '../../src/errors.js';
import type { Split } from '../../src/data/discoverDataset.js';
import { formatEvaluationReport } from '../../src/evaluate/computeMetrics.js';
import { ensembleBundles } from '../../src/ensemble/ensembleBundles.js';
import { readBundle, saveBundle } from '../../src/model/modelBundle.js';
import { claimBundleOutput, writeClaimedBundle } from '../../src/model/bundleOutput.js';
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
  const faces = !values['no-faces'];
  const built = await ensembleBundles(members, {
    name: values.name,
    threshold: fixed,
    source: `happysad ensemble of ${positionals.join(', ')}${values.tune ? `; threshold tuned on ${values.tune}${values['tune-split'] ? ` (${values['tune-split']} split)` : ''}` : ''}`,
    tune: values.tune ? { dir: values.tune, split: values['tune-split'] as Split | undefined, faces } : undefined,
    test: values.test ? { dir: values.test, split: values['test-split'] as Split | undefined, faces } : undefined,
    workers,
  });
  const { metadata } = built;
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
