import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { OptionError } from '../../src/base/errors.js';
import type { Split } from '../../src/data/discoverDataset.js';
import { initEngine } from '../../src/engine/engine.js';
import { calibrateBundle } from '../../src/evaluate/calibrateBundle.js';
import { claimBundleOutput, writeClaimedBundle } from '../../src/model/bundleOutput.js';
import { resolveBundleDir } from '../../src/model/defaultModel.js';
import { METADATA_FILE, MODEL_FILE, readBundle, saveBundle, WEIGHTS_FILE } from '../../src/model/modelBundle.js';
import { parseCommand, parseNumber, parseThreads } from '../parseCommand.js';

export async function calibrateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, 'calibrate');
  if (positionals.length !== 2) throw new OptionError(`calibrate takes a model folder and a folder of labelled images (happysad help calibrate)`);
  if (!values.out) throw new OptionError(`calibrate needs --out DIR: where to write the calibrated copy; the model itself is never changed (happysad help calibrate)`);
  if (values.split !== undefined && !['val', 'test', 'train'].includes(values.split)) throw new OptionError(`--split ${values.split}: choose val or test`);
  const [modelArg, dataDir] = positionals as [string, string];
  const modelDir = resolveBundleDir(modelArg);
  // Checked before any work; no --overwrite: a calibrated copy goes to a folder of its own.
  const out = await claimBundleOutput(values.out, { inputs: [modelDir, dataDir] });

  await initEngine();
  const bundle = await readBundle(modelDir);
  try {
    const result = await calibrateBundle(bundle, dataDir, {
      split: values.split as Split | undefined,
      faces: !values['no-faces'],
      batch: parseNumber(values.batch, 'batch', { integer: true, min: 1 }),
      workers: parseThreads(values.workers, 'workers') ?? availableParallelism(),
    });
    const extras = await otherBundleFiles(modelDir);
    await writeClaimedBundle(out, (dir) => saveBundle(dir, bundle.model, result.metadata, extras));
    const c = result.calibration;
    if (values.json) {
      console.log(JSON.stringify({ model: modelDir, out: values.out, split: result.split, skipped: result.skipped.length, calibration: c, threshold: result.metadata.threshold }));
      return 0;
    }
    console.log(`Wrote ${values.out}: ${modelDir} with temperature ${c.temperature.toFixed(3)}, fitted on ${c.n} images of ${c.fittedOn}${result.skipped.length ? ` (${result.skipped.length} file(s) skipped)` : ''}`);
    console.log(`expected calibration error there: ${c.eceBefore.toFixed(3)} before, ${c.eceAfter.toFixed(3)} after (in-sample; \`happysad evaluate\` on other held-out images measures it honestly)`);
    if (result.metadata.output === 'sigmoid') console.log(`threshold on calibrated p(${result.metadata.positiveClass}): ${result.metadata.threshold.toFixed(4)} (the same decisions as before)`);
    return 0;
  } finally {
    bundle.model.dispose();
  }
}

/** The bundle's other files (training history, curves), carried into the copy unchanged. */
async function otherBundleFiles(dir: string): Promise<Record<string, Uint8Array>> {
  const own = new Set([MODEL_FILE, WEIGHTS_FILE, METADATA_FILE]);
  const out: Record<string, Uint8Array> = {};
  for (const e of await readdir(dir, { withFileTypes: true })) {
    // Weight shards under other names (an imported model's) are rewritten as weights.bin, not copied.
    if (e.isFile() && !own.has(e.name) && !e.name.endsWith('.bin')) out[e.name] = await readFile(join(dir, e.name));
  }
  return out;
}
