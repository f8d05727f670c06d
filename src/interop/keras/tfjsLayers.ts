import { tf } from '../../engine/engine.js';
import { KerasExportError } from './errors.js';
import { TFJS_ACTIVATION, type Activation, type LayerSpec, type Padding, type Pair } from './kerasConfig.js';
import type { LayersModel, Sequential, SymbolicTensor, layers } from '@tensorflow/tfjs';

/**
 * Builds a tfjs Sequential model from neutral layer specs. Only layers tfjs serialises natively
 * are used, so the bundle loads anywhere tfjs does (no custom classes to register first).
 */
export function buildSequential(name: string, input: [number, number, number], layers: LayerSpec[]): Sequential {
  const model = tf.sequential({ name });
  layers.forEach((spec, i) => {
    const first = i === 0 ? { inputShape: input } : {};
    model.add(tfjsLayer(spec, first));
  });
  return model;
}

function tfjsLayer(spec: LayerSpec, first: { inputShape?: [number, number, number] }): layers.Layer {
  const act = (a: Activation) => TFJS_ACTIVATION[a] as never;
  switch (spec.type) {
    case 'Conv2D':
      return tf.layers.conv2d({
        ...first, name: spec.name, filters: spec.filters, kernelSize: spec.kernelSize, strides: spec.strides, padding: spec.padding,
        dilationRate: spec.dilation, activation: act(spec.activation), useBias: spec.useBias, dataFormat: 'channelsLast',
      });
    case 'MaxPooling2D':
      return tf.layers.maxPooling2d({ ...first, name: spec.name, poolSize: spec.poolSize, strides: spec.strides, padding: spec.padding });
    case 'AveragePooling2D':
      return tf.layers.averagePooling2d({ ...first, name: spec.name, poolSize: spec.poolSize, strides: spec.strides, padding: spec.padding });
    case 'Dropout':
      return tf.layers.dropout({ ...first, name: spec.name, rate: spec.rate });
    case 'Flatten':
      return tf.layers.flatten({ ...first, name: spec.name });
    case 'Dense':
      return tf.layers.dense({ ...first, name: spec.name, units: spec.units, activation: act(spec.activation), useBias: spec.useBias });
    case 'BatchNormalization':
      return tf.layers.batchNormalization({ ...first, name: spec.name, axis: -1, momentum: spec.momentum, epsilon: spec.epsilon, center: spec.center, scale: spec.scale });
    case 'Activation':
      return tf.layers.activation({ ...first, name: spec.name, activation: act(spec.activation) });
    case 'Rescaling':
      return tf.layers.rescaling({ ...first, name: spec.name, scale: spec.scale, offset: spec.offset });
    case 'Resizing':
      // The importer folds a leading Resizing into preprocessing; tfjs' own Resizing layer aligns
      // corners where Keras uses half-pixel centres, so it is never built.
      throw new Error(`internal: Resizing layer '${spec.name}' must be folded into preprocessing`);
  }
}

const FROM_TFJS_ACTIVATION = new Map(Object.entries(TFJS_ACTIVATION).map(([k, v]) => [v, k as Activation]));

/**
 * Reads a tfjs model back into neutral specs for export. The model must be one chain of layers,
 * which every happysad architecture and every imported model is.
 */
export function specsFromModel(model: LayersModel, where: string): { inputName: string; inputShape: [number, number, number]; layers: { spec: LayerSpec; layer: layers.Layer }[] } {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) throw new KerasExportError(`${where}: the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; Keras export supports one of each`);
  const shape = model.inputs[0].shape;
  if (shape.length !== 4 || shape.slice(1).some((d) => d === null)) throw new KerasExportError(`${where}: the model's input [${shape.join(', ')}] is not a fixed-size image`);
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  const input = layers[0]?.inboundNodes[0]?.inboundLayers[0];
  if (input?.getClassName() !== 'InputLayer') throw new KerasExportError(`${where}: the first layer is not fed by the model's input`);
  let previous: layers.Layer = input;
  for (const layer of layers) {
    const inbound = layer.inboundNodes;
    if (inbound.length !== 1 || inbound[0].inboundLayers.length !== 1 || inbound[0].inboundLayers[0] !== previous) {
      throw new KerasExportError(`${where}: layer '${layer.name}' is not fed by the layer before it; Keras export supports models that are a single chain of layers`);
    }
    previous = layer;
  }
  if (model.outputs[0].sourceLayer !== previous) throw new KerasExportError(`${where}: the last layer is not the model's output`);
  return {
    inputName: input.name,
    inputShape: shape.slice(1) as [number, number, number],
    layers: layers.map((layer) => ({ spec: specOf(layer, where), layer })),
  };
}

function specOf(layer: layers.Layer, where: string): LayerSpec {
  const c = layer.getConfig() as Record<string, unknown>;
  const name = layer.name;
  const at = `${where}: layer '${name}' (${layer.getClassName()})`;
  const pair = (v: unknown): Pair => (Array.isArray(v) ? [v[0], v[1]] : [v, v]) as Pair;
  const act = (v: unknown): Activation => {
    const a = FROM_TFJS_ACTIVATION.get(String(v ?? 'linear'));
    if (!a) throw new KerasExportError(`${at}: activation "${String(v)}" has no Keras 2 equivalent`);
    return a;
  };
  const channelsLast = () => {
    if (c.dataFormat !== undefined && c.dataFormat !== 'channelsLast') throw new KerasExportError(`${at}: data format ${String(c.dataFormat)} is not supported`);
  };
  switch (layer.getClassName()) {
    case 'Conv2D':
      channelsLast();
      return {
        type: 'Conv2D', name, filters: c.filters as number, kernelSize: pair(c.kernelSize), strides: pair(c.strides ?? 1), padding: c.padding as Padding,
        dilation: pair(c.dilationRate ?? 1), activation: act(c.activation), useBias: c.useBias !== false,
      };
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      const poolSize = pair(c.poolSize);
      return { type: layer.getClassName() as 'MaxPooling2D', name, poolSize, strides: c.strides ? pair(c.strides) : poolSize, padding: c.padding as Padding };
    }
    case 'Dropout':
      return { type: 'Dropout', name, rate: c.rate as number };
    case 'Flatten':
      channelsLast();
      return { type: 'Flatten', name };
    case 'Dense':
      return { type: 'Dense', name, units: c.units as number, activation: act(c.activation), useBias: c.useBias !== false };
    case 'BatchNormalization': {
      const rank = inputShapeOf(layer).length;
      if (c.axis !== -1 && c.axis !== rank - 1) throw new KerasExportError(`${at}: normalises axis ${String(c.axis)}; only the last axis is supported`);
      return { type: 'BatchNormalization', name, momentum: c.momentum as number, epsilon: c.epsilon as number, center: c.center !== false, scale: c.scale !== false };
    }
    case 'Activation':
      return { type: 'Activation', name, activation: act(c.activation) };
    case 'Rescaling':
      return { type: 'Rescaling', name, scale: c.scale as number, offset: (c.offset as number) ?? 0 };
    default:
      throw new KerasExportError(`${at}: ${layer.getClassName()} layers cannot be exported to Keras .h5 (supported: Conv2D, MaxPooling2D, AveragePooling2D, Dropout, Flatten, Dense, BatchNormalization, Activation, Rescaling)`);
  }
}

/** The layer's input shape, batch dimension included. */
export function inputShapeOf(layer: layers.Layer): (number | null)[] {
  return (layer.input as SymbolicTensor).shape;
}
