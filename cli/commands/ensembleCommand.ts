import { availableParallelism } from 'node:os';
import { initEngine } from '../../src/engine/engine.js';
import { OptionError } from '../../src/base/errors.js';
import type { Split } from '../../src/data/discoverDataset.js';
import { formatEvaluationReport } from '../../src/evaluate/computeMetrics.js';
import { ensembleBundles } from '../../src/ensemble/ensembleBundles.js';
import { readBundle, saveBundle } from '../../src/model/modelBundle.js';
import { claimBundleOutput, writeClaimedBundle } from '../../src/model/bundleOutput.js';
import { parseCommand, parseNumber, parseThreads } from '../parseCommand.js';

export async function ensembleCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, 'ensemble');
  if (positionals.length < 2) throw new OptionError(`ensemble takes two or more model folders (happysad help ensemble)`);
  if (!values.out) throw new OptionError(`ensemble needs --out DIR: where to write the ensemble (happysad help ensemble)`);
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
    ...(values['no-tta'] ? { testTimeFlip: false } : {}),
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
