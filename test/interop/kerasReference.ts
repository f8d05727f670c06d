import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readNpy, writeNpy } from './npy.js';

const SCRIPT = fileURLToPath(new URL('../fixtures/keras/keras_reference.py', import.meta.url));

let python: string | undefined | null = null;

/**
 * The python3 that has h5py and numpy. Keras cannot be installed where the tests run, so these
 * two are the independent check on our .h5 files; a machine without them must fail loudly, not
 * skip, or the interop would go unchecked in CI without anyone noticing.
 */
function pythonWithH5py(): string {
  python ??= [process.env.HAPPYSAD_PYTHON, '/usr/bin/python3', 'python3']
    .filter((p): p is string => Boolean(p))
    .find((p) => spawnSync(p, ['-c', 'import h5py, numpy'], { stdio: 'ignore' }).status === 0);
  if (!python) {
    throw new Error(
      'The Keras interop tests check .h5 files against h5py and numpy, and no python3 here has both. ' +
      '.ci/run must install them before `npm test`: `apt-get update && apt-get install -y python3-h5py python3-numpy` ' +
      '(Debian packages for /usr/bin/python3). Locally, do the same or set HAPPYSAD_PYTHON to a python3 with h5py and numpy.',
    );
  }
  return python;
}

function run(args: string[]): string {
  try {
    return execFileSync(pythonWithH5py(), [SCRIPT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`keras_reference.py ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** Writes a Keras-2.x-layout .h5 with h5py (see keras_reference.py make). */
export function makeKerasFile(dir: string, name: string, ...args: string[]): string {
  const file = join(dir, name);
  run(['make', file, ...args]);
  return file;
}

/** The numpy forward pass of a Keras-layout file on NHWC input. */
export async function numpyForward(file: string, x: Float32Array, shape: number[], dir: string): Promise<Float64Array> {
  const input = join(dir, `in-${process.hrtime.bigint()}.npy`);
  const output = `${input}.out.npy`;
  await writeNpy(input, x, shape);
  run(['forward', file, input, output]);
  return (await readNpy(output)).data;
}

export interface KerasFileReport {
  root: Record<string, { type: string; dtype: string }>;
  model_weights: Record<string, { type: string; dtype: string }>;
  layer_names: string[];
  weight_names: Record<string, string[]>;
  weight_names_dtype: Record<string, string>;
  datasets: Record<string, { shape: number[]; dtype: string }>;
  model_config: { class_name: string; config: { name: string; layers: { class_name: string; config: Record<string, unknown> }[] } };
  training_config: Record<string, unknown> | null;
  keras_version: string;
  backend: string;
  groups: string[];
}

/** How h5py sees the file's attributes and datasets. */
export function inspectKerasFile(file: string): KerasFileReport {
  return JSON.parse(run(['inspect', file])) as KerasFileReport;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
