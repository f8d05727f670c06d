import { Random } from '../base/random.js';
import type { DatasetFile, Split } from './discoverDataset.js';

/**
 * Gives every file without a split one: a seeded, stratified validation split, so each class is
 * represented in validation in proportion and the same seed always picks the same files. Files
 * are taken in sorted path order before shuffling, so the split does not depend on the order the
 * filesystem lists them in.
 */
export function assignValidationSplit<T extends DatasetFile>(files: T[], valSplit: number, seed: number): T[] {
  if (!(valSplit >= 0 && valSplit < 1)) throw new RangeError(`valSplit must be in [0, 1), got ${valSplit}`);
  const unsplit = files.filter((f) => f.split === undefined);
  const byLabel = new Map<string, T[]>();
  for (const f of unsplit) byLabel.set(f.label, [...(byLabel.get(f.label) ?? []), f]);
  const assigned = new Map<T, Split>();
  const rng = new Random(seed).derive('validation-split');
  for (const [label, group] of [...byLabel].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const order = rng.derive(label).shuffle([...group].sort((a, b) => (a.relPath < b.relPath ? -1 : 1)));
    // Keep at least one training file per class even when the class is tiny.
    const nVal = Math.min(Math.round(group.length * valSplit), Math.max(0, group.length - 1));
    order.forEach((f, i) => assigned.set(f, i < nVal ? 'val' : 'train'));
  }
  return files.map((f) => (f.split === undefined ? { ...f, split: assigned.get(f)! } : f));
}
