import { copyFile, constants, lstat, mkdtemp, readFile, realpath, rename, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep, isAbsolute } from 'node:path';
import { OutputError } from '../base/errors.js';

/**
 * A file output (e.g. an exported .h5): refused where a folder or an input stands, and an existing
 * file only with `overwrite`, in which case the caller sets it aside first.
 */
export async function claimFileOutput(out: string, options: { overwrite?: boolean; inputs?: string[]; flag?: string } = {}): Promise<{ file: string; replaces: boolean }> {
  const flag = options.flag ?? '--out';
  const file = resolve(out);
  for (const input of options.inputs ?? []) {
    if (await isInside(file, input)) throw new OutputError(`${flag} ${out} is inside ${input}, which is read as input; choose a path outside it`);
  }
  const s = await stat(file).catch(() => undefined);
  if (s?.isDirectory()) throw new OutputError(`${flag} ${out} is a folder; give a file name, e.g. ${join(out, 'model.h5')}`);
  // A device or FIFO (/dev/null, a pipe) would be replaced by a regular file, or block forever.
  if (s && !s.isFile()) throw new OutputError(`${flag} ${out} is not a regular file (a device, FIFO or socket); give the path of a file to create`);
  await assertWritableFolder(dirname(file), flag, out);
  if (!s) return { file, replaces: false };
  if (!options.overwrite) throw new OutputError(`${flag} ${out} already exists; pass --overwrite to replace it (the old file is kept as ${basename(file)}.previous) or choose another name`);
  return { file, replaces: true };
}

/**
 * Proves that files can be created in `dir` (made if missing) by creating and removing an empty
 * folder there: permission bits do not tell the whole story (root, read-only mounts, immutable
 * folders), and failing now costs the user nothing, unlike failing after an hour of training.
 */
export async function assertWritableFolder(dir: string, flag: string, out: string): Promise<void> {
  let probe: string | undefined;
  try {
    let existing = resolve(dir);
    while (!(await stat(existing).then((s) => s.isDirectory(), () => false))) {
      const up = dirname(existing);
      if (up === existing) break;
      existing = up;
    }
    probe = await mkdtemp(join(existing, '.happysad-write-check-'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new OutputError(`${flag} ${out}: cannot write in ${dir} (${code}); choose a folder you can write to`);
  } finally {
    if (probe) await rmdir(probe).catch(() => {});
  }
}

/**
 * Reads a file that must be a regular file: a FIFO or device given as a model or an input would
 * block forever or stream without end. `what` names it in the error.
 */
export async function readRegularFile(file: string, onError: (message: string, code?: string) => Error): Promise<Buffer> {
  const s = await stat(file).catch((err: NodeJS.ErrnoException) => {
    throw onError(err.code === 'ENOENT' ? `${file} not found` : `${file}: cannot read (${err.code})`, err.code);
  });
  if (!s.isFile()) throw onError(`${file} is not a regular file (${s.isDirectory() ? 'a folder' : 'a FIFO, socket or device'})`, 'ENOTREG');
  return readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw onError(`${file}: cannot read (${err.code})`, err.code);
  });
}

/**
 * Moves `path` to the first free `PATH.previous`, `PATH.previous-2`, ... beside it and returns
 * where it went: an older model is kept, never deleted, however many times one retrains.
 */
export async function setAside(path: string): Promise<string> {
  for (let k = 1; ; k++) {
    const to = previousName(path, k);
    if (await lstat(to).then(() => true, () => false)) continue;
    await rename(path, to);
    return to;
  }
}

/** PATH.previous, PATH.previous-2, ...: where the k-th kept older version goes. */
function previousName(path: string, k: number): string {
  return `${path}.previous${k === 1 ? '' : `-${k}`}`;
}

/** Copies a file to the first free `FILE.previous` name before it is replaced in place; returns that name. */
export async function keepCopy(file: string): Promise<string> {
  for (let k = 1; ; k++) {
    const to = previousName(file, k);
    try {
      await copyFile(file, to, constants.COPYFILE_EXCL);
      return to;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/** Whether `child` is `parent` or below it, after resolving symbolic links of what exists. */
export async function isInside(child: string, parent: string): Promise<boolean> {
  const [c, p] = await Promise.all([canonical(child), canonical(parent)]);
  const rel = relative(p, c);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** realpath of the longest existing prefix, with the rest appended: works for paths not made yet. */
async function canonical(path: string): Promise<string> {
  const abs = resolve(path);
  const tail: string[] = [];
  let head = abs;
  for (;;) {
    try {
      return join(await realpath(head), ...tail.reverse());
    } catch {
      const up = dirname(head);
      if (up === head) return abs;
      tail.push(basename(head));
      head = up;
    }
  }
}
