import { createHash } from 'node:crypto';
import { assignValidationSplit } from './assignValidationSplit.js';
import { cleanDataset, type CleanProblem, type ValidFile } from './cleanDataset.js';
import type { NearDuplicateGroup, Shortcut } from './auditTypes.js';
import { matchNote } from './nearDuplicates.js';
import { discoverDataset, type DiscoveredDataset, type Split } from './discoverDataset.js';
import { DATASET_IMAGE_LIMITS, type ImageLimits } from '../input/imageLimits.js';
import { loadImages, type ImageSet } from './loadImages.js';
import type { PreprocessSpec } from '../input/preprocessSpec.js';
import { availableParallelism } from 'node:os';
import { FacePipeline, type FaceDecoded } from '../faces/facePipeline.js';
import type { FaceBox } from '../faces/types.js';

/** A validated record: a file that passed every check, with its class index. */
export interface ImageRecord extends ValidFile {
  split: Split;
  classIndex: number;
  /**
   * The face the model is given, when one was cropped (faces: 'detect'), in the pixels predict
   * reports boxes in: the EXIF-rotated image, at most 1600 px a side (decodeFullImage).
   */
  box?: FaceBox;
}

export interface PreparedDataset {
  dataset: DiscoveredDataset;
  classes: string[];
  splits: Partial<Record<Split, ImageSet<ImageRecord>>>;
  /** Files left out, with why: failed checks, duplicates, or failed decodes. */
  skipped: CleanProblem[];
  leaks: CleanProblem[];
  /** Near-duplicate groups found (empty unless asked for). */
  nearDuplicates: NearDuplicateGroup[];
  /** Those groups' copies as `clean` counts them (most are used here: see describeSkipped). */
  nearDuplicateProblems: CleanProblem[];
  /** Shortcut findings (empty unless asked for). */
  shortcuts: Shortcut[];
  fingerprint: { count: number; sha256: string };
  counts: Record<string, Record<string, number>>;
}

export interface PrepareOptions {
  spec: PreprocessSpec;
  /** Only these splits are decoded (evaluation needs just one). */
  splits: Split[];
  valSplit: number;
  seed: number;
  limits?: ImageLimits;
  /** 'detect': crop each image's most prominent face as prediction will (spec.faces), cached. */
  faces?: 'detect';
  /**
   * Leave out near-duplicates (one kept per group) as well as exact copies. Training does; scoring
   * a folder does not, except to rebuild the split of a model trained that way (its record says).
   */
  nearDuplicates?: boolean;
  /** Look for shortcuts (attributes that alone tell the classes apart): training warns about them. */
  audit?: boolean;
  onStage?: (message: string) => void;
}

/**
 * files → validated records → decoded uint8 images, for the splits asked for. Bad files are
 * skipped and reported, never fatal; the same seed and files give the same split.
 */
export async function prepareDataset(root: string, o: PrepareOptions): Promise<PreparedDataset> {
  const dataset = await discoverDataset(root);
  o.onStage?.(`found ${dataset.files.length} files in ${dataset.classes.length} classes (${dataset.classes.join(', ')}), ${dataset.layout === 'split' ? 'split layout' : `class folders, ${Math.round(o.valSplit * 100)}% held out for validation`}`);
  const limits = { ...DATASET_IMAGE_LIMITS, ...o.limits };
  // The advice on shortcuts is for the model these images are prepared for: what it sees of them.
  const auditModel = { channels: o.spec.channels, faceCrops: o.faces === 'detect' };
  const report = await cleanDataset(dataset, { limits, decodeCheck: false, nearDuplicates: o.nearDuplicates ? 'report' : 'off', audit: o.audit, auditModel });
  const assigned: ImageRecord[] = assignValidationSplit(report.valid, o.valSplit, o.seed).map((f) => ({
    ...f,
    split: f.split!,
    classIndex: dataset.classes.indexOf(f.label),
  }));
  const skipped = [...report.problems];
  const leaks = [...report.leaks];
  const leaked = nearDuplicateLeaks(assigned, report.nearDuplicates);
  for (const p of leaked.values()) {
    skipped.push(p);
    leaks.push(p);
  }
  const records = assigned.filter((r) => !leaked.has(r));
  const decodeFace = o.faces === 'detect' ? await faceDecoder(o.spec, limits, (m) => o.onStage?.(m)) : undefined;
  const splits: PreparedDataset['splits'] = {};
  try {
    for (const split of o.splits) {
      const items = records.filter((r) => r.split === split);
      if (items.length === 0) continue;
      o.onStage?.(`decoding ${items.length} ${split} images to ${o.spec.height}x${o.spec.width}x${o.spec.channels}${decodeFace ? ', cropping faces' : ''}`);
      // loadImages hands back only pixels, so each face's box is noted on the side and joined to
      // its record afterwards.
      const boxes = new Map<ImageRecord, FaceBox>();
      const decode = decodeFace && (async (r: ImageRecord) => {
        const { data, box } = await decodeFace.decode(r);
        if (box) boxes.set(r, box);
        return data;
      });
      const set = await loadImages(items, o.spec, { limits, decode, concurrency: decodeFace ? 2 * decodeFace.threads : undefined });
      for (const f of set.failed) skipped.push({ file: f.item.relPath, problem: 'corrupt', detail: f.error });
      splits[split] = boxes.size ? { ...set, items: set.items.map((r) => (boxes.has(r) ? { ...r, box: boxes.get(r) } : r)) } : set;
    }
  } finally {
    await decodeFace?.close();
  }
  const used = Object.values(splits).flatMap((s) => s!.items);
  const hash = createHash('sha256');
  for (const r of [...used].sort((a, b) => (a.relPath < b.relPath ? -1 : 1))) hash.update(`${r.relPath}\t${r.label}\t${r.split}\t${r.sha256}\n`);
  const counts: Record<string, Record<string, number>> = {};
  for (const r of used) {
    counts[r.split] ??= Object.fromEntries(dataset.classes.map((c) => [c, 0]));
    counts[r.split][r.label]++;
  }
  skipped.sort((a, b) => (a.file < b.file ? -1 : 1));
  return { dataset, classes: dataset.classes, splits, skipped, leaks, nearDuplicates: report.nearDuplicates, nearDuplicateProblems: report.nearDuplicateProblems, shortcuts: report.shortcuts, fingerprint: { count: used.length, sha256: hash.digest('hex') }, counts };
}

/**
 * Decodes a training image as a face model sees it at prediction time: its most prominent face
 * (with its box), or the whole image when no face is found (prediction does the same), through the
 * same FacePipeline as predict. Faces are cached by content hash as predict caches them, so only
 * the first run pays for detection, and predict reuses what train found (and the reverse).
 */
async function faceDecoder(spec: PreprocessSpec, limits: ImageLimits, report: (message: string) => void): Promise<{ decode: (r: ValidFile) => Promise<{ data: Uint8Array; box?: FaceBox }>; threads: number; close: () => Promise<void> }> {
  const pipeline = await FacePipeline.create(spec, { threads: availableParallelism() });
  let noFace = 0;
  let done = 0;
  const chosen = (d: FaceDecoded) => (d.whole ? { data: d.whole.data } : { data: d.faces[0]!.image.data, box: d.faces[0]!.box });
  const decode = async (r: ValidFile) => {
    const d = await pipeline.photo({ input: r.file, limits, name: r.relPath, size: { width: r.width, height: r.height }, sha256: r.sha256, cache: true });
    if (d.wholeBecause === 'none-found') noFace++;
    if (++done % 100 === 0) report(`  faces of ${done} images found (${noFace} without a face, used whole)`);
    return chosen(d);
  };
  return { decode, threads: pipeline.threads, close: () => pipeline.close() };
}

/**
 * Evaluation images that are near-copies of a training image, once splits are assigned (for class
 * folders the split is drawn after cleaning, so a copy can land on either side): they leave
 * evaluation, the training copy stays. Copies within one split, or under different labels, stay
 * in the data; clean reports them and train warns about conflicting labels.
 */
function nearDuplicateLeaks(records: ImageRecord[], groups: NearDuplicateGroup[]): Map<ImageRecord, CleanProblem> {
  const byPath = new Map(records.map((r) => [r.relPath, r]));
  const out = new Map<ImageRecord, CleanProblem>();
  for (const g of groups) {
    const members = g.files.map((f) => byPath.get(f)).filter((r): r is ImageRecord => r !== undefined);
    const trained = members.find((r) => r.split === 'train');
    if (!trained) continue;
    for (const r of members) {
      if (r.split === 'train') continue;
      out.set(r, { file: r.relPath, problem: 'near-duplicate', detail: `the same picture as ${trained.relPath} in train${matchNote(g, r.relPath, trained.relPath) ?? ''} — TRAIN/${r.split.toUpperCase()} LEAK: excluded from ${r.split}`, leak: true });
    }
  }
  return out;
}
