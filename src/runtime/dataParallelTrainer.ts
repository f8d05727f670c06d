import { tf } from '../engine/engine.js';
import type { PreprocessSpec } from '../input/preprocessSpec.js';
import { toInputTensor } from './toInputTensor.js';
import { computeGradients } from './computeGradients.js';
import { installSampleDropout, type DropoutContext } from './sampleDropout.js';
import { ModelWorkerPool, sliceBounds } from './modelWorkerPool.js';
import type { WorkerReply } from './workerMessages.js';
import { ParallelPredictor } from './parallelPredictor.js';
import type { LayersModel, Optimizer, Variable } from '@tensorflow/tfjs';

export interface StepResult {
  /** Mean loss over the batch. */
  loss: number;
  correct: number;
}

/**
 * Data-parallel training: each batch is cut into contiguous slices, the main thread computes the
 * first and worker replicas the rest, the gradients are summed and the one optimiser step is
 * taken here, then the new weights are published to the replicas. With per-sample dropout masks
 * the result is the same model, up to float rounding, for any number of workers.
 */
export class DataParallelTrainer {
  private constructor(
    private readonly model: LayersModel,
    private readonly optimizer: Optimizer,
    private readonly spec: PreprocessSpec,
    private readonly output: 'sigmoid' | 'softmax',
    private readonly dropout: DropoutContext,
    private readonly pool: ModelWorkerPool | undefined,
  ) {}

  static async create(model: LayersModel, optimizer: Optimizer, o: { workers: number; spec: PreprocessSpec; output: 'sigmoid' | 'softmax'; seed: number }): Promise<DataParallelTrainer> {
    const dropout = installSampleDropout(model, o.seed);
    const extra = Math.max(0, Math.floor(o.workers) - 1);
    const pool = extra > 0 ? await ModelWorkerPool.create(model, { count: extra, spec: o.spec, output: o.output, seed: o.seed, gradients: true }) : undefined;
    return new DataParallelTrainer(model, optimizer, o.spec, o.output, dropout, pool);
  }

  /** Forward passes on the current weights, on the same threads (validation between epochs). */
  get predictor(): ParallelPredictor {
    return new ParallelPredictor(this.model, this.spec, this.pool, true);
  }

  get workerCount(): number {
    return (this.pool?.workers.length ?? 0) + 1;
  }

  /** One optimiser step on a batch of n decoded images and their targets. */
  async step(step: number, pixels: Uint8Array, targets: Float32Array, sampleWeights: Float32Array, n: number): Promise<StepResult> {
    const workers = this.pool?.workers ?? [];
    const imageSize = pixels.length / n;
    const units = targets.length / n;
    const bounds = sliceBounds(n, workers.length + 1);
    // Send the workers their slices first, so they compute while this thread does slice 0.
    const replies = workers.map((w, i) => {
      const [a, b] = [bounds[i + 1], bounds[i + 2]];
      return b > a
        ? w.call({ type: 'step', step, offset: a, batchSize: n, n: b - a, pixels: pixels.slice(a * imageSize, b * imageSize), targets: targets.slice(a * units, b * units), sampleWeights: sampleWeights.slice(a, b) })
        : Promise.resolve(undefined);
    });
    const m = bounds[1];
    this.dropout.step = step;
    this.dropout.offset = 0;
    const x = toInputTensor(pixels.subarray(0, m * imageSize), m, this.spec);
    const y = tf.tensor2d(targets.subarray(0, m * units), [m, units]);
    const w = tf.tensor1d(sampleWeights.subarray(0, m));
    const local = computeGradients(this.model, x, y, w, this.output, n);
    x.dispose();
    y.dispose();
    w.dispose();
    const done = await Promise.all(replies);
    let lossSum = local.lossSum;
    let correct = local.correct;
    let grads = local.grads;
    const vars = this.model.trainableWeights;
    done.forEach((r, i) => {
      if (r?.type !== 'step-done') return;
      lossSum += r.lossSum;
      correct += r.correct;
      const g = workers[i].grads;
      let at = 0;
      grads = grads.map((mine, k) => {
        const size = mine.size;
        const sum = tf.tidy(() => tf.add(mine, tf.tensor(g.slice(at, at + size), vars[k].shape as number[])));
        at += size;
        mine.dispose();
        return sum;
      });
    });
    this.optimizer.applyGradients(vars.map((v, k) => ({ name: (v.read() as Variable).name, tensor: grads[k] })));
    grads.forEach((t) => t.dispose());
    if (this.pool) this.averageNonTrainable(done, bounds, n, this.pool.layout.trainableSize);
    this.pool?.publishWeights();
    return { loss: lossSum / n, correct };
  }

  /**
   * Batch-norm moving statistics are updated by each replica on its own slice; weighting each
   * replica's result by its slice size keeps them close to one replica's over the whole batch.
   */
  private averageNonTrainable(done: (WorkerReply | undefined)[], bounds: number[], n: number, gradFloats: number): void {
    const nonTrainable = this.model.weights.filter((w) => !w.trainable);
    if (nonTrainable.length === 0) return;
    let at = gradFloats;
    for (const w of nonTrainable) {
      const acc = (w.read().dataSync() as Float32Array).map((v) => (v * bounds[1]) / n);
      const size = acc.length;
      done.forEach((r, i) => {
        if (!r) return;
        const share = (bounds[i + 2] - bounds[i + 1]) / n;
        const g = this.pool!.workers[i].grads;
        for (let j = 0; j < size; j++) acc[j] += g[at + j] * share;
      });
      const t = tf.tensor(acc, w.shape as number[]);
      w.write(t);
      t.dispose();
      at += size;
    }
  }

  /** Publishes weights set outside a step (restoring the best epoch) to the replicas. */
  publishWeights(): void {
    this.pool?.publishWeights();
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}
