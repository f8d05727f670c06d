import { basename, extname } from 'node:path';
import { initEngine, tf } from '../../engine/engine.js';
import { defaultPreprocessSpec, type InputShape, type PreprocessSpec } from '../../input/preprocessSpec.js';
import { buildBundleMetadata } from '../../model/buildBundleMetadata.js';
import { saveBundle, type ModelBundle } from '../../model/modelBundle.js';
import { claimBundleOutput, writeClaimedBundle } from '../../model/bundleOutput.js';
import { OptionError } from '../../base/errors.js';
import { KerasImportError } from './errors.js';
import { childDataset, childGroup, datasetPaths, openHdf5ForRead, readFloatDataset, readNameListAttr, readTextAttr, type H5File } from './hdf5.js';
import { parseKerasModelConfig, weightSuffixes, type KerasModel, type LayerSpec } from './kerasConfig.js';
import { HAPPYSAD_METADATA_ATTR, type EmbeddedMetadata } from './embeddedMetadata.js';
import { buildSequential } from './tfjsLayers.js';
import type { Sequential, layers } from '@tensorflow/tfjs';

export interface KerasImportOptions {
  /** Bundle folder to write: new or empty. Without it the bundle is only returned. */
  out?: string;
  /** Allow `out` to hold a bundle already; it is kept as OUT.previous. */
  overwrite?: boolean;
  /** Class names in output-unit order. Default happy, sad: Keras' sorted folder order, so a single sigmoid unit is p(sad). */
  classes?: string[];
  /** Pixel scale before the model. Default 1 when the model starts with Rescaling, else 1/255. */
  scale?: number;
  /** Input size; needed when the model accepts any size. */
  input?: InputShape;
  /** Bundle name; default the output folder's name. */
  name?: string;
}

export interface KerasImportResult {
  /** The imported bundle; its model is live, so dispose() it when done. */
  bundle: ModelBundle;
  keras: { version: string; backend: string; modelClass: 'Sequential' | 'Functional'; modelName: string };
  /** What the import changed or decided, in words (folded Resizing, dropped no-op layers, ...). */
  notes: string[];
}

/**
 * Reads a Keras 2.x HDF5 model (`model.save("model.h5")`) into a happysad bundle, checking every
 * weight's name and shape against the layers it must fill. Class order, output meaning and
 * preprocessing follow the Keras conventions of the original projects unless told otherwise.
 */
export async function importKerasModel(h5Path: string, options: KerasImportOptions = {}): Promise<KerasImportResult> {
  await initEngine();
  const where = basename(h5Path);
  validateOptions(options);
  const claim = options.out ? await claimBundleOutput(options.out, { overwrite: options.overwrite, inputs: [h5Path] }) : undefined;
  const file = await openHdf5ForRead(h5Path);
  let model: Sequential | undefined;
  try {
    const header = readHeader(file, where);
    const parsed = parseKerasModelConfig(header.config, where, header.version);
    const notes: string[] = parsed.dropped.map((d) => `left out ${d.type} '${d.name}' (it does nothing at inference)`);
    const embedded = options.classes ? undefined : readEmbedded(file);

    const front = foldFrontResizing(parsed, where, notes);
    const input = resolveInput(parsed, front.resize, options.input, where);
    model = buildModel(parsed.name, input, front.layers, where);
    const output = describeOutput(model, front.layers, where, notes);
    // Only a layer this import can find again was negated by the export; anything else reads as Keras would.
    const flipBack = embedded?.outputNegated === true && output.dense !== undefined;
    loadWeights(file, where, parsed, front.layers, model, flipBack ? output.dense : undefined);

    const decision = decideClasses(output.units, options.classes, embedded, flipBack, where);
    // An exported calibrated bundle's threshold is on calibrated scores (the .h5 holds the network alone): the
    // calibration comes back with it whenever the classes are read as that bundle read them.
    const e = embedded?.bundle;
    const calibration = e?.calibration && decision.positiveClass === e.positiveClass && decision.classes.join('\n') === e.classes.join('\n') ? e.calibration : undefined;
    const preprocessing = decidePreprocessing(input, front, options, embedded, notes);
    const name = options.name ?? (options.out ? basename(options.out) : embedded?.bundle.name ?? basename(h5Path, extname(h5Path)));
    const metadata = buildBundleMetadata({
      name,
      arch: embedded?.bundle.arch ?? `keras:${parsed.name}`,
      classes: decision.classes,
      output: output.units === 1 ? 'sigmoid' : 'softmax',
      positiveClass: decision.positiveClass,
      threshold: decision.threshold,
      preprocessing,
      seed: embedded?.bundle.seed ?? null,
      training: embedded?.bundle.training ?? null,
      dataset: embedded?.bundle.dataset ?? null,
      metrics: embedded?.bundle.metrics ?? null,
      source: `imported from ${where} (keras ${header.version}${embedded ? `, exported by happysad ${embedded.bundle.versions?.happysad ?? ''}`.trimEnd() : ''})`,
      ...(calibration ? { calibration } : {}),
    }, { keras: header.version });
    if (claim) await writeClaimedBundle(claim, (dir) => saveBundle(dir, model!, metadata));
    const bundle: ModelBundle = { dir: options.out ?? '', model, metadata };
    model = undefined;
    return { bundle, keras: { version: header.version, backend: header.backend, modelClass: parsed.kind, modelName: parsed.name }, notes };
  } finally {
    model?.dispose();
    file.close();
  }
}

function validateOptions(o: KerasImportOptions): void {
  if (o.classes) {
    if (o.classes.length < 2 || o.classes.some((c) => !c.trim())) throw new OptionError(`--classes needs at least two non-empty names, got "${o.classes.join(',')}"`);
    if (new Set(o.classes).size !== o.classes.length) throw new OptionError(`--classes names must differ, got "${o.classes.join(',')}"`);
  }
  if (o.scale !== undefined && !(Number.isFinite(o.scale) && o.scale > 0)) throw new OptionError(`--scale must be a positive number, got ${o.scale}`);
}

interface Header {
  config: unknown;
  version: string;
  backend: string;
}

function readHeader(file: H5File, where: string): Header {
  const configText = readTextAttr(file, 'model_config');
  if (configText === undefined) {
    const keys = file.keys();
    if (file.attrs.layer_names || file.attrs.layer_names0) {
      throw new KerasImportError(`${where}: holds only weights (model.save_weights); happysad needs the whole model: in Python, model.save("model.h5")`);
    }
    const top = keys.length ? `it contains ${keys.slice(0, 6).map((k) => `"${k}"`).join(', ')}${keys.length > 6 ? ', ...' : ''}` : 'it is empty';
    throw new KerasImportError(`${where}: an HDF5 file but not a Keras model (no model_config attribute; ${top})`);
  }
  let config: unknown;
  try {
    config = JSON.parse(configText);
  } catch (err) {
    throw new KerasImportError(`${where}: model_config is not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const weights = childGroup(file, 'model_weights');
  const version = readTextAttr(file, 'keras_version') ?? (weights && readTextAttr(weights, 'keras_version')) ?? 'unknown';
  const backend = readTextAttr(file, 'backend') ?? (weights && readTextAttr(weights, 'backend')) ?? 'unknown';
  if (/^1\./.test(version)) throw new KerasImportError(`${where}: saved by Keras ${version}; happysad imports Keras 2 files (load it in Keras 2 and save again)`);
  if (backend === 'theano' || backend === 'cntk') throw new KerasImportError(`${where}: saved with the ${backend} backend, whose kernels are laid out differently; load it with Keras on TensorFlow and save again`);
  return { config, version, backend };
}

function readEmbedded(file: H5File): EmbeddedMetadata | undefined {
  const text = readTextAttr(file, HAPPYSAD_METADATA_ATTR);
  if (!text) return undefined;
  try {
    const e = JSON.parse(text) as EmbeddedMetadata;
    const b = e?.bundle;
    if (!b || !Array.isArray(b.classes) || !b.classes.every((c) => typeof c === 'string') || typeof b.positiveClass !== 'string' || !b.classes.includes(b.positiveClass)) return undefined;
    return e;
  } catch {
    // A damaged note from a happysad export is not worth refusing the model over; Keras' conventions apply.
    return undefined;
  }
}

interface Front {
  layers: LayerSpec[];
  resize?: Extract<LayerSpec, { type: 'Resizing' }>;
  rescales: boolean;
}

/**
 * A Resizing at the start of the model (alone or around a Rescaling) becomes happysad's own
 * resize in preprocessing: images are decoded straight to its size, so the model needs no
 * fixed input size of its own. Elsewhere in the network it cannot be reproduced exactly (tfjs'
 * Resizing aligns corners, Keras uses half-pixel centres), so it is refused there.
 */
function foldFrontResizing(parsed: KerasModel, where: string, notes: string[]): Front {
  let resize: Front['resize'];
  let rescales = false;
  let i = 0;
  for (; i < parsed.layers.length; i++) {
    const l = parsed.layers[i];
    if (l.type === 'Resizing') resize = l;
    else if (l.type === 'Rescaling') rescales = true;
    else break;
  }
  const late = parsed.layers.slice(i).find((l) => l.type === 'Resizing');
  if (late) throw new KerasImportError(`${where}: layer '${late.name}' (Resizing) is supported only at the start of the model, where it can become preprocessing`);
  if (resize) notes.push(`Resizing '${resize.name}' to ${resize.height}x${resize.width} is done when images are decoded`);
  return { layers: parsed.layers.filter((l) => l.type !== 'Resizing'), resize, rescales };
}

function resolveInput(parsed: KerasModel, resize: Front['resize'], given: InputShape | undefined, where: string): [number, number, 1 | 3] {
  const [mh, mw, mc] = parsed.inputShape;
  const shown = `${mh ?? 'any'}x${mw ?? 'any'}x${mc ?? 'any'}`;
  const c = mc ?? given?.[2];
  if (c === undefined) throw new KerasImportError(`${where}: the model accepts any number of channels; give --input HxWx3 (RGB) or HxWx1 (grayscale)`);
  if (c !== 1 && c !== 3) throw new KerasImportError(`${where}: the model takes ${c}-channel images; happysad feeds 1 (grayscale) or 3 (RGB)`);
  if (given && given[2] !== c) throw new KerasImportError(`--input ${given.join('x')}: the model takes ${c}-channel images (${shown})`);
  if (resize) {
    if (given && (given[0] !== resize.height || given[1] !== resize.width)) {
      throw new KerasImportError(`--input ${given.join('x')}: the model resizes its input to ${resize.height}x${resize.width} itself; leave out --input or give ${resize.height}x${resize.width}x${c}`);
    }
    return [resize.height, resize.width, c];
  }
  if (given) {
    if ((mh !== null && mh !== given[0]) || (mw !== null && mw !== given[1])) throw new KerasImportError(`--input ${given.join('x')}: the model takes ${shown} images`);
    return [given[0], given[1], c];
  }
  if (mh === null || mw === null) throw new KerasImportError(`${where}: the model accepts images of any size (${shown}); give the size it was trained at with --input HxWx${c}`);
  return [mh, mw, c];
}

function buildModel(name: string, input: [number, number, 1 | 3], layers: LayerSpec[], where: string): Sequential {
  if (layers.length === 0) throw new KerasImportError(`${where}: the model has no layers to run`);
  try {
    return buildSequential(name, input, layers);
  } catch (err) {
    throw new KerasImportError(`${where}: cannot build the model for ${input.join('x')} input: ${(err as Error).message}`, { cause: err });
  }
}

interface OutputInfo {
  units: number;
  /** The Dense layer whose pre-activation a sigmoid reads (for undoing a happysad export's flip). */
  dense?: string;
}

/**
 * Finds what the model outputs: one sigmoid unit or a softmax row. A model that ends in logits
 * (linear) gets the matching activation appended, since happysad reports probabilities.
 */
function describeOutput(model: Sequential, layers: LayerSpec[], where: string, notes: string[]): OutputInfo {
  const shape = model.outputs[0].shape;
  if (shape.length !== 2) throw new KerasImportError(`${where}: the model outputs shape [${shape.map((d) => d ?? 'None').join(', ')}]; happysad needs one row of class scores per image (add Flatten/Dense)`);
  const units = shape[1] as number;
  const effective = layers.filter((l) => l.type !== 'Dropout');
  const last = effective[effective.length - 1];
  let activation = 'linear';
  let dense: string | undefined;
  if (last.type === 'Dense') {
    activation = last.activation;
    dense = last.name;
  } else if (last.type === 'Activation') {
    activation = last.activation;
    const before = effective[effective.length - 2];
    if (before?.type === 'Dense' && before.activation === 'linear') dense = before.name;
  } else {
    throw new KerasImportError(`${where}: the model ends in ${last.type} '${last.name}'; happysad needs it to end in class scores (a Dense layer, with sigmoid or softmax)`);
  }
  if (activation === 'linear') {
    const fn = units === 1 ? 'sigmoid' : 'softmax';
    const taken = new Set(model.layers.map((l) => l.name));
    let name = 'probabilities';
    for (let i = 1; taken.has(name); i++) name = `probabilities_${i}`;
    model.add(tf.layers.activation({ name, activation: fn }));
    notes.push(`the model outputs logits; a ${fn} layer '${name}' was appended so that scores are probabilities`);
    activation = fn;
  }
  if (activation === 'sigmoid' && units !== 1) throw new KerasImportError(`${where}: the model has ${units} sigmoid outputs (multi-label); happysad supports one sigmoid unit or a softmax`);
  if (activation === 'softmax' && units < 2) throw new KerasImportError(`${where}: the model ends in a softmax over a single unit, which is always 1`);
  if (activation !== 'sigmoid' && activation !== 'softmax') throw new KerasImportError(`${where}: the model's last activation is ${activation}; happysad needs probabilities (sigmoid or softmax)`);
  return { units, dense: activation === 'sigmoid' ? dense : undefined };
}

/**
 * Fills every layer's weights from model_weights/<layer>/<weight>, checking each name and shape,
 * and refuses weights nobody uses or layers left without theirs: a file that half fits would
 * otherwise load and predict nonsense. All problems are reported together.
 */
function loadWeights(file: H5File, where: string, parsed: KerasModel, layers: LayerSpec[], model: Sequential, negate: string | undefined): void {
  const root = childGroup(file, 'model_weights');
  if (!root) throw new KerasImportError(`${where}: has no model_weights group; it was saved without weights`);
  const listed = readNameListAttr(root, 'layer_names', where);
  if (!listed) throw new KerasImportError(`${where}: model_weights has no layer_names attribute; not a Keras model file`);
  const problems: string[] = [];
  const assignments: { layer: layers.Layer; values: { shape: number[]; values: Float32Array }[] }[] = [];
  // Left-out no-op layers and the input layer own nothing that matters; their groups are not checked.
  const accounted = new Set<string>([...parsed.dropped.map((d) => d.name), ...(parsed.inputName ? [parsed.inputName] : [])]);

  for (const spec of parsed.layers) {
    accounted.add(spec.name);
    const expected = weightSuffixes(spec);
    const group = listed.includes(spec.name) ? childGroup(root, spec.name) : undefined;
    if (!group) {
      if (expected.length) problems.push(`layer '${spec.name}' (${spec.type}) has no weights in the file`);
      continue;
    }
    const names = readNameListAttr(group, 'weight_names', `${where}: model_weights/${spec.name}`) ?? [];
    const found = names.map(suffixOf);
    if (found.join() !== expected.join()) {
      problems.push(`layer '${spec.name}' (${spec.type}) needs ${expected.length ? `weights ${expected.join(', ')}` : 'no weights'} but the file has ${found.length ? names.join(', ') : 'none'}`);
      continue;
    }
    const stray = datasetPaths(group).filter((p) => !names.includes(p));
    if (stray.length) problems.push(`model_weights/${spec.name} holds ${stray.join(', ')}, which layer '${spec.name}' does not use`);
    if (expected.length === 0 || !layers.includes(spec)) continue;
    const layer = model.getLayer(spec.name);
    const values: { shape: number[]; values: Float32Array }[] = [];
    names.forEach((weightName, i) => {
      const want = layer.weights[i].shape as number[];
      const ds = childDataset(group, weightName);
      if (!ds) {
        problems.push(`weight '${weightName}' is listed but not stored`);
        return;
      }
      const read = readFloatDataset(ds);
      if ('problem' in read) {
        problems.push(`weight '${weightName}' ${read.problem}`);
        return;
      }
      if (read.shape.join() !== want.join()) {
        problems.push(`weight '${weightName}' has shape [${read.shape.join(', ')}] but layer '${spec.name}' needs [${want.join(', ')}]${spec.type === 'Dense' && i === 0 ? ' (was the model saved for another input size? see --input)' : ''}`);
        return;
      }
      values.push(read);
    });
    if (values.length === expected.length) {
      if (spec.name === negate) for (const v of values) v.values = v.values.map((x) => -x);
      assignments.push({ layer, values });
    }
  }

  for (const name of listed) {
    if (accounted.has(name)) continue;
    const group = childGroup(root, name);
    if (!group) {
      problems.push(`layer_names lists '${name}' but there is no such group`);
      continue;
    }
    const names = readNameListAttr(group, 'weight_names', `${where}: model_weights/${name}`) ?? [];
    const stored = datasetPaths(group);
    if (names.length || stored.length) problems.push(`the file has weights for a layer '${name}' (${(names.length ? names : stored).join(', ')}) that the model does not have`);
  }
  for (const key of root.keys()) {
    if (listed.includes(key)) continue;
    const group = childGroup(root, key);
    const stored = group ? datasetPaths(group) : [key];
    if (key === 'top_level_model_weights' && group && stored.length === 0) continue;
    if (stored.length) problems.push(`model_weights/${key} holds weights (${stored.slice(0, 4).join(', ')}) that no layer uses`);
  }

  if (problems.length) {
    const shown = problems.slice(0, 8).map((p) => `\n  - ${p}`).join('');
    throw new KerasImportError(`${where}: the weights do not match the model:${shown}${problems.length > 8 ? `\n  - and ${problems.length - 8} more` : ''}`);
  }
  for (const { layer, values } of assignments) {
    const tensors = values.map((v) => tf.tensor(v.values, v.shape, 'float32'));
    layer.setWeights(tensors);
    tf.dispose(tensors);
  }
}

/** `conv2d/kernel:0` (Keras 2), `conv2d/kernel` (Keras 3) -> `kernel`. */
function suffixOf(weightName: string): string {
  return weightName.split('/').pop()!.replace(/:\d+$/, '');
}

function decideClasses(units: number, given: string[] | undefined, embedded: EmbeddedMetadata | undefined, flipBack: boolean, where: string): { classes: string[]; positiveClass: string; threshold: number } {
  const threshold = embedded?.bundle.threshold ?? 0.5;
  if (units === 1) {
    const classes = given ?? (embedded?.bundle.classes.length === 2 ? embedded.bundle.classes : ['happy', 'sad']);
    if (classes.length !== 2) throw new KerasImportError(`--classes ${classes.join(',')}: a single sigmoid output needs exactly two class names (the second is what it measures)`);
    // Keras' binary convention: the unit is p(label 1), the second class in sorted order.
    if (flipBack) return { classes, positiveClass: classes[0], threshold };
    return { classes, positiveClass: classes[1], threshold: embedded && embedded.bundle.positiveClass === classes[1] ? threshold : 0.5 };
  }
  const classes = given ?? (embedded?.bundle.classes.length === units ? embedded.bundle.classes : units === 2 ? ['happy', 'sad'] : undefined);
  if (!classes) throw new KerasImportError(`${where}: the model has ${units} output classes; name them in output order with --classes a,b,c`);
  if (classes.length !== units) throw new KerasImportError(`--classes ${classes.join(',')}: the model has ${units} outputs, so it needs ${units} names`);
  const positiveClass = embedded && classes.includes(embedded.bundle.positiveClass) ? embedded.bundle.positiveClass : classes.includes('happy') ? 'happy' : classes[1];
  return { classes, positiveClass, threshold };
}

function decidePreprocessing(input: [number, number, 1 | 3], front: Front, options: KerasImportOptions, embedded: EmbeddedMetadata | undefined, notes: string[]): PreprocessSpec {
  const e = embedded?.bundle.preprocessing;
  if (e && e.height === input[0] && e.width === input[1] && e.channels === input[2] && options.scale === undefined) return { ...e };
  const spec = defaultPreprocessSpec(input);
  if (front.rescales) {
    spec.scale = 1;
    notes.push('the model rescales pixels itself (Rescaling layer), so images are fed as 0-255 values');
  }
  if (front.resize) {
    spec.resize = front.resize.cropToAspectRatio ? 'cover' : 'fill';
    spec.kernel = ({ nearest: 'nearest', bicubic: 'cubic', lanczos3: 'lanczos3' } as Record<string, PreprocessSpec['kernel']>)[front.resize.interpolation] ?? 'linear';
  }
  if (options.scale !== undefined) {
    spec.scale = options.scale;
    spec.offset = 0;
  }
  return spec;
}
