import { initEngine } from '../../engine/engine.js';
import { readBundle, type ModelBundle } from '../../model/modelBundle.js';
import { KerasExportError } from './errors.js';
import { HAPPYSAD_METADATA_ATTR, type EmbeddedMetadata } from './embeddedMetadata.js';
import { writeHdf5Atomic, writeNameListAttr } from './hdf5.js';
import { toKerasSequentialConfig, weightSuffixes, type LayerSpec } from './kerasConfig.js';
import { specsFromModel } from './tfjsLayers.js';
import { claimFileOutput, keepCopy } from '../../io/outputPaths.js';

/** The Keras version the written file claims: its model_config has the fields this release wrote. */
export const KERAS_EXPORT_VERSION = '2.12.0';

export interface KerasExportResult {
  file: string;
  layers: number;
  params: number;
  /** The class the sigmoid unit measures in the written file (undefined for softmax). */
  sigmoidMeasures?: string;
  /** True when the bundle's sigmoid measured the first class and the output layer was negated to follow Keras' convention. */
  outputNegated: boolean;
  /** Whether a training_config (so model.compile settings) was written. */
  trainingConfig: boolean;
}

/**
 * Writes a bundle as the Keras 2.x HDF5 file `keras.models.load_model("x.h5")` reads: model_config
 * as tf.keras 2.12 writes it, weights under model_weights/<layer>/<layer>/<weight>:0, and, when the
 * bundle was trained here, a training_config (Adam, cross-entropy, accuracy). The file appears
 * at `outFile` only once complete.
 *
 * Keras code reads a single sigmoid unit as p(second class); a bundle whose sigmoid measures the
 * first class (happysad's default p(happy)) is written with its last Dense layer negated, which
 * turns p(happy) into exactly p(sad) = 1 - p(happy). The bundle's own metadata rides along in
 * a root attribute that Keras ignores, so importing the file again restores the bundle exactly.
 */
export async function exportKerasModel(bundleDirOrBundle: string | ModelBundle, outFile: string, options: { overwrite?: boolean } = {}): Promise<KerasExportResult> {
  await initEngine();
  const claim = await claimFileOutput(outFile, { overwrite: options.overwrite, inputs: typeof bundleDirOrBundle === 'string' ? [bundleDirOrBundle] : [] });
  const owned = typeof bundleDirOrBundle === 'string';
  const bundle = owned ? await readBundle(bundleDirOrBundle) : bundleDirOrBundle;
  try {
    const m = bundle.metadata;
    const where = bundle.dir || m.name;
    if (m.members?.length) {
      throw new KerasExportError(`${where}: this model averages ${m.members.length} models (${m.arch}); Keras export supports one chain of layers, so export the bundles it was made from one by one`);
    }
    const chain = specsFromModel(bundle.model, where);
    const rename = kerasNames([chain.inputName, ...chain.layers.map((l) => l.spec.name)]);
    const specs: LayerSpec[] = chain.layers.map((l) => ({ ...l.spec, name: rename(l.spec.name) }));

    const negate = m.output === 'sigmoid' && m.positiveClass === m.classes[0];
    const negated = negate ? sigmoidDense(specs, where) : undefined;

    const groups = chain.layers.map(({ spec, layer }, i) => {
      const name = specs[i].name;
      const suffixes = weightSuffixes(spec);
      const tensors = layer.getWeights();
      if (tensors.length !== suffixes.length) throw new KerasExportError(`${where}: layer '${spec.name}' has ${tensors.length} weights, expected ${suffixes.join(', ') || 'none'}`);
      const weights = tensors.map((t, k) => {
        let values = Float32Array.from(t.dataSync() as Float32Array);
        if (name === negated) values = values.map((x) => -x);
        return { suffix: suffixes[k], values, shape: t.shape };
      });
      return { name, weights };
    });

    const modelConfig = toKerasSequentialConfig({ name: rename.model(bundle.model.name || m.name), inputName: rename(chain.inputName), inputShape: chain.inputShape, layers: specs });
    const lr = m.training?.options?.learningRate;
    const trainingConfig = m.training ? {
      loss: m.output === 'sigmoid' ? 'binary_crossentropy' : 'categorical_crossentropy',
      metrics: ['accuracy'],
      weighted_metrics: null,
      loss_weights: null,
      optimizer_config: { class_name: 'Adam', config: { name: 'Adam', learning_rate: typeof lr === 'number' ? lr : 0.001, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: false } },
    } : undefined;
    const embedded: EmbeddedMetadata = { bundle: m, outputNegated: negated !== undefined };

    if (claim.replaces) await keepCopy(claim.file);
    await writeHdf5Atomic(outFile, (f) => {
      f.create_attribute('keras_version', KERAS_EXPORT_VERSION);
      f.create_attribute('backend', 'tensorflow');
      f.create_attribute('model_config', JSON.stringify(modelConfig));
      if (trainingConfig) f.create_attribute('training_config', JSON.stringify(trainingConfig));
      f.create_attribute(HAPPYSAD_METADATA_ATTR, JSON.stringify(embedded));
      const root = f.create_group('model_weights');
      // A Sequential's layer list leaves out its InputLayer, as Keras' does.
      writeNameListAttr(root, 'layer_names', groups.map((g) => g.name));
      // Without these Keras takes the weights for Keras 1's and rewrites the kernels.
      root.create_attribute('backend', 'tensorflow');
      root.create_attribute('keras_version', KERAS_EXPORT_VERSION);
      for (const g of [...groups].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        const group = root.create_group(g.name);
        writeNameListAttr(group, 'weight_names', g.weights.map((w) => `${g.name}/${w.suffix}:0`));
        if (g.weights.length === 0) continue;
        const scope = group.create_group(g.name);
        for (const w of g.weights) scope.create_dataset({ name: `${w.suffix}:0`, data: w.values, shape: w.shape, dtype: '<f' });
      }
      writeNameListAttr(root.create_group('top_level_model_weights'), 'weight_names', []);
    });
    return {
      file: outFile,
      layers: specs.length,
      params: groups.reduce((n, g) => n + g.weights.reduce((k, w) => k + w.values.length, 0), 0),
      sigmoidMeasures: m.output === 'sigmoid' ? m.classes[1] : undefined,
      outputNegated: negated !== undefined,
      trainingConfig: trainingConfig !== undefined,
    };
  } finally {
    if (owned) bundle.model.dispose();
  }
}

/** The Dense layer whose output the final sigmoid reads, which can be negated to flip its meaning. */
function sigmoidDense(layers: LayerSpec[], where: string): string {
  const effective = layers.filter((l) => l.type !== 'Dropout');
  const last = effective[effective.length - 1];
  const before = effective[effective.length - 2];
  if (last?.type === 'Dense' && last.activation === 'sigmoid') return last.name;
  if (last?.type === 'Activation' && last.activation === 'sigmoid' && before?.type === 'Dense' && before.activation === 'linear') return before.name;
  throw new KerasExportError(`${where}: the sigmoid output measures the first class, which Keras code reads as the second, and the model does not end in a Dense layer that could be flipped to match`);
}

/**
 * Names Keras (TensorFlow name scopes) accept, unique within the model; happysad's own names
 * already qualify and pass through unchanged.
 */
function kerasNames(names: string[]): ((name: string) => string) & { model: (name: string) => string } {
  const clean = (n: string) => {
    const s = n.replace(/[^A-Za-z0-9_.-]/g, '_');
    return /^[A-Za-z0-9.]/.test(s) ? s : `l${s}`;
  };
  const map = new Map<string, string>();
  const used = new Set<string>();
  for (const n of names) {
    let c = clean(n);
    for (let i = 1; used.has(c); i++) c = `${clean(n)}_${i}`;
    used.add(c);
    map.set(n, c);
  }
  const f = ((n: string) => map.get(n) ?? clean(n)) as ((name: string) => string) & { model: (name: string) => string };
  f.model = clean;
  return f;
}
