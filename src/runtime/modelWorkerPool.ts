import type { Worker } from 'node:worker_threads';
import type { PreprocessSpec } from '../input/preprocessSpec.js';
import { weightLayout, writeWeightsFrom, type WeightLayout } from './weightLayout.js';
import type { WorkerReply, WorkerRequest } from './workerMessages.js';
import { spawnWorker } from './spawnWorker.js';
import type { LayersModel } from '@tensorflow/tfjs';

export interface ModelWorker {
  worker: Worker;
  /** Gradients (and non-trainable state) written by this worker; empty for inference-only pools. */
  grads: Float32Array;
  call(message: WorkerRequest): Promise<WorkerReply>;
}

/**
 * Threads each holding a replica of `model` in its own WASM engine (the backend is
 * single-threaded in Node, so this is how a second core gets used). Weights live in one
 * SharedArrayBuffer that the owner rewrites with publishWeights().
 */
export class ModelWorkerPool {
  private constructor(
    readonly workers: ModelWorker[],
    readonly layout: WeightLayout,
    private readonly weights: Float32Array,
    private readonly model: LayersModel,
  ) {}

  /** `signal`: aborting it ends the threads while they start; create() then rejects. */
  static async create(model: LayersModel, o: { count: number; spec: PreprocessSpec; output: 'sigmoid' | 'softmax'; seed: number; gradients: boolean; signal?: AbortSignal }): Promise<ModelWorkerPool> {
    const layout = weightLayout(model);
    const weights = new Float32Array(new SharedArrayBuffer(layout.totalSize * 4));
    writeWeightsFrom(model, weights);
    const topology = model.toJSON(null, true) as string;
    const spawn = () => spawnWorker(new URL('./modelWorker.js', import.meta.url), import.meta.url);
    const workers: ModelWorker[] = [];
    const abort = () => void Promise.all(workers.map((w) => w.worker.terminate()));
    o.signal?.addEventListener('abort', abort, { once: true });
    try {
      for (let i = 0; i < o.count; i++) workers.push(startWorker(spawn(), o.gradients ? layout.gradsSize : 0));
      await Promise.all(workers.map((w) => w.call({
        type: 'init', topology, weights: weights.buffer as SharedArrayBuffer,
        grads: o.gradients ? (w.grads.buffer as SharedArrayBuffer) : undefined,
        spec: o.spec, output: o.output, seed: o.seed,
      })));
    } catch (err) {
      await Promise.all(workers.map((w) => w.worker.terminate()));
      throw err;
    } finally {
      o.signal?.removeEventListener('abort', abort);
    }
    if (o.signal?.aborted) throw new Error('model worker pool closed while starting');
    return new ModelWorkerPool(workers, layout, weights, model);
  }

  /** Copies the owner's current weights into shared memory for the replicas to read. */
  publishWeights(): void {
    writeWeightsFrom(this.model, this.weights);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}

function startWorker(worker: Worker, gradFloats: number): ModelWorker {
  let pending: { resolve: (r: WorkerReply) => void; reject: (e: Error) => void } | undefined;
  worker.on('message', (m: WorkerReply) => {
    const p = pending;
    pending = undefined;
    worker.unref();
    if (m.type === 'error') p?.reject(new Error(`model worker failed: ${m.message}`));
    else p?.resolve(m);
  });
  worker.on('error', (err) => pending?.reject(err));
  worker.on('exit', (code) => pending?.reject(new Error(`model worker exited (code ${code})`)));
  // Idle workers must not keep the process alive (a caller that forgets close() still exits);
  // a worker is referenced only while a request is in flight.
  worker.unref();
  return {
    worker,
    grads: new Float32Array(gradFloats ? new SharedArrayBuffer(gradFloats * 4) : new ArrayBuffer(0)),
    call: (message) => new Promise((resolve, reject) => {
      if (pending) return reject(new Error('model worker is busy: one request at a time'));
      pending = { resolve, reject };
      worker.ref();
      const transfer = message.type === 'step' ? [message.pixels.buffer as ArrayBuffer, message.targets.buffer as ArrayBuffer, message.sampleWeights.buffer as ArrayBuffer] : message.type === 'predict' ? [message.pixels.buffer as ArrayBuffer] : [];
      worker.postMessage(message, transfer);
    }),
  };
}

/** Contiguous slices of n items over `parts` workers, sizes differing by at most one. */
export function sliceBounds(n: number, parts: number): number[] {
  return Array.from({ length: parts + 1 }, (_, i) => Math.round((i * n) / parts));
}
