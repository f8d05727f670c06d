import { availableParallelism } from 'node:os';
import { splitRank, type DiscoveredDataset, type DatasetFile } from './discoverDataset.js';
import { DATASET_IMAGE_LIMITS, type ImageLimits } from '../input/imageLimits.js';
import { readFile } from 'node:fs/promises';
import { inspectImageBytes, type ImageInspection, type ImageProblem } from '../input/inspectImage.js';
import type { ImageAttributes, NearDuplicateGroup, Shortcut } from './auditTypes.js';
import { imageAttributes } from './imageAttributes.js';
import { AuditCache } from './auditCache.js';
import { auditShortcuts, type ShortcutModel } from './shortcutAudit.js';
import { findNearDuplicates, matchNote, type HashedFile } from './nearDuplicates.js';
import { perceptualHash, type ImageHashes } from './perceptualHash.js';
import { messageOf } from '../base/messageOf.js';
import { mapConcurrent } from '../base/mapConcurrent.js';

export interface CleanProblem {
  /** Path relative to the dataset root. */
  file: string;
  /** 'unreadable': a folder or link that could not be listed (its files are not checked at all). */
  problem: ImageProblem | 'unreadable';
  detail: string;
  /** A copy (exact or near) in an evaluation split of a picture kept in an earlier split: its kind is 'leak' (see problemKinds). */
  leak?: true;
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
  /** Same picture (exact or near copy) in a training file and an evaluation file: metrics on that split are inflated. */
  leaks: CleanProblem[];
  /** Groups of the same picture re-encoded, resized, mirrored or slightly cropped (among files that passed the checks). */
  nearDuplicates: NearDuplicateGroup[];
  /**
   * The near-duplicate copies as `clean` counts them (nearDuplicateProblems): with 'drop' the same
   * entries as in `problems`; with 'report' listed here only, so train and evaluate can say how
   * their counts relate to clean's.
   */
  nearDuplicateProblems: CleanProblem[];
  /** With `audit`: each usable image's attributes that are not its expression. */
  attributes: { file: string; label: string; split?: string; attributes: ImageAttributes }[];
  /** With `audit`: attributes that alone tell the classes apart (see auditShortcuts). */
  shortcuts: Shortcut[];
}

export interface CleanOptions {
  limits?: Partial<ImageLimits>;
  concurrency?: number;
  /** Decode each image to catch truncation (clean); train skips it because its own decode catches the same. */
  decodeCheck?: boolean;
  /**
   * Near-duplicates (perceptual hashes): 'drop' (default, what `clean` shows) reports every copy
   * but one per group as a problem and leaves it out of `valid`, like exact copies; 'report' only
   * returns the groups (training decides what a copy means once splits are known); 'off' skips
   * the hashing.
   */
  nearDuplicates?: 'drop' | 'report' | 'off';
  /** Measure each image's non-expression attributes and look for shortcuts (default false). */
  audit?: boolean;
  /** The model the data is for, when known (train): shortcut advice then fits what it sees. */
  auditModel?: ShortcutModel;
  /** Keep hashes and attributes in the cache by content (AuditCache; default true). */
  cache?: boolean;
  onProgress?: (done: number, total: number) => void;
}


/**
 * Checks every file of a dataset by content and finds exact duplicates by hash. Of a duplicate
 * group the file in the earliest split (train before val before test), then the first path, is
 * kept; the others are reported, so a copy of a training image never counts in evaluation.
 * Reports only: nothing is moved or deleted here (see quarantineFiles).
 */
export async function cleanDataset(dataset: DiscoveredDataset, options: CleanOptions = {}): Promise<CleanReport> {
  const limits = { ...DATASET_IMAGE_LIMITS, ...options.limits };
  let done = 0;
  const nearMode = options.nearDuplicates ?? 'drop';
  const withHashes = nearMode !== 'off';
  const cache = options.cache === false ? undefined : new AuditCache();
  // Twice the cores: a warm cache makes this mostly file reads, which overlap.
  const inspections = await mapConcurrent(dataset.files, options.concurrency ?? Math.max(4, 2 * availableParallelism()), async (f): Promise<ImageInspection & { hashes?: ImageHashes; attributes?: ImageAttributes }> => {
    let bytes: Buffer;
    try {
      bytes = await readFile(f.file);
    } catch (err) {
      options.onProgress?.(++done, dataset.files.length);
      return { ok: false, problem: 'corrupt', detail: `cannot read file: ${messageOf(err)}` };
    }
    const r = await inspectImageBytes(bytes, limits, { decodeCheck: options.decodeCheck ?? true });
    if (!r.ok || (!withHashes && !options.audit)) {
      options.onProgress?.(++done, dataset.files.length);
      return r;
    }
    const cached = cache ? await cache.get(r.sha256) : {};
    // A file that decoded but cannot be hashed is still a good image; it just takes no part in the search.
    const hashes = withHashes ? cached.hashes ?? (await perceptualHash(bytes).catch(() => undefined)) : undefined;
    const attributes = options.audit ? cached.attributes ?? (await imageAttributes(bytes, r.format)) : undefined;
    if (cache && ((hashes && !cached.hashes) || (attributes && !cached.attributes))) await cache.put(r.sha256, { ...cached, ...(hashes ? { hashes } : {}), ...(attributes ? { attributes } : {}) });
    options.onProgress?.(++done, dataset.files.length);
    return { ...r, hashes, attributes };
  });
  const problems: CleanProblem[] = [];
  const leaks: CleanProblem[] = [];
  const candidates: ValidFile[] = [];
  const hashOf = new Map<ValidFile, ImageHashes>();
  const attributesOf = new Map<ValidFile, ImageAttributes>();
  dataset.files.forEach((f, i) => {
    const r = inspections[i]!;
    if (r.ok) {
      const v: ValidFile = { ...f, sha256: r.sha256, width: r.width, height: r.height };
      candidates.push(v);
      if (r.hashes) hashOf.set(v, r.hashes);
      if (r.attributes) attributesOf.set(v, r.attributes);
    } else problems.push({ file: f.relPath, problem: r.problem, detail: r.detail });
  });
  const byHash = new Map<string, ValidFile[]>();
  for (const f of candidates) byHash.set(f.sha256, [...(byHash.get(f.sha256) ?? []), f]);
  const dropped = new Set<ValidFile>();
  for (const group of byHash.values()) {
    if (group.length < 2) continue;
    group.sort((a, b) => splitRank(a.split) - splitRank(b.split) || (a.relPath < b.relPath ? -1 : 1));
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
      const p: CleanProblem = { file: c.relPath, problem: 'duplicate', detail, ...(crossSplit ? { leak: true as const } : {}) };
      problems.push(p);
      if (crossSplit) leaks.push(p);
    }
  }
  const hashed = candidates.filter((f) => !dropped.has(f) && hashOf.has(f));
  const nearDuplicates = nearMode === 'off' ? [] : findNearDuplicates(hashed.map((f) => hashedFile(f, hashOf)));
  const nearDuplicateCopies = nearDuplicateProblems(nearDuplicates);
  if (nearMode === 'drop') {
    const byPath = new Map(hashed.map((f) => [f.relPath, f]));
    for (const p of nearDuplicateCopies) {
      dropped.add(byPath.get(p.file)!);
      problems.push(p);
      if (p.leak) leaks.push(p);
    }
  }
  for (const u of dataset.unlisted) problems.push({ file: u.relPath, problem: u.problem, detail: u.detail });
  problems.sort((a, b) => (a.file < b.file ? -1 : 1));
  const valid = candidates.filter((f) => !dropped.has(f));
  // Shortcuts are judged on the images a model would train on: every copy counted once.
  const attributes = valid.filter((f) => attributesOf.has(f)).map((f) => ({ file: f.relPath, label: f.label, ...(f.split ? { split: f.split } : {}), attributes: attributesOf.get(f)! }));
  const shortcuts = options.audit ? auditShortcuts(attributes, { model: options.auditModel }) : [];
  return { total: dataset.files.length, ok: valid.length, problems, valid, leaks, nearDuplicates, nearDuplicateProblems: nearDuplicateCopies, attributes, shortcuts };
}

function hashedFile(f: ValidFile, hashOf: Map<ValidFile, ImageHashes>): HashedFile {
  return { relPath: f.relPath, label: f.label, split: f.split, width: f.width, height: f.height, hashes: hashOf.get(f)! };
}

/**
 * The near-duplicate copies of these groups as problems, as `clean` reports them. As with exact
 * copies, one file of each group is kept (findNearDuplicates' order: the earliest split, then the
 * most pixels, then the path) and the others are problems; a group under more than one label is
 * evidence for neither, so all of it is.
 */
export function nearDuplicateProblems(groups: NearDuplicateGroup[]): CleanProblem[] {
  const problems: CleanProblem[] = [];
  for (const g of groups) {
    const describe = (file: string, other: string) => `${other}${matchNote(g, file, other) ?? ' (through another copy)'}`;
    if (g.conflictingLabels) {
      for (const file of g.files) {
        const others = g.files.filter((o) => o !== file).map((o) => describe(file, o)).join(', ');
        problems.push({ file, problem: 'near-duplicate', detail: `the same picture as ${others}, labelled ${[...new Set(g.labels)].map((l) => `"${l}"`).join(' and ')}: CONFLICTING LABELS, all copies excluded` });
      }
      continue;
    }
    const [kept, ...copies] = g.files;
    const keptSplit = g.splits[0] ?? 'train';
    copies.forEach((file, k) => {
      const split = g.splits[k + 1] ?? 'train';
      const leak = split !== keptSplit;
      problems.push({ file, problem: 'near-duplicate', detail: `the same picture as ${describe(file, kept!)}${leak ? ` — TRAIN/${split.toUpperCase()} LEAK: this ${split} image is also in ${keptSplit}; excluded from ${split}` : ''}`, ...(leak ? { leak: true as const } : {}) });
    });
  }
  return problems;
}

export { checkQuarantineFolder, quarantineFiles, type QuarantineResult } from './quarantineFiles.js';
