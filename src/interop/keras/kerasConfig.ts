import { KerasImportError } from './errors.js';

/**
 * The layers happysad moves between Keras and TensorFlow.js, in one neutral form. Import parses
 * Keras' model_config into it and builds tfjs layers from it; export reads tfjs layers into it
 * and writes Keras' config from it. Keeping both directions on one table is what makes a round
 * trip lossless, and it lets the importer say precisely what it cannot take instead of leaving
 * tfjs' deserializer to fail on a Keras field it does not know.
 */
export type LayerSpec =
  | { type: 'Conv2D'; name: string; filters: number; kernelSize: Pair; strides: Pair; padding: Padding; dilation: Pair; activation: Activation; useBias: boolean }
  | { type: 'MaxPooling2D' | 'AveragePooling2D'; name: string; poolSize: Pair; strides: Pair; padding: Padding }
  | { type: 'Dropout'; name: string; rate: number }
  | { type: 'Flatten'; name: string }
  | { type: 'Dense'; name: string; units: number; activation: Activation; useBias: boolean }
  | { type: 'BatchNormalization'; name: string; momentum: number; epsilon: number; center: boolean; scale: boolean }
  | { type: 'Activation'; name: string; activation: Activation }
  | { type: 'Rescaling'; name: string; scale: number; offset: number }
  | { type: 'Resizing'; name: string; height: number; width: number; interpolation: string; cropToAspectRatio: boolean };

export type Pair = [number, number];
export type Padding = 'valid' | 'same';

/** Keras activation names; each has an exact tfjs counterpart (see TFJS_ACTIVATION). */
export type Activation = 'linear' | 'relu' | 'relu6' | 'sigmoid' | 'softmax' | 'tanh' | 'elu' | 'selu' | 'softplus' | 'softsign' | 'swish' | 'hard_sigmoid';

export const TFJS_ACTIVATION: Record<Activation, string> = {
  linear: 'linear', relu: 'relu', relu6: 'relu6', sigmoid: 'sigmoid', softmax: 'softmax', tanh: 'tanh', elu: 'elu', selu: 'selu',
  softplus: 'softplus', softsign: 'softsign', swish: 'swish', hard_sigmoid: 'hardSigmoid',
};

export const SUPPORTED_LAYERS = ['InputLayer', 'Conv2D', 'MaxPooling2D', 'AveragePooling2D', 'Dropout', 'Flatten', 'Dense', 'BatchNormalization', 'Activation', 'Rescaling', 'Resizing'];

/** Layers that do nothing outside training, so a model keeps its predictions without them. */
const INFERENCE_NO_OPS = new Set(['RandomFlip', 'RandomRotation', 'RandomZoom', 'RandomTranslation', 'RandomContrast', 'RandomBrightness', 'GaussianNoise', 'GaussianDropout', 'SpatialDropout2D', 'AlphaDropout']);

export interface KerasModel {
  name: string;
  kind: 'Sequential' | 'Functional';
  inputName: string;
  /** [height, width, channels]; null where the model accepts any size. */
  inputShape: [number | null, number | null, number | null];
  layers: LayerSpec[];
  /** Layers left out because they are identity at inference (their weights, if any, are ignored). */
  dropped: { name: string; type: string }[];
}

type Json = Record<string, unknown>;

/** Weight names a layer stores, in Keras' order (trainable first, as its h5 writer lists them). */
export function weightSuffixes(layer: LayerSpec): string[] {
  switch (layer.type) {
    case 'Conv2D':
    case 'Dense':
      return layer.useBias ? ['kernel', 'bias'] : ['kernel'];
    case 'BatchNormalization':
      return [...(layer.scale ? ['gamma'] : []), ...(layer.center ? ['beta'] : []), 'moving_mean', 'moving_variance'];
    default:
      return [];
  }
}

/** Parses Keras' model_config JSON (Keras 2.x; Keras 3 field names where they differ). */
export function parseKerasModelConfig(config: unknown, where: string, kerasVersion: string): KerasModel {
  if (!isObject(config) || typeof config.class_name !== 'string') throw new KerasImportError(`${where}: model_config is not a Keras model configuration`);
  const cls = config.class_name;
  if (cls !== 'Sequential' && cls !== 'Functional' && cls !== 'Model') {
    throw new KerasImportError(`${where}: the saved model is a ${cls}; happysad imports Sequential and functional models`);
  }
  // Keras 2.0-2.1 stored a Sequential's config as the bare list of layers.
  const body: Json = Array.isArray(config.config) ? { layers: config.config } : isObject(config.config) ? config.config : {};
  if (!Array.isArray(body.layers)) throw new KerasImportError(`${where}: model_config has no layer list`);
  const entries = body.layers.map((l, i) => {
    if (!isObject(l) || typeof l.class_name !== 'string' || !isObject(l.config)) throw new KerasImportError(`${where}: layer #${i} in model_config is malformed`);
    return l as { class_name: string; config: Json; name?: string; inbound_nodes?: unknown };
  });
  const nameOf = (e: { config: Json; name?: string }) => String(e.name ?? e.config.name);
  const ordered = cls === 'Sequential' ? entries : chainOrder(entries, body, where, nameOf);

  const unsupported = ordered.filter((e) => !SUPPORTED_LAYERS.includes(e.class_name) && !INFERENCE_NO_OPS.has(e.class_name));
  if (unsupported.length) {
    const list = unsupported.map((e) => `'${nameOf(e)}' is ${describeClass(e.class_name)}`).join(', ');
    throw new KerasImportError(`${where}: layer ${list}, which happysad cannot import; supported: ${SUPPORTED_LAYERS.join(', ')} (and ${[...INFERENCE_NO_OPS].join(', ')}, which do nothing at inference and are left out)`);
  }

  let inputName = '';
  let inputShape: (number | null)[] | undefined;
  let rest = ordered;
  if (ordered[0]?.class_name === 'InputLayer') {
    inputName = nameOf(ordered[0]);
    inputShape = batchShapeOf(ordered[0].config);
    rest = ordered.slice(1);
  }
  if (rest.some((e) => e.class_name === 'InputLayer')) throw new KerasImportError(`${where}: the model has more than one InputLayer`);
  if (!inputShape && rest[0]) {
    inputShape = batchShapeOf(rest[0].config);
    if (!inputShape && Array.isArray(body.build_input_shape)) inputShape = body.build_input_shape as (number | null)[];
    inputName = `${nameOf(rest[0])}_input`;
  }
  if (!inputShape) throw new KerasImportError(`${where}: the model does not record its input shape (it was saved before being built); build it with an Input layer and save again`);
  if (inputShape.length !== 4) {
    throw new KerasImportError(`${where}: the model takes input of shape [${inputShape.map((d) => d ?? 'None').join(', ')}], not images (batch, height, width, channels)`);
  }

  const keras3 = /^3\./.test(kerasVersion);
  const layers: LayerSpec[] = [];
  const dropped: KerasModel['dropped'] = [];
  let rank = 4;
  for (const e of rest) {
    const name = nameOf(e);
    const at = `${where}: layer '${name}' (${e.class_name})`;
    if (INFERENCE_NO_OPS.has(e.class_name)) {
      dropped.push({ name, type: e.class_name });
      continue;
    }
    const layer = parseLayer(e.class_name, e.config, name, at, rank, keras3);
    if (layer.type === 'Flatten') rank = 2;
    layers.push(layer);
  }
  return {
    name: String(body.name ?? 'model'),
    kind: cls === 'Sequential' ? 'Sequential' : 'Functional',
    inputName,
    inputShape: [inputShape[1], inputShape[2], inputShape[3]],
    layers,
    dropped,
  };
}

/**
 * Orders a functional model's layers from input to output. Every supported layer has one input,
 * so a model made of them is a chain; anything else (branches, shared layers, several inputs or
 * outputs) is named in the error rather than half-imported.
 */
function chainOrder<E extends { class_name: string; config: Json; inbound_nodes?: unknown }>(entries: E[], body: Json, where: string, nameOf: (e: E) => string): E[] {
  const byName = new Map(entries.map((e) => [nameOf(e), e]));
  const ends = (key: string): string[] => {
    const list = body[key];
    if (!Array.isArray(list)) return [];
    // [[name, 0, 0], ...] or, for a single tensor in Keras 3, [name, 0, 0].
    if (typeof list[0] === 'string') return [list[0]];
    return list.map((t) => (Array.isArray(t) ? String(t[0]) : String(t)));
  };
  const inputs = ends('input_layers');
  const outputs = ends('output_layers');
  if (inputs.length !== 1 || outputs.length !== 1) throw new KerasImportError(`${where}: the model has ${inputs.length} inputs and ${outputs.length} outputs; happysad imports models with one image input and one output`);
  const chain: E[] = [];
  const seen = new Set<string>();
  for (let name: string | undefined = outputs[0]; name !== undefined;) {
    const e = byName.get(name);
    if (!e) throw new KerasImportError(`${where}: model_config refers to a layer '${name}' it does not define`);
    if (seen.has(name)) throw new KerasImportError(`${where}: model_config has a cycle at layer '${name}'`);
    seen.add(name);
    chain.push(e);
    const parents = inboundLayers(e.inbound_nodes);
    if (parents.length > 1) throw new KerasImportError(`${where}: layer '${name}' (${describeClass(e.class_name)}) takes ${parents.length} inputs; happysad imports models that are a single chain of layers`);
    name = parents[0];
  }
  chain.reverse();
  if (nameOf(chain[0]) !== inputs[0]) throw new KerasImportError(`${where}: the output does not lead back to the input layer '${inputs[0]}'`);
  const unused = entries.filter((e) => !seen.has(nameOf(e)));
  if (unused.length) throw new KerasImportError(`${where}: layer(s) ${unused.map((e) => `'${nameOf(e)}'`).join(', ')} are not on the path from input to output; happysad imports models that are a single chain of layers`);
  return chain;
}

/** Names of the layers feeding this one, from Keras 2 ([[[name, 0, 0, {}]]]) or Keras 3 node records. */
function inboundLayers(nodes: unknown): string[] {
  if (!Array.isArray(nodes) || nodes.length === 0) return [];
  if (nodes.length > 1) return nodes.flatMap((n) => inboundLayers([n]));
  const node = nodes[0];
  if (Array.isArray(node)) {
    if (typeof node[0] === 'string') return [node[0]];
    return node.map((t) => (Array.isArray(t) ? String(t[0]) : String(t)));
  }
  if (isObject(node) && Array.isArray(node.args)) {
    const names: string[] = [];
    const visit = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(visit);
      else if (isObject(v) && v.class_name === '__keras_tensor__' && isObject(v.config) && Array.isArray(v.config.keras_history)) names.push(String(v.config.keras_history[0]));
    };
    visit(node.args);
    return names;
  }
  return [];
}

function describeClass(cls: string): string {
  return cls === 'Sequential' || cls === 'Functional' || cls === 'Model' ? `a nested ${cls} model` : cls;
}

function batchShapeOf(cfg: Json): (number | null)[] | undefined {
  const shape = cfg.batch_input_shape ?? cfg.batch_shape;
  if (Array.isArray(shape)) return shape.map((d) => (typeof d === 'number' ? d : null));
  if (Array.isArray(cfg.input_shape)) return [null, ...cfg.input_shape.map((d) => (typeof d === 'number' ? d : null))];
  return undefined;
}

function parseLayer(cls: string, c: Json, name: string, at: string, rank: number, keras3: boolean): LayerSpec {
  const channelsLast = () => {
    const f = c.data_format;
    if (f !== undefined && f !== null && f !== 'channels_last') throw new KerasImportError(`${at}: data_format "${String(f)}" is not supported; happysad models are channels-last`);
  };
  const padding = (): Padding => {
    const p = c.padding ?? 'valid';
    if (p !== 'valid' && p !== 'same') throw new KerasImportError(`${at}: padding "${String(p)}" is not supported (valid or same)`);
    return p;
  };
  switch (cls) {
    case 'Conv2D': {
      channelsLast();
      if (c.groups !== undefined && c.groups !== 1) throw new KerasImportError(`${at}: grouped convolution (groups=${String(c.groups)}) is not supported`);
      const strides = pair(c.strides ?? 1, at, 'strides');
      const dilation = pair(c.dilation_rate ?? 1, at, 'dilation_rate');
      if ((strides[0] > 1 || strides[1] > 1) && (dilation[0] > 1 || dilation[1] > 1)) throw new KerasImportError(`${at}: strides and dilation both above 1 are not supported (Keras refuses them too)`);
      return {
        type: 'Conv2D', name, filters: positiveInt(c.filters, at, 'filters'), kernelSize: pair(c.kernel_size, at, 'kernel_size'), strides,
        padding: padding(), dilation, activation: activation(c.activation, at, keras3), useBias: c.use_bias !== false,
      };
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      channelsLast();
      const poolSize = pair(c.pool_size ?? 2, at, 'pool_size');
      return { type: cls, name, poolSize, strides: c.strides === null || c.strides === undefined ? poolSize : pair(c.strides, at, 'strides'), padding: padding() };
    }
    case 'Dropout':
      return { type: 'Dropout', name, rate: typeof c.rate === 'number' ? c.rate : 0 };
    case 'Flatten':
      channelsLast();
      return { type: 'Flatten', name };
    case 'Dense':
      return { type: 'Dense', name, units: positiveInt(c.units, at, 'units'), activation: activation(c.activation, at, keras3), useBias: c.use_bias !== false };
    case 'BatchNormalization': {
      const axis = Array.isArray(c.axis) && c.axis.length === 1 ? c.axis[0] : c.axis ?? -1;
      if (axis !== -1 && axis !== rank - 1) throw new KerasImportError(`${at}: normalises axis ${JSON.stringify(c.axis)}; happysad supports the channel (last) axis only`);
      if (c.renorm === true) throw new KerasImportError(`${at}: batch renormalisation (renorm=True) is not supported`);
      return {
        type: 'BatchNormalization', name, momentum: num(c.momentum, 0.99), epsilon: num(c.epsilon, 1e-3),
        center: c.center !== false, scale: c.scale !== false,
      };
    }
    case 'Activation':
      return { type: 'Activation', name, activation: activation(c.activation, at, keras3) };
    case 'Rescaling':
      if (typeof c.scale !== 'number' || (c.offset !== undefined && c.offset !== null && typeof c.offset !== 'number')) {
        throw new KerasImportError(`${at}: per-channel scale/offset (${JSON.stringify(c.scale)}, ${JSON.stringify(c.offset)}) is not supported; only single numbers`);
      }
      return { type: 'Rescaling', name, scale: c.scale, offset: typeof c.offset === 'number' ? c.offset : 0 };
    case 'Resizing':
      return {
        type: 'Resizing', name, height: positiveInt(c.height, at, 'height'), width: positiveInt(c.width, at, 'width'),
        interpolation: typeof c.interpolation === 'string' ? c.interpolation : 'bilinear', cropToAspectRatio: c.crop_to_aspect_ratio === true,
      };
    default:
      throw new KerasImportError(`${at}: not supported`);
  }
}

const KERAS_ACTIVATIONS = new Set<string>(Object.keys(TFJS_ACTIVATION));

function activation(value: unknown, at: string, keras3: boolean): Activation {
  // Keras 3 (and custom objects in 2.13+) may wrap the name: {class_name: "function", config: "relu"}.
  const raw = value === undefined || value === null ? 'linear' : isObject(value) && typeof value.config === 'string' ? value.config : value;
  if (typeof raw !== 'string') throw new KerasImportError(`${at}: activation ${JSON.stringify(value)} is not a built-in activation`);
  const name = raw === 'silu' ? 'swish' : raw;
  // Keras 3 redefined hard_sigmoid (relu6(x + 3) / 6); tfjs has only Keras 2's 0.2x + 0.5.
  if (name === 'hard_sigmoid' && keras3) throw new KerasImportError(`${at}: Keras 3's hard_sigmoid is not supported`);
  if (!KERAS_ACTIVATIONS.has(name)) throw new KerasImportError(`${at}: activation "${name}" is not supported; supported: ${[...KERAS_ACTIVATIONS].join(', ')}`);
  return name as Activation;
}

function pair(value: unknown, at: string, field: string): Pair {
  const v = Array.isArray(value) ? value : [value, value];
  if (v.length !== 2 || !v.every((x) => Number.isInteger(x) && (x as number) > 0)) throw new KerasImportError(`${at}: ${field} ${JSON.stringify(value)} is not a pair of positive integers`);
  return [v[0] as number, v[1] as number];
}

function positiveInt(value: unknown, at: string, field: string): number {
  if (!Number.isInteger(value) || (value as number) <= 0) throw new KerasImportError(`${at}: ${field} ${JSON.stringify(value)} is not a positive integer`);
  return value as number;
}

function num(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ------------------------------------------------------------------------------------------------
// Writing: model_config as tf.keras 2.4-2.12 get_config() produces it. That pre-2.13 form (no
// "module"/"build_config" fields) is the one every Keras 2 release reads, and the one Keras 3's
// .h5 loader runs through its legacy conversion (batch_input_shape, list-valued BN axis).
// ------------------------------------------------------------------------------------------------

function initializer(className: string, config: Json = {}): Json {
  return { class_name: className, config };
}

function kerasLayerConfig(layer: LayerSpec, rank: number): { className: string; config: Json } {
  const base = { name: layer.name, trainable: true, dtype: 'float32' };
  const regularised = {
    kernel_initializer: initializer('GlorotUniform', { seed: null }), bias_initializer: initializer('Zeros'),
    kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null,
  };
  switch (layer.type) {
    case 'Conv2D':
      return {
        className: 'Conv2D',
        config: {
          ...base, filters: layer.filters, kernel_size: layer.kernelSize, strides: layer.strides, padding: layer.padding, data_format: 'channels_last',
          dilation_rate: layer.dilation, groups: 1, activation: layer.activation, use_bias: layer.useBias, ...regularised,
        },
      };
    case 'MaxPooling2D':
    case 'AveragePooling2D':
      return { className: layer.type, config: { ...base, pool_size: layer.poolSize, padding: layer.padding, strides: layer.strides, data_format: 'channels_last' } };
    case 'Dropout':
      return { className: 'Dropout', config: { ...base, rate: layer.rate, noise_shape: null, seed: null } };
    case 'Flatten':
      return { className: 'Flatten', config: { ...base, data_format: 'channels_last' } };
    case 'Dense':
      return { className: 'Dense', config: { ...base, units: layer.units, activation: layer.activation, use_bias: layer.useBias, ...regularised } };
    case 'BatchNormalization':
      return {
        className: 'BatchNormalization',
        config: {
          // Keras records the axis as the list build() normalised it to, e.g. [3].
          ...base, axis: [rank - 1], momentum: layer.momentum, epsilon: layer.epsilon, center: layer.center, scale: layer.scale,
          beta_initializer: initializer('Zeros'), gamma_initializer: initializer('Ones'), moving_mean_initializer: initializer('Zeros'),
          moving_variance_initializer: initializer('Ones'), beta_regularizer: null, gamma_regularizer: null, beta_constraint: null, gamma_constraint: null,
        },
      };
    case 'Activation':
      return { className: 'Activation', config: { ...base, activation: layer.activation } };
    case 'Rescaling':
      return { className: 'Rescaling', config: { ...base, scale: layer.scale, offset: layer.offset } };
    case 'Resizing':
      return { className: 'Resizing', config: { ...base, height: layer.height, width: layer.width, interpolation: layer.interpolation, crop_to_aspect_ratio: layer.cropToAspectRatio } };
  }
}

/** The model_config of a Sequential model: an InputLayer, then the layers in order. */
export function toKerasSequentialConfig(model: { name: string; inputName: string; inputShape: [number, number, number]; layers: LayerSpec[] }): Json {
  const layers: Json[] = [{
    class_name: 'InputLayer',
    config: { batch_input_shape: [null, ...model.inputShape], dtype: 'float32', sparse: false, ragged: false, name: model.inputName },
  }];
  let rank = 4;
  for (const layer of model.layers) {
    const { className, config } = kerasLayerConfig(layer, rank);
    layers.push({ class_name: className, config });
    if (layer.type === 'Flatten') rank = 2;
  }
  return { class_name: 'Sequential', config: { name: model.name, layers } };
}
