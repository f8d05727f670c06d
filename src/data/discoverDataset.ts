import { readdir, stat } from 'node:fs/promises';
import { walkFiles } from '../io/walkFiles.js';
import { join, relative, sep } from 'node:path';
import { DatasetError } from '../base/errors.js';

export type Split = 'train' | 'val' | 'test';

/** Train before val before test (a file without a split is training data): which copy of a picture to keep. */
export function splitRank(split: string | undefined): number {
  return split === 'val' ? 1 : split === 'test' ? 2 : 0;
}

/** One file found in a dataset, before its content has been checked. */
export interface DatasetFile {
  /** Absolute path. */
  file: string;
  /** Path relative to the dataset root, with forward slashes: stable across machines. */
  relPath: string;
  label: string;
  /** Undefined in the class-folders layout until assignValidationSplit gives it one. */
  split?: Split;
}

export interface DiscoveredDataset {
  root: string;
  /** 'split': DIR/{train,val,test}/<class>/ (Model A); 'class-folders': DIR/<class>/ (Model B). */
  layout: 'split' | 'class-folders';
  /** Folder names, sorted: the class index order of every model trained on this dataset. */
  classes: string[];
  files: DatasetFile[];
  /**
   * Folders and links inside the dataset that could not be listed (unreadable, broken, looping),
   * and special files (FIFOs, sockets) passed over; paths relative to the root. Their files are
   * simply not in `files`: clean reports them, train warns.
   */
  unlisted: { relPath: string; problem: 'unreadable' | 'not-image'; detail: string }[];
}

/** A folder holding these is a model bundle, not images: left out of the dataset whole. */
const BUNDLE_FILES = ['happysad.json', 'model.json'];

const SPLIT_DIRS: Record<string, Split> = { train: 'train', val: 'val', validation: 'val', valid: 'val', test: 'test' };

/**
 * Finds the images of a dataset in either layout. Labels are folder names; files are listed
 * recursively (as Keras' image_dataset_from_directory does; links to folders followed), hidden
 * files skipped, and order is sorted so that a seed always picks the same split. A folder that
 * cannot be read is reported in `unlisted`, not fatal.
 */
export async function discoverDataset(root: string): Promise<DiscoveredDataset> {
  const top = await listDirs(root);
  const splitDirs = top.filter((d) => SPLIT_DIRS[d.toLowerCase()] !== undefined);
  if (splitDirs.length > 0 && splitDirs.some((d) => SPLIT_DIRS[d.toLowerCase()] === 'train')) {
    const seen = new Map<Split, string>();
    const files: DatasetFile[] = [];
    const unlisted: DiscoveredDataset['unlisted'] = [];
    const classSets: Record<string, string[]> = {};
    for (const dir of splitDirs) {
      const split = SPLIT_DIRS[dir.toLowerCase()];
      if (seen.has(split)) throw new DatasetError(`${root}: both "${seen.get(split)}" and "${dir}" are ${split} folders; keep one`);
      seen.set(split, dir);
      const classes = await listDirs(join(root, dir));
      classSets[dir] = classes;
      for (const label of classes) files.push(...(await listFiles(root, join(root, dir, label), label, split, unlisted)));
    }
    const trainDir = seen.get('train')!;
    const classes = classSets[trainDir];
    for (const [dir, cls] of Object.entries(classSets)) {
      const unknown = cls.filter((c) => !classes.includes(c));
      if (unknown.length) throw new DatasetError(`${join(root, dir)}: class folder(s) ${unknown.map((c) => `"${c}"`).join(', ')} do not exist in ${join(root, trainDir)}; every split must use the training classes`);
    }
    return finish(root, 'split', classes, files, unlisted);
  }
  const files: DatasetFile[] = [];
  const unlisted: DiscoveredDataset['unlisted'] = [];
  for (const label of top) files.push(...(await listFiles(root, join(root, label), label, undefined, unlisted)));
  return finish(root, 'class-folders', top, files, unlisted);
}

function finish(root: string, layout: DiscoveredDataset['layout'], classes: string[], files: DatasetFile[], unlisted: DiscoveredDataset['unlisted']): DiscoveredDataset {
  if (classes.length < 2) {
    throw new DatasetError(`${root}: found ${classes.length === 0 ? 'no class folders' : `only the class folder "${classes[0]}"`}; a dataset needs at least two, e.g. ${root}/happy/ and ${root}/sad/ (or train/happy, train/sad, ...)`);
  }
  const empty = classes.filter((c) => !files.some((f) => f.label === c && f.split !== 'val' && f.split !== 'test'));
  if (empty.length) throw new DatasetError(`${root}: class folder(s) ${empty.map((c) => `"${c}"`).join(', ')} hold no training files`);
  files.sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
  return { root, layout, classes, files, unlisted };
}

async function listDirs(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DatasetError(`${dir}: no such folder`);
    if (code === 'ENOTDIR') throw new DatasetError(`${dir}: is a file; give the dataset folder that holds one folder per class`);
    throw new DatasetError(`${dir}: cannot read folder (${code})`, { cause: err });
  }
  const dirs: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    if (e.isDirectory() || (e.isSymbolicLink() && (await stat(join(dir, e.name)).catch(() => undefined))?.isDirectory())) dirs.push(e.name);
  }
  return dirs.sort();
}

async function listFiles(root: string, dir: string, label: string, split: Split | undefined, unlisted: DiscoveredDataset['unlisted']): Promise<DatasetFile[]> {
  const walked = await walkFiles(dir, { skipFoldersHolding: BUNDLE_FILES });
  const rel = (p: string) => relative(root, p).split(sep).join('/');
  for (const w of walked.problems) unlisted.push({ relPath: rel(w.path), problem: 'unreadable', detail: w.detail });
  for (const p of walked.skipped) unlisted.push({ relPath: rel(p), problem: 'not-image', detail: 'not a regular file (a FIFO, socket or device); skipped' });
  for (const p of walked.skippedFolders) unlisted.push({ relPath: rel(p), problem: 'not-image', detail: 'a happysad model folder inside the dataset: left out whole (keep models outside the data)' });
  return walked.files.map((p) => ({ file: p, relPath: rel(p), label, split }));
}
