import { tf } from '../engine/engine.js';
import { OptionError } from '../base/errors.js';
import { Random } from '../base/random.js';
import type { InputShape } from '../input/preprocessSpec.js';
import { faceNet, wideFaceNet } from './faceNet.js';
import type { LayersModel } from '@tensorflow/tfjs';

export interface BuildOptions {
  input: InputShape;
  /** Number of classes; two classes get one sigmoid unit, more get a softmax. */
  numClasses: number;
  seed: number;
  /** Overrides of the preset's dropout rates. */
  dropout?: { conv?: number; dense?: number };
}

export interface Architecture {
  name: string;
  description: string;
  defaultInput: InputShape;
  /** Smallest height and width the layers can take: below it a feature map shrinks to nothing. */
  minSide: number;
  build(options: BuildOptions): LayersModel;
}

/**
 * Refuses an input the architecture cannot take before anything is built: too small a size
 * otherwise ends in a 0x0 feature map, a "Negative dimension" error or a WASM memory fault.
 */
export function assertInputFits(arch: Architecture, input: InputShape): void {
  const [h, w] = input;
  if (h >= arch.minSide && w >= arch.minSide) return;
  throw new OptionError(`--input ${input.join('x')} is too small for ${arch.name}: its layers need at least ${arch.minSide}x${arch.minSide} (its default is ${arch.defaultInput.join('x')})`);
}

/** Each stage is a valid 3x3 conv (side - 2) and a floor 2x2 pool; the last must leave at least 1x1. */
function validConvPoolMinSide(stages: number): number {
  let side = 1;
  for (let i = 0; i < stages; i++) side = 2 * side + 2;
  return side;
}

/**
 * Keras defaults throughout (glorot-uniform kernels, zero biases, valid 3x3 convolutions, 2x2
 * pools), each initialiser seeded from one stream so a seed reproduces the weights exactly.
 */
function convNet(name: string, filters: number[], dense: number, convDropout: number, denseDropout: number, denseActivation: 'relu' | 'linear') {
  return (o: BuildOptions): LayersModel => {
    const rng = new Random(o.seed).derive(`init:${name}`);
    const init = () => tf.initializers.glorotUniform({ seed: rng.nextSeed() });
    const convRate = o.dropout?.conv ?? convDropout;
    const denseRate = o.dropout?.dense ?? denseDropout;
    const m = tf.sequential({ name });
    filters.forEach((f, i) => {
      m.add(tf.layers.conv2d({
        name: `conv2d_${i + 1}`, filters: f, kernelSize: 3, activation: 'relu', kernelInitializer: init(),
        ...(i === 0 ? { inputShape: o.input } : {}),
      }));
      m.add(tf.layers.maxPooling2d({ name: `max_pooling2d_${i + 1}`, poolSize: 2 }));
      if (convRate > 0) m.add(tf.layers.dropout({ name: `dropout_conv_${i + 1}`, rate: convRate }));
    });
    m.add(tf.layers.flatten({ name: 'flatten' }));
    m.add(tf.layers.dense({ name: 'dense_1', units: dense, activation: denseActivation, kernelInitializer: init() }));
    if (denseRate > 0) m.add(tf.layers.dropout({ name: 'dropout_dense', rate: denseRate }));
    const binary = o.numClasses === 2;
    m.add(tf.layers.dense({ name: 'output', units: binary ? 1 : o.numClasses, activation: binary ? 'sigmoid' : 'softmax', kernelInitializer: init() }));
    return m;
  };
}

const ARCHITECTURES: Record<string, Architecture> = {
  'seed-a': {
    name: 'seed-a',
    description: 'Model A: 128x128 RGB, Conv 32-64-128 with 2x2 max-pool, Dense 128 ReLU, Dropout 0.5',
    defaultInput: [128, 128, 3],
    minSide: validConvPoolMinSide(3),
    build: convNet('seed-a', [32, 64, 128], 128, 0, 0.5, 'relu'),
  },
  'seed-b': {
    name: 'seed-b',
    description: 'Model B: 256x256 RGB, Conv 16-32-16 each with 2x2 max-pool and Dropout 0.25, Dense 256, Dropout 0.5',
    defaultInput: [256, 256, 3],
    minSide: validConvPoolMinSide(3),
    build: convNet('seed-b', [16, 32, 16], 256, 0.25, 0.5, 'relu'),
  },
  [faceNet.name]: faceNet,
  [wideFaceNet.name]: wideFaceNet,
};

export function registerArchitecture(arch: Architecture): void {
  ARCHITECTURES[arch.name] = arch;
}

export function getArchitecture(name: string): Architecture {
  const arch = ARCHITECTURES[name];
  if (!arch) throw new OptionError(`unknown architecture "${name}"; choose one of: ${listArchitectures().join(', ')}`);
  return { ...arch, build: (o) => { assertInputFits(arch, o.input); return arch.build(o); } };
}

export function listArchitectures(): string[] {
  return Object.keys(ARCHITECTURES);
}
