import type { tf } from '../engine/engine.js';
import type { PreprocessSpec } from '../data/preprocessSpec.js';
import { predictRaw } from '../predict/predictRaw.js';
import { ModelWorkerPool, sliceBounds } from './modelWorkerPool.js';

/**
 * Forward passes spread over worker replicas and this thread: each batch is cut into slices, the
 * workers run theirs while this thread runs the first. With one worker it is plain predictRaw.
 */
export class ParallelPredictor {
  /** `syncWeights`: the owner trains the model, so replicas reload weights before each pass. */
  constructor(private readonly model: tf.LayersModel, private readonly spec: PreprocessSpec, private readonly pool: ModelWorkerPool | undefined, private readonly syncWeights = false) {}

  static async create(model: tf.LayersModel, spec: PreprocessSpec, output: 'sigmoid' | 'softmax', workers: number): Promise<ParallelPredictor> {
    const extra = Math.max(0, Math.floor(workers) - 1);
    const pool = extra > 0 ? await ModelWorkerPool.create(model, { count: extra, spec, output, seed: 0, gradients: false }) : undefined;
    return new ParallelPredictor(model, spec, pool);
  }

  get workerCount(): number {
    return (this.pool?.workers.length ?? 0) + 1;
  }

  /** Raw model outputs for n decoded images, concatenated in order. */
  async predict(pixels: Uint8Array, n: number, batch = 32): Promise<Float32Array> {
    const workers = this.pool?.workers ?? [];
    if (workers.length === 0 || n < 2) return predictRaw(this.model, pixels, n, this.spec, batch);
    const imageSize = pixels.length / n;
    const bounds = sliceBounds(n, workers.length + 1);
    const remote = workers.map((w, i) => {
      const [a, b] = [bounds[i + 1], bounds[i + 2]];
      return b > a ? w.call({ type: 'predict', n: b - a, pixels: pixels.slice(a * imageSize, b * imageSize), syncWeights: this.syncWeights }) : Promise.resolve(undefined);
    });
    const first = predictRaw(this.model, pixels.subarray(0, bounds[1] * imageSize), bounds[1], this.spec, batch);
    const parts = [first, ...(await Promise.all(remote)).map((r) => (r?.type === 'predict-done' ? r.output : new Float32Array(0)))];
    const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /** Ends the worker threads (a predictor built on a trainer's pool leaves that to the trainer). */
  async close(): Promise<void> {
    if (!this.syncWeights) await this.pool?.close();
  }
}
