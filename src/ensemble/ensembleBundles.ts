import { resolve } from 'node:path';
import { tf } from '../engine/engine.js';
import { BundleError, OptionError } from '../base/errors.js';
import { discoverDataset, type Split } from '../data/discoverDataset.js';
import type { ImageLimits } from '../input/imageLimits.js';
import { bestThreshold } from '../evaluate/bestThreshold.js';
import type { EvaluationReport } from '../evaluate/computeMetrics.js';
import { evaluate, type EvaluateResult } from '../evaluate/evaluate.js';
import { scoreOutputs } from '../evaluate/scoreOutputs.js';
import { uncalibratedRule } from '../evaluate/fitCalibration.js';
import type { BundleMetadata, EnsembleMember } from '../model/bundleMetadata.js';
import { buildBundleMetadata } from '../model/buildBundleMetadata.js';
import type { ModelBundle } from '../model/modelBundle.js';
import type { PreprocessSpec } from '../input/preprocessSpec.js';
import { createClassifier } from '../predict/classifier.js';
import { forcedChoiceClasses, forcedChoiceThreshold } from '../evaluate/forcedChoiceTuning.js';
import { membersForcedChoice } from './ensembleForcedChoice.js';
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs';

export interface EnsembleOptions {
  /** Name recorded in the bundle (default "ensemble"). */
  name?: string;
  /**
   * Decision threshold of a sigmoid ensemble. Default: the mean of the members' thresholds, a
   * stopgap; tune it on labelled data none of the members trained on (`happysad ensemble --tune`).
   */
  threshold?: number;
  /** Free-form provenance. */
  source?: string;
  /**
   * Labelled images none of the members trained on: a sigmoid ensemble's threshold is set for the
   * best balanced accuracy there, and the figures are recorded as its validation metrics. A model
   * with a neither class (happy, neutral, sad) gets its forced choice's threshold tuned there too.
   */
  tune?: EnsembleData;
  /** Labelled images to score the result on, recorded as its test metrics. Must not be the tuning data. */
  test?: EnsembleData;
  /** Threads for scoring tune/test images (default 1). */
  workers?: number;
  /**
   * Whether the ensemble averages each prediction with its mirror image. Default: as the members
   * do (they must agree). Given, it replaces theirs: the mirror is how a model is run, not what it
   * learned. Off halves the forward passes; what it costs in accuracy depends on the members
   * (measure it: docs/default-model.md has the default model's figures).
   */
  testTimeFlip?: boolean;
}

export interface EnsembleData {
  dir: string;
  /**
   * Split of a train/val/test layout. Default: val for tuning (the test split must stay unseen),
   * evaluate's default (test) for testing; a folder of class folders is used whole.
   */
  split?: Split;
  /** false: score the images as they are (already face crops); default true for a face model. */
  faces?: boolean;
  limits?: ImageLimits;
}

export interface EnsembleResult {
  model: LayersModel;
  /** Threshold and metrics filled in when tune/test data were given. */
  metadata: BundleMetadata;
  validation?: EvaluationReport;
  test?: EvaluationReport;
}

/**
 * Averages the probabilities of several bundles that read the same input the same way, as one
 * ordinary TensorFlow.js layers model: the shared input feeds every member, an Average layer
 * joins their outputs. Each member's layers are renamed `m<k>_<name>` (two copies of one
 * architecture would otherwise save weights under the same names, which no reader accepts), so
 * the result saves, loads and runs wherever a single model does (CLI, server, browser) and
 * goes through the same preprocessing and test-time flip.
 *
 * Why an ensemble: independently initialised nets make partly independent mistakes; averaging
 * them is the cheapest reliable gain in accuracy and calibration once one net has plateaued.
 */
export async function ensembleBundles(members: ModelBundle[], o: EnsembleOptions = {}): Promise<EnsembleResult> {
  if (o.tune && o.threshold !== undefined) throw new OptionError('give a threshold or data to tune it on, not both');
  const built = await averageBundles(members, o);
  if (!o.tune && !o.test) return built;
  const { metadata } = built;
  const classifier = await createClassifier({ dir: '', model: built.model, metadata }, { workers: o.workers });
  try {
    const score = (d: EnsembleData, split: Split | undefined) => evaluate(d.dir, classifier, { split, faces: d.faces, limits: d.limits });
    const tuned = o.tune ? await score(o.tune, o.tune.split ?? (await tuningSplit(o.tune.dir))) : undefined;
    const tested = o.test ? await score(o.test, o.test.split) : undefined;
    if (tuned && tested && resolve(o.tune!.dir) === resolve(o.test!.dir) && tuned.split === tested.split) {
      throw new OptionError(`test data ${o.test!.dir} (${tested.split}) is the data the threshold is tuned on, so its figures would not be a test; give held-out images, or another split`);
    }
    if (tuned && metadata.output === 'sigmoid') {
      metadata.threshold = bestThreshold(tuned.rows.map((r) => r.score), tuned.rows.map((r) => r.truth === metadata.positiveClass));
    }
    // A model with a neither class: the forced choice's threshold is tuned on the same data (a second pass, forced).
    const between = tuned ? (metadata.forcedChoice?.between ?? forcedChoiceClasses(metadata)) : undefined;
    if (tuned && between) {
      metadata.forcedChoice = { between, threshold: metadata.forcedChoice?.threshold ?? 0.5 };
      const forced = await evaluate(o.tune!.dir, classifier, { split: tuned.split === 'all' ? undefined : tuned.split, faces: o.tune!.faces, limits: o.tune!.limits, forcedChoice: true });
      metadata.forcedChoice.threshold = forcedChoiceThreshold(forced.rows.map((r) => r.score), forced.rows.map((r) => r.truth === between[0]));
    }
    const validation = tuned ? rescore(tuned, metadata) : undefined;
    const test = tested ? rescore(tested, metadata) : undefined;
    metadata.metrics = { ...(validation ? { validation } : {}), ...(test ? { test } : {}) };
    return { ...built, validation, test };
  } finally {
    await classifier.close();
  }
}

/** Tuning wants a split layout's val folder; a folder of class folders is used whole. */
async function tuningSplit(dir: string): Promise<Split | undefined> {
  return (await discoverDataset(dir)).layout === 'split' ? 'val' : undefined;
}

/** The report at the final threshold, from the scores already computed (no second pass over the images). */
function rescore(result: EvaluateResult, m: BundleMetadata): EvaluationReport {
  if (m.output !== 'sigmoid') return result.report;
  return scoreOutputs(result.rows.map((r) => r.score), result.rows.map((r) => m.classes.indexOf(r.truth)), m).report;
}

/** The averaging model and its metadata, threshold from the options or the members' mean. */
async function averageBundles(members: ModelBundle[], o: EnsembleOptions): Promise<EnsembleResult> {
  if (members.length < 2) throw new BundleError(`an ensemble needs at least 2 models, got ${members.length}`);
  const first = members[0];
  const where = (b: ModelBundle) => b.dir || b.metadata.name;
  for (const b of members.slice(1)) checkCompatible(first, b, where, o.testTimeFlip !== undefined);
  const shape = first.model.inputs[0].shape.slice(1) as number[];
  const input = tf.input({ shape, name: 'image' });
  const outputs: SymbolicTensor[] = [];
  for (const [k, b] of members.entries()) {
    const copy = await renamedCopy(b.model, `m${k + 1}_`);
    outputs.push(copy.apply(input) as SymbolicTensor);
  }
  const model = tf.model({ inputs: input, outputs: tf.layers.average({ name: 'mean_probability' }).apply(outputs) as SymbolicTensor, name: o.name ?? 'ensemble' });
  const m = first.metadata;
  // The average is of the members' networks, uncalibrated: so are the thresholds averaged.
  const threshold = o.threshold ?? members.reduce((s, b) => s + uncalibratedRule(b.metadata).threshold, 0) / members.length;
  if (m.output === 'sigmoid' && !(threshold > 0 && threshold < 1)) throw new BundleError(`ensemble threshold must be in (0, 1), got ${threshold}`);
  const fingerprints = new Set(members.map((b) => b.metadata.dataset?.fingerprint.sha256 ?? null));
  const forcedChoice = membersForcedChoice(members);
  const metadata = buildBundleMetadata({
    name: o.name ?? 'ensemble',
    arch: `ensemble(${members.map((b) => b.metadata.arch).join(', ')})`,
    classes: m.classes,
    output: m.output,
    positiveClass: m.positiveClass,
    threshold,
    preprocessing: o.testTimeFlip === undefined ? m.preprocessing : withTestTimeFlip(m.preprocessing, o.testTimeFlip),
    // The ensemble adds no random choice of its own; each member records its seed.
    seed: null,
    training: null,
    // One dataset record when every member trained on the same data (same fingerprint).
    dataset: fingerprints.size === 1 && !fingerprints.has(null) ? m.dataset : null,
    metrics: null,
    ...(o.source ? { source: o.source } : {}),
    ...(forcedChoice ? { forcedChoice } : {}),
    members: members.map((b) => memberRecord(b)),
  });
  return { model, metadata };
}

function memberRecord(b: ModelBundle): EnsembleMember {
  const m = b.metadata;
  return {
    // The network's own cut: memberBundles gives a member back without the calibration it had.
    name: m.name, arch: m.arch, seed: m.seed, threshold: uncalibratedRule(m).threshold, createdAt: m.createdAt, params: b.model.countParams(),
    training: m.training, dataset: m.dataset, metrics: m.metrics, ...(m.source ? { source: m.source } : {}), ...(m.members ? { members: m.members } : {}),
  };
}

/** The spec with the mirror on or off; off is written as train writes it, by leaving the field out. */
function withTestTimeFlip(spec: PreprocessSpec, on: boolean): PreprocessSpec {
  const { testTimeFlip: _, ...rest } = spec;
  return on ? { ...rest, testTimeFlip: true } : rest;
}

function checkCompatible(a: ModelBundle, b: ModelBundle, where: (b: ModelBundle) => string, flipGiven: boolean): void {
  const fix = 'only models trained for the same classes on the same input can be averaged';
  const ma = a.metadata;
  const mb = b.metadata;
  if (ma.classes.join('\n') !== mb.classes.join('\n')) throw new BundleError(`${where(b)}: classes ${mb.classes.join(', ')} differ from ${where(a)}'s ${ma.classes.join(', ')}; ${fix}`);
  if (ma.output !== mb.output || ma.positiveClass !== mb.positiveClass) throw new BundleError(`${where(b)}: output ${mb.output} (positive class ${mb.positiveClass}) differs from ${where(a)}'s ${ma.output} (${ma.positiveClass}); ${fix}`);
  // A given test-time flip replaces the members' own, so theirs need not agree.
  const pa = canonicalJson(flipGiven ? withTestTimeFlip(ma.preprocessing, false) : ma.preprocessing);
  const pb = canonicalJson(flipGiven ? withTestTimeFlip(mb.preprocessing, false) : mb.preprocessing);
  if (pa !== pb) {
    throw new BundleError(`${where(b)}: its preprocessing ${pb} differs from ${where(a)}'s ${pa}; every member must see exactly the same pixels (size, colour, scaling, face crop, test-time flip), ${fix}`);
  }
}

/** JSON with sorted keys, so that two specs compare equal whatever order their fields were written in. */
function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([p], [q]) => (p < q ? -1 : 1))) : x));
}

type Json = { [key: string]: unknown };

/**
 * The same model with every layer name (and the model's own) prefixed, weights copied. Works on
 * the saved topology, so it handles Sequential and functional members and members that are
 * themselves ensembles (nested models are renamed recursively).
 */
async function renamedCopy(model: LayersModel, prefix: string): Promise<LayersModel> {
  const topology = model.toJSON(null, false) as Json;
  renameTopology(topology, prefix);
  // (The cast: tfjs types a topology as PyJsonDict, which a plain object type does not satisfy.)
  const copy = await tf.models.modelFromJSON({ modelTopology: topology as never });
  const weights = model.getWeights();
  const fresh = copy.getWeights();
  if (fresh.length !== weights.length || fresh.some((w, i) => w.shape.join() !== weights[i].shape.join())) {
    throw new BundleError(`cannot copy the weights of model ${model.name}: its topology did not round-trip`);
  }
  // (getWeights hands out the variables themselves: nothing to dispose.)
  copy.setWeights(weights);
  return copy;
}

function renameTopology(node: Json, prefix: string): void {
  const config = node.config as Json;
  if (typeof config.name === 'string') config.name = prefix + config.name;
  const layers = config.layers as Json[] | undefined;
  if (!Array.isArray(layers)) return;
  const rename = (n: unknown) => (typeof n === 'string' ? prefix + n : n);
  for (const layer of layers) {
    if (typeof layer.name === 'string') layer.name = prefix + layer.name;
    // inbound_nodes: [[[layerName, nodeIndex, tensorIndex, kwargs], ...], ...]
    if (Array.isArray(layer.inbound_nodes)) for (const node of layer.inbound_nodes as unknown[][][]) for (const ref of node) ref[0] = rename(ref[0]);
    // A nested model renames its own layers: its inner names are what its weights are saved under.
    renameTopology(layer, prefix);
  }
  for (const key of ['input_layers', 'output_layers']) {
    const refs = config[key] as unknown[][] | undefined;
    if (Array.isArray(refs)) for (const ref of refs) ref[0] = rename(ref[0]);
  }
}
