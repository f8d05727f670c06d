import { constants, copyFile, lstat, mkdir, open, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { OptionError } from '../base/errors.js';
import { messageOf } from '../base/messageOf.js';
import { hashFile } from '../io/hashFile.js';
import { isInside } from '../io/outputPaths.js';
import type { CleanProblem } from './cleanDataset.js';

export interface QuarantineResult {
  /** Where each moved file now is. */
  moved: string[];
  /** Files left where they were, with why; the others were still moved. */
  failed: { file: string; detail: string }[];
}

/**
 * Refuses a quarantine folder that cannot work, before the dataset is checked: one that is a file
 * (or a link to one), or one inside the dataset other than a dot-folder (its files would come back
 * as a class on the next run). A folder that does not exist yet is fine: it is made when needed.
 */
export async function checkQuarantineFolder(root: string, quarantineDir: string, flag = '--quarantine'): Promise<void> {
  if (quarantineDir === '') throw new OptionError(`${flag} needs a folder name`);
  if ((await isInside(quarantineDir, root)) && !relative(resolve(root), resolve(quarantineDir)).split(sep).some((part) => part.startsWith('.'))) {
    throw new OptionError(`${flag} ${quarantineDir} is inside the dataset ${root}, where its files would be read as a class on the next run; choose a folder outside it (e.g. ${resolve(root)}-quarantine) or a hidden one (${join(root, '.quarantine')})`);
  }
  const s = await stat(quarantineDir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : err));
  if (s instanceof Error) throw new OptionError(`${flag} ${quarantineDir}: cannot inspect (${(s as NodeJS.ErrnoException).code}); choose another folder`);
  if (s && !s.isDirectory()) throw new OptionError(`${flag} ${quarantineDir} is a file, not a folder; offending files are moved into a folder, keeping their paths: choose a new folder name`);
}

/**
 * Moves each offending file into `quarantineDir`, keeping its path relative to the dataset root,
 * so a user can inspect and restore it. Never overwrites, never deletes a file that is not safely
 * copied, and a file that cannot be moved is reported while the rest go on. Folders that could not
 * be listed ('unreadable') are left alone. A rerun after an interrupted move finishes it (see moveFile).
 */
export async function quarantineFiles(root: string, problems: CleanProblem[], quarantineDir: string): Promise<QuarantineResult> {
  await checkQuarantineFolder(root, quarantineDir);
  const result: QuarantineResult = { moved: [], failed: [] };
  for (const p of problems) {
    const from = join(root, p.file);
    // Only files move: an unreadable folder or a model folder inside the dataset stays whole.
    if (!(await lstat(from).then((s) => s.isFile() || s.isSymbolicLink(), () => false))) continue;
    const to = join(quarantineDir, p.file);
    try {
      await moveFile(from, to);
      result.moved.push(to);
    } catch (err) {
      result.failed.push({ file: p.file, detail: messageOf(err) });
    }
  }
  return result;
}

/** The temporary name a cross-filesystem copy has until it is complete; a leftover one is known to be partial. */
export function partialName(to: string): string {
  return join(dirname(to), `.${basename(to)}.happysad-partial`);
}

/**
 * `from` to `to`, never overwriting. Across filesystems the copy goes to a temporary name, is
 * flushed to disk, and only then takes its name; the original is removed last. So a kill at any
 * point leaves either a temporary file (removed and redone by the next run) or a complete copy
 * beside the original (the next run sees the copy is identical and removes the original).
 */
async function moveFile(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  const partial = partialName(to);
  await rm(partial, { force: true });
  if (await lstat(to).then(() => true, () => false)) {
    if (await sameContent(from, to)) {
      await unlink(from);
      return;
    }
    throw new Error(`${to} already exists; nothing is overwritten (its content differs from ${from}: move or rename one of them, then rerun)`);
  }
  try {
    await rename(from, to);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
  }
  await copyFile(from, partial, constants.COPYFILE_EXCL);
  const fh = await open(partial, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  if (await lstat(to).then(() => true, () => false)) {
    await rm(partial, { force: true });
    throw new Error(`${to} appeared while the file was being copied; nothing is overwritten`);
  }
  await rename(partial, to);
  await syncFolder(dirname(to));
  await unlink(from);
}

async function syncFolder(dir: string): Promise<void> {
  const fh = await open(dir, 'r').catch(() => undefined);
  await fh?.sync().catch(() => undefined);
  await fh?.close();
}

async function sameContent(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([stat(a), stat(b)]);
  if (!sa.isFile() || !sb.isFile() || sa.size !== sb.size) return false;
  const [ha, hb] = await Promise.all([hashFile(a), hashFile(b)]);
  return ha === hb;
}
