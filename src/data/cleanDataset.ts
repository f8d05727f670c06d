import { constants, mkdir, rename, copyFile, unlink, lstat } from 'node:fs/promises';
import { OptionError } from '../base/errors.js';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { isInside } from '../io/outputPaths.js';
import { availableParallelism } from 'node:os';
import type { DiscoveredDataset, DatasetFile } from './discoverDataset.js';
import { DATASET_IMAGE_LIMITS, type ImageLimits } from './imageLimits.js';
import { inspectImageFile, type ImageProblem } from './inspectImage.js';
import { messageOf } from '../base/messageOf.js';
import { mapConcurrent } from '../base/mapConcurrent.js';

export interface CleanProblem {
  /** Path relative to the dataset root. */
  file: string;
  /** 'unreadable': a folder or link that could not be listed (its files are not checked at all). */
  problem: ImageProblem | 'unreadable';
  detail: string;
}

/** A file that passed every check, with what we learned about it. */
export interface ValidFile extends DatasetFile {
  sha256: string;
  width: number;
  height: number;
}

export interface CleanReport {
  total: number;
  ok: number;
  problems: CleanProblem[];
  valid: ValidFile[];
  /** Same content in a training file and an evaluation file: metrics on that split are inflated. */
  leaks: CleanProblem[];
}

export interface CleanOptions {
  limits?: Partial<ImageLimits>;
  concurrency?: number;
  /** Decode each image to catch truncation (clean); train skips it because its own decode catches the same. */
  decodeCheck?: boolean;
  onProgress?: (done: number, total: number) => void;
}

const SPLIT_RANK = { train: 0, val: 1, test: 2, undefined: 0 } as const;

/**
 * Checks every file of a dataset by content and finds exact duplicates by hash. Of a duplicate
 * group the file in the earliest split (train before val before test), then the first path, is
 * kept; the others are reported, so a copy of a training image never counts in evaluation.
 * Reports only: nothing is moved or deleted here (see quarantineFiles).
 */
export async function cleanDataset(dataset: DiscoveredDataset, options: CleanOptions = {}): Promise<CleanReport> {
  const limits = { ...DATASET_IMAGE_LIMITS, ...options.limits };
  let done = 0;
  const inspections = await mapConcurrent(dataset.files, options.concurrency ?? Math.max(2, availableParallelism()), async (f) => {
    const r = await inspectImageFile(f.file, limits, { decodeCheck: options.decodeCheck ?? true });
    options.onProgress?.(++done, dataset.files.length);
    return r;
  });
  const problems: CleanProblem[] = [];
  const leaks: CleanProblem[] = [];
  const candidates: ValidFile[] = [];
  dataset.files.forEach((f, i) => {
    const r = inspections[i];
    if (r.ok) candidates.push({ ...f, sha256: r.sha256, width: r.width, height: r.height });
    else problems.push({ file: f.relPath, problem: r.problem, detail: r.detail });
  });
  const byHash = new Map<string, ValidFile[]>();
  for (const f of candidates) byHash.set(f.sha256, [...(byHash.get(f.sha256) ?? []), f]);
  const dropped = new Set<ValidFile>();
  for (const group of byHash.values()) {
    if (group.length < 2) continue;
    group.sort((a, b) => SPLIT_RANK[`${a.split}`] - SPLIT_RANK[`${b.split}`] || (a.relPath < b.relPath ? -1 : 1));
    const labels = new Set(group.map((f) => f.label));
    if (labels.size > 1) {
      // The same picture under two labels is evidence for neither: exclude every copy.
      for (const c of group) {
        dropped.add(c);
        const others = group.filter((o) => o !== c).map((o) => o.relPath).join(', ');
        problems.push({ file: c.relPath, problem: 'duplicate', detail: `same content as ${others}, labelled ${[...labels].map((l) => `"${l}"`).join(' and ')}: conflicting labels, all copies excluded` });
      }
      continue;
    }
    const [kept, ...copies] = group;
    for (const c of copies) {
      dropped.add(c);
      const crossSplit = (c.split ?? 'train') !== (kept.split ?? 'train');
      const detail = `same content as ${kept.relPath}` +
        (crossSplit ? ` — TRAIN/${(c.split ?? '').toUpperCase()} LEAK: this ${c.split} image is also in ${kept.split}; excluded from ${c.split}` : '');
      const p: CleanProblem = { file: c.relPath, problem: 'duplicate', detail };
      problems.push(p);
      if (crossSplit) leaks.push(p);
    }
  }
  for (const u of dataset.unlisted) problems.push({ file: u.relPath, problem: u.problem, detail: u.detail });
  problems.sort((a, b) => (a.file < b.file ? -1 : 1));
  const valid = candidates.filter((f) => !dropped.has(f));
  return { total: dataset.files.length, ok: valid.length, problems, valid, leaks };
}

export interface QuarantineResult {
  /** Where each moved file now is. */
  moved: string[];
  /** Files left where they were, with why; the others were still moved. */
  failed: { file: string; detail: string }[];
}

/**
 * Moves each offending file into `quarantineDir`, keeping its path relative to the dataset root,
 * so a user can inspect and restore it. Never overwrites, never deletes a file that is not safely
 * copied, and a file that cannot be moved is reported while the rest go on. Folders that could not
 * be listed ('unreadable') are left alone. The quarantine must lie outside the dataset (or in a
 * dot-folder, which discovery skips), or its files would come back as a class on the next run.
 */
export async function quarantineFiles(root: string, problems: CleanProblem[], quarantineDir: string): Promise<QuarantineResult> {
  if ((await isInside(quarantineDir, root)) && !relative(resolve(root), resolve(quarantineDir)).split(sep).some((part) => part.startsWith('.'))) {
    throw new OptionError(`--quarantine ${quarantineDir} is inside the dataset ${root}, where its files would be read as a class on the next run; choose a folder outside it (e.g. ${resolve(root)}-quarantine) or a hidden one (${join(root, '.quarantine')})`);
  }
  const result: QuarantineResult = { moved: [], failed: [] };
  for (const p of problems) {
    const from = join(root, p.file);
    // Only files move: an unreadable folder or a model folder inside the dataset stays whole.
    if (!(await lstat(from).then((s) => s.isFile() || s.isSymbolicLink(), () => false))) continue;
    const to = join(quarantineDir, p.file);
    try {
      await mkdir(dirname(to), { recursive: true });
      if (await lstat(to).then(() => true, () => false)) throw new Error(`${to} already exists; nothing is overwritten`);
      try {
        await rename(from, to);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
        // Across filesystems: copy without clobbering, then remove the original only once the copy exists.
        await copyFile(from, to, constants.COPYFILE_EXCL);
        await unlink(from);
      }
      result.moved.push(to);
    } catch (err) {
      result.failed.push({ file: p.file, detail: messageOf(err) });
    }
  }
  return result;
}
