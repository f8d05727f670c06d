import type { PreprocessSpec } from '../input/preprocessSpec.js';
import { predictRaw } from './predictRaw.js';
import { ModelWorkerPool, sliceBounds } from './modelWorkerPool.js';
import { DEFAULT_PREDICTION_BATCH } from './predictionBatch.js';
import type { LayersModel } from '@tensorflow/tfjs';

/**
 * Fewer images than this run on this thread alone: handing a few faces to a replica costs a copy
 * and a message each way, and the replica's core is better left to the face threads (a video's
 * frames come a few faces at a time: 5.9 -> 6.2-6.7x real time at 16, scratch A/B in one process).
 */
const MIN_SPLIT = 16;

/**
 * Forward passes spread over worker replicas and this thread: each batch is cut into slices, the
 * workers run theirs while this thread runs the first. With one worker it is plain predictRaw.
 */
export class ParallelPredictor {
  private starting: Promise<void> | undefined;
  private readonly stopStarting = new AbortController();

  /** `syncWeights`: the owner trains the model, so replicas reload weights before each pass. */
  constructor(private readonly model: LayersModel, private readonly spec: PreprocessSpec, private pool: ModelWorkerPool | undefined, private readonly syncWeights = false) {}

  /**
   * `background`: return at once and let this thread run every pass until the replicas are up
   * (~0.5 s each: their own engine, their own copy of the model), instead of waiting for them.
   * A short CLI run then spends its start-up working. Replicas that fail to start leave the
   * predictor on this thread alone, with a process warning.
   */
  static async create(model: LayersModel, spec: PreprocessSpec, output: 'sigmoid' | 'softmax', workers: number, options: { background?: boolean } = {}): Promise<ParallelPredictor> {
    const extra = Math.max(0, Math.floor(workers) - 1);
    if (extra === 0) return new ParallelPredictor(model, spec, undefined);
    if (!options.background) return new ParallelPredictor(model, spec, await ModelWorkerPool.create(model, { count: extra, spec, output, seed: 0, gradients: false }));
    const predictor = new ParallelPredictor(model, spec, undefined);
    const { signal } = predictor.stopStarting;
    predictor.starting = ModelWorkerPool.create(model, { count: extra, spec, output, seed: 0, gradients: false, signal }).then(
      (pool) => { predictor.pool = pool; },
      (err: unknown) => { if (!signal.aborted) process.emitWarning(`happysad: inference threads failed to start; running on one thread (${(err as Error).message})`); },
    );
    return predictor;
  }

  get workerCount(): number {
    return (this.pool?.workers.length ?? 0) + 1;
  }

  /** Raw model outputs for n decoded images, concatenated in order. */
  async predict(pixels: Uint8Array, n: number, batch = DEFAULT_PREDICTION_BATCH): Promise<Float32Array> {
    const workers = this.pool?.workers ?? [];
    if (workers.length === 0 || n < MIN_SPLIT) return predictRaw(this.model, pixels, n, this.spec, batch);
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
    // Replicas still starting are ended, not awaited: a short run should not wait ~0.3 s for them.
    this.stopStarting.abort();
    await this.starting;
    if (!this.syncWeights) await this.pool?.close();
  }
}
