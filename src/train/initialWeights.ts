import { tf } from '../engine/engine.js';
import { OptionError } from '../base/errors.js';
import type { BundleMetadata } from '../model/bundleMetadata.js';
import { readBundle, type ModelBundle } from '../model/modelBundle.js';
import type { TrainEvent } from './trainOptions.js';
import type { LayersModel, Tensor } from '@tensorflow/tfjs';

/**
 * Copies `source`'s weights into the freshly built `model`. A bundle must hold one model of the
 * same architecture and input: anything else is refused, naming what differs, rather than training
 * from a half-loaded state. Only the output layer may differ (other classes, or two classes where
 * there were more): then the body is carried over and the head is rebuilt by transferHead.
 */
export async function loadInitialWeights(model: LayersModel, source: string | Tensor[] | ModelBundle, arch: string, classes: string[], positiveClass: string, emit: (e: TrainEvent) => void): Promise<void> {
  let weights: Tensor[];
  let loaded: ModelBundle | undefined;
  // Only a bundle read here is disposed here: one passed in stays the caller's.
  let owned = false;
  if (typeof source === 'string') {
    loaded = await readBundle(source);
    owned = true;
  } else if (!Array.isArray(source)) loaded = source;
  const where = typeof source === 'string' ? source : loaded ? loaded.dir || `bundle ${loaded.metadata.name}` : 'the given tensors';
  if (loaded) {
    if (loaded.metadata.members?.length) {
      if (owned) loaded.model.dispose();
      throw new OptionError(`initial weights: ${where} is an ensemble of ${loaded.metadata.members.length} models; start from one of them (memberBundles() in the library splits an ensemble), or fine-tune it whole with train --from`);
    }
    if (loaded.metadata.arch !== arch) {
      if (owned) loaded.model.dispose();
      throw new OptionError(`initial weights: ${where} holds a ${loaded.metadata.arch} model; this run trains ${arch}. Start from a bundle of the same architecture`);
    }
    weights = loaded.model.getWeights();
  } else weights = source as Tensor[];
  try {
    const fresh = model.getWeights();
    const shapeOf = (t: Tensor) => t.shape.join('x');
    if (fresh.length !== weights.length) throw new OptionError(`initial weights from ${where} do not fit this model: ${weights.length} weight tensors, the model has ${fresh.length}. Use weights of the same architecture and input size`);
    // The output layer's kernel and bias: getWeights lists trainable weights before batch-norm statistics, so not the last two.
    const headNames = model.layers[model.layers.length - 1]!.weights.map((w) => w.name);
    const headAt = headNames.map((name) => model.weights.findIndex((w) => w.name === name));
    const isHead = (i: number) => headAt.includes(i);
    const mismatch = (i: number) => (shapeOf(fresh[i]!) === shapeOf(weights[i]!) ? '' : `tensor ${i} (${model.weights[i]?.name}) is ${shapeOf(weights[i]!)}, the model's is ${shapeOf(fresh[i]!)}`);
    const body = fresh.map((_, i) => (isHead(i) ? '' : mismatch(i))).find(Boolean);
    if (body) throw new OptionError(`initial weights from ${where} do not fit this model: ${body}. Use weights of the same architecture and input size`);
    const sameHead = headAt.every((i) => !mismatch(i)) && (!loaded || loaded.metadata.classes.join('\u0000') === classes.join('\u0000'));
    if (sameHead) {
      model.setWeights(weights);
      return;
    }
    if (headAt.length !== 2 || headAt.some((i) => i < 0)) throw new OptionError(`initial weights: this model's output layer has ${headAt.length} weight tensors; only a dense output layer (kernel and bias) can be rebuilt for other classes`);
    const head = transferHead(loaded?.metadata, [weights[headAt[0]!]!, weights[headAt[1]!]!], classes, positiveClass, [fresh[headAt[0]!]!, fresh[headAt[1]!]!]);
    model.setWeights(weights.map((w, i) => (i === headAt[0] ? head.weights[0]! : i === headAt[1] ? head.weights[1]! : w)));
    head.weights.forEach((t) => t.dispose());
    emit({ type: 'stage', message: `initial weights: the body comes from ${where}; the output layer is new (${head.how})` });
  } finally {
    if (owned) loaded?.model.dispose();
  }
}

/**
 * A head for `classes` from a trained model's head. Classes the old model knew keep what it learned:
 * an old softmax column is copied; an old sigmoid unit z = w·f + b (p(positive) = σ(z)) becomes
 * +z/2 for its positive class and −z/2 for the other, so that between those two the new softmax
 * starts out deciding exactly as the old model did. Classes it did not know start at zero (no
 * preference), so fine-tuning begins from the old behaviour instead of from noise.
 */
function transferHead(old: BundleMetadata | undefined, [kernel, bias]: [Tensor, Tensor], classes: string[], positive: string, [freshKernel, freshBias]: [Tensor, Tensor]): { weights: Tensor[]; how: string } {
  const units = freshBias.shape[0]!;
  const oldClasses = old?.classes ?? [];
  const known = classes.filter((c) => oldClasses.includes(c));
  const features = kernel.shape[0]!;
  const k = kernel.dataSync();
  const b = bias.dataSync();
  const oldSoftmaxUnits = bias.shape[0]!;
  // Two of an old softmax's classes under one sigmoid unit: p(a) / (p(a) + p(b)) = σ(z_a − z_b), so
  // the unit starts as the difference of their columns and decides between them as the old model did.
  if (old && units === 1 && oldSoftmaxUnits > 1 && known.length === 2) {
    const [a, c] = [oldClasses.indexOf(positive), oldClasses.indexOf(classes.find((x) => x !== positive)!)];
    const newK = Float32Array.from({ length: features }, (_, f) => k[f * oldSoftmaxUnits + a]! - k[f * oldSoftmaxUnits + c]!);
    return { weights: [tf.tensor2d(newK, [features, 1]), tf.tensor1d([b[a]! - b[c]!])], how: `one unit for ${positive} against ${classes.find((x) => x !== positive)}, from the old head's two columns` };
  }
  // Another sigmoid head, or nothing known: fresh, seeded initialisation.
  if (!old || units === 1 || known.length === 0) return { weights: [freshKernel.clone(), freshBias.clone()], how: old ? `none of ${classes.join(', ')} carried over` : 'initialised afresh' };
  const newK = new Float32Array(features * units);
  const newB = new Float32Array(units);
  const oldUnits = bias.shape[0]!;
  classes.forEach((c, j) => {
    const i = oldClasses.indexOf(c);
    if (i < 0) return;
    let column: number;
    let sign = 1;
    if (oldUnits === 1) {
      column = 0;
      sign = c === old.positiveClass ? 0.5 : -0.5;
    } else column = i;
    for (let f = 0; f < features; f++) newK[f * units + j] = sign * k[f * oldUnits + column]!;
    newB[j] = sign * b[column]!;
  });
  return { weights: [tf.tensor2d(newK, [features, units]), tf.tensor1d(newB)], how: `${known.join(', ')} carried over from the old head${known.length < classes.length ? `, ${classes.filter((c) => !known.includes(c)).join(', ')} new` : ''}` };
}
