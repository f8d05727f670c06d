import { tf } from '../engine/engine.js';
import { Random } from '../base/random.js';
import type { Architecture, BuildOptions } from './architectures.js';
import type { LayersModel } from '@tensorflow/tfjs';

export interface FaceNetConfig {
  /** Filters of each conv in each stage; a 2x2 max-pool closes every stage. */
  stages: number[][];
  /** Dropout before the output unit (global-average-pooled features). */
  dropout: number;
  /** Batch norm after each conv from this one on (1-based; 1 = every conv); the convs before carry a bias and their ReLU. */
  batchNormFrom: number;
}

/**
 * A VGG-style stack for small face crops: 3x3 'same' convolutions, each followed by batch norm and
 * ReLU, a max-pool per stage, then global average pooling, dropout and the output layer.
 *
 * Why this shape: expression cues (mouth corners, eye creases) are local, so stacked 3x3 convs see
 * enough at 48x48; batch norm lets Adam train it from scratch in a few CPU epochs (without it the
 * same stack sat at chance for the first epochs on FER2013); global average pooling instead of
 * flatten+dense keeps the head to a few hundred weights, the model small and less able to memorise
 * FER2013's quirks. Width grows as resolution falls, and the first stage is narrow because on the
 * WASM backend the cost of a step is dominated by the full-resolution layers. Batch-norm momentum
 * 0.95 (not Keras' 0.99) so that the moving statistics settle within the first epoch and
 * validation loss, which drives early stopping, is meaningful from the start. Convs feeding batch
 * norm carry no bias (its beta replaces it). He-normal kernels suit ReLU; every initialiser is
 * seeded from one stream so a seed reproduces the weights exactly. Only stock layers are used, so
 * the saved topology loads in any TensorFlow.js (or Keras) reader.
 */
export function faceNetBuilder(name: string, config: FaceNetConfig) {
  return (o: BuildOptions): LayersModel => {
    const rng = new Random(o.seed).derive(`init:${name}`);
    const denseRate = o.dropout?.dense ?? config.dropout;
    const convRate = o.dropout?.conv ?? 0;
    const m = tf.sequential({ name });
    let k = 0;
    config.stages.forEach((stage, s) => {
      stage.forEach((filters) => {
        k++;
        const bn = k >= config.batchNormFrom;
        m.add(tf.layers.conv2d({
          name: `conv2d_${k}`, filters, kernelSize: 3, padding: 'same', useBias: !bn,
          activation: bn ? 'linear' : 'relu',
          kernelInitializer: tf.initializers.heNormal({ seed: rng.nextSeed() }),
          ...(k === 1 ? { inputShape: o.input } : {}),
        }));
        if (bn) {
          m.add(tf.layers.batchNormalization({ name: `batch_normalization_${k}`, axis: -1, momentum: 0.95, epsilon: 1e-3 }));
          m.add(tf.layers.activation({ name: `relu_${k}`, activation: 'relu' }));
        }
      });
      m.add(tf.layers.maxPooling2d({ name: `max_pooling2d_${s + 1}`, poolSize: 2 }));
      if (convRate > 0) m.add(tf.layers.dropout({ name: `dropout_conv_${s + 1}`, rate: convRate }));
    });
    m.add(tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }));
    if (denseRate > 0) m.add(tf.layers.dropout({ name: 'dropout_dense', rate: denseRate }));
    const binary = o.numClasses === 2;
    m.add(tf.layers.dense({
      name: 'output', units: binary ? 1 : o.numClasses, activation: binary ? 'sigmoid' : 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: rng.nextSeed() }),
    }));
    return m;
  };
}

export const FACE_NET_CONFIG: FaceNetConfig = { stages: [[16], [32, 32], [64, 64], [128, 128]], dropout: 0.4, batchNormFrom: 4 };

/** A face net of `config` as an architecture at 48x48 grayscale. */
function faceNetArchitecture(name: string, description: string, config: FaceNetConfig): Architecture {
  return {
    name,
    description,
    defaultInput: [48, 48, 1],
    // 'same' convolutions keep the size; each stage's 2x2 pool halves it (floor), down to 1x1.
    minSide: 2 ** config.stages.length,
    build: faceNetBuilder(name, config),
  };
}

export const faceNet = faceNetArchitecture('face-48', 'Face crops, 48x48 grayscale: Conv-ReLU 16 | 32-32, Conv-BN-ReLU 64-64 | 128-128 (3x3 same, 2x2 max-pool per stage), global average pooling, Dropout 0.4', FACE_NET_CONFIG);

/** face-48 with every stage half as wide again: 2.25x its arithmetic, for a single net meant to stand in for an ensemble. */
export const WIDE_FACE_NET_CONFIG: FaceNetConfig = { stages: [[24], [48, 48], [96, 96], [192, 192]], dropout: 0.4, batchNormFrom: 4 };

export const wideFaceNet = faceNetArchitecture('face-48-wide', 'face-48 half as wide again (Conv 24 | 48-48 | 96-96 | 192-192): 2.25x the arithmetic of one face-48, a single net in place of an ensemble of them', WIDE_FACE_NET_CONFIG);
