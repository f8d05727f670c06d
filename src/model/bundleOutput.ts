import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { OutputError } from '../base/errors.js';
import { assertWritableFolder, isInside, setAside } from '../io/outputPaths.js';
import { BUNDLE_FORMAT } from './bundleMetadata.js';

/** The file that marks a folder as a happysad bundle (written by saveBundle). */
export const METADATA_FILE = 'happysad.json';

export interface BundleOutput {
  /** Absolute path of the folder to write. */
  dir: string;
  /** An existing bundle is there: it must be set aside (setAside) before the first write. */
  replaces: boolean;
}

/**
 * Decides whether a bundle may be written at `out`, before any work starts, so that no path of
 * ours deletes what a user made: refused are a file, a folder inside (or holding) one of the
 * inputs, and a non-empty folder that is not a happysad bundle. An existing bundle needs
 * `overwrite`, and even then stays whole until the caller sets it aside.
 */
export async function claimBundleOutput(out: string, options: { overwrite?: boolean; inputs?: string[]; flag?: string } = {}): Promise<BundleOutput> {
  const flag = options.flag ?? '--out';
  // A link to a folder: write into the folder it names, not over the link.
  const dir = await realpath(resolve(out)).then(async (real) => ((await stat(real)).isDirectory() ? real : resolve(out)), () => resolve(out));
  for (const input of options.inputs ?? []) {
    if (await isInside(dir, input)) throw new OutputError(`${flag} ${out} is inside ${input}, which is read as input: writing there would mix the model into your data. Choose a folder outside it, e.g. ${join(dirname(resolve(input)), `${basename(resolve(input))}-model`)}`);
    if (await isInside(input, dir)) throw new OutputError(`${flag} ${out} contains ${input}, which is read as input; choose a new folder for the model`);
  }
  const s = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new OutputError(`${flag} ${out}: cannot inspect (${err.code}); choose another folder`);
  });
  if (!s) {
    await assertWritableFolder(dirname(dir), flag, out);
    return { dir, replaces: false };
  }
  // Swapping a new version in renames the folder, so its parent must be writable too.
  await assertWritableFolder(dirname(dir), flag, out);
  const target = s.isSymbolicLink() ? await stat(dir).catch(() => undefined) : s;
  if (!target) throw new OutputError(`${flag} ${out} is a broken symbolic link; remove it or choose another folder`);
  if (!target.isDirectory()) throw new OutputError(`${flag} ${out} is a file, not a folder; a model is a folder of files: choose a new folder name`);
  const entries = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    throw new OutputError(`${flag} ${out}: cannot read folder (${err.code}); choose another folder`);
  });
  if (entries.length === 0) return { dir, replaces: false };
  if (!(await isBundleDir(dir))) {
    throw new OutputError(`${flag} ${out} is a folder that already holds ${entries.length} item(s) (e.g. ${entries.sort()[0]}) and is not a happysad model; nothing was written. Choose a new or empty folder`);
  }
  if (!options.overwrite) {
    throw new OutputError(`${flag} ${out} already holds a model; pass --overwrite to replace it (the old one is kept as ${basename(dir)}.previous) or choose another folder`);
  }
  return { dir, replaces: true };
}

/** A folder happysad wrote: its metadata file names our format. */
export async function isBundleDir(dir: string): Promise<boolean> {
  try {
    const meta = JSON.parse(await readFile(join(dir, METADATA_FILE), 'utf8')) as { format?: unknown };
    return meta.format === BUNDLE_FORMAT;
  } catch {
    return false;
  }
}


/**
 * The last guard before saveBundle swaps a folder in: never replace what is not ours. With `runId`
 * (a training run's checkpoints), an existing bundle must be that run's own: two runs writing into
 * one folder would otherwise replace each other's models without a word.
 */
export async function assertReplaceable(dir: string, runId?: string): Promise<void> {
  const s = await stat(dir).catch(() => undefined);
  if (!s) return;
  if (!s.isDirectory()) throw new OutputError(`${dir} is a file; a model bundle is a folder: choose another path`);
  if ((await readdir(dir)).length === 0) return;
  if (!(await isBundleDir(dir))) throw new OutputError(`${dir} is a non-empty folder that is not a happysad model; refusing to replace it. Choose a new or empty folder`);
  if (runId === undefined) return;
  const existing = JSON.parse(await readFile(join(dir, METADATA_FILE), 'utf8')) as { training?: { runId?: string } | null };
  if (existing.training?.runId !== runId) {
    throw new OutputError(`${dir} now holds a model this run did not write (another training into the same --out?); it was left as it is and this run's checkpoint was not saved. Give each run its own --out`);
  }
}

/**
 * Writes a finished bundle where claimBundleOutput allowed it: an existing bundle is first moved
 * to OUT.previous (returned), so replacing a model never deletes one.
 */
export async function writeClaimedBundle(claim: BundleOutput, save: (dir: string) => Promise<void>): Promise<string | undefined> {
  const previous = claim.replaces ? await setAside(claim.dir) : undefined;
  await save(claim.dir);
  return previous;
}
