import type { Worker } from 'node:worker_threads';
import { HappysadError } from '../base/errors.js';
import { spawnWorker } from '../runtime/spawnWorker.js';
import { FaceCropper, type FaceDecoded, type FaceDecoder } from './faceCropper.js';
import type { FaceCropReply, FaceCropRequest } from './faceCropMessages.js';
import type { ImageLimits } from '../input/imageLimits.js';
import type { FaceCropSpec, PreprocessSpec } from '../input/preprocessSpec.js';

type Executor = (input: Uint8Array | string, spec: PreprocessSpec, limits?: ImageLimits, name?: string) => Promise<FaceDecoded>;

/**
 * Face cropping on every core: a FaceCropper on this thread plus `threads - 1` worker threads each
 * with its own, every decode() going to whichever is free. Detection is a chain of small WASM
 * kernels on one thread per engine, so this, not a bigger batch, is what uses a second core.
 * The same crops come out whichever thread makes them (same code, same weights, same engine).
 */
export class FaceCropperPool implements FaceDecoder {
  private readonly idle: Executor[];
  private readonly waiting: Array<(e: Executor) => void> = [];
  private readonly workers: Worker[] = [];
  /** Every thread spawned, ready or not: close() ends those still starting too. */
  private readonly spawned: Worker[] = [];
  private starting: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(local: Executor) {
    this.idle = [local];
  }

  /**
   * `background`: return once this thread's cropper is ready; the others join as they come up
   * (~0.5 s each), so a short run starts working at once instead of waiting for them. Without it,
   * every thread is up when this resolves, or it throws.
   */
  static async create(faces: FaceCropSpec, threads: number, options: { background?: boolean } = {}): Promise<FaceCropperPool> {
    const local = await FaceCropper.create(faces);
    const pool = new FaceCropperPool((input, spec, limits, name) => local.decode(input, spec, limits, name));
    const starts = Array.from({ length: Math.max(0, threads - 1) }, () => startWorker(faces, (w) => pool.spawned.push(w)).then((w) => pool.join(w)));
    pool.starting = Promise.allSettled(starts).then((results) => {
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed && options.background && !pool.closed) process.emitWarning(`happysad: face cropping threads failed to start; fewer threads in use (${(failed.reason as Error).message})`);
      return failed;
    });
    if (!options.background) {
      const failed = await pool.starting;
      if (failed) {
        await pool.close();
        throw (failed as PromiseRejectedResult).reason;
      }
    }
    return pool;
  }

  /** Threads cropping now (this one included); grows while background threads start. */
  get threads(): number {
    return this.workers.length + 1;
  }

  private async join(worker: Worker): Promise<void> {
    if (this.closed) {
      await worker.terminate();
      return;
    }
    this.workers.push(worker);
    this.release(remoteExecutor(worker));
  }

  private release(exec: Executor): void {
    const next = this.waiting.shift();
    if (next) next(exec);
    else this.idle.push(exec);
  }

  async decode(input: Uint8Array | string, spec: PreprocessSpec, limits?: ImageLimits, name?: string): Promise<FaceDecoded> {
    const exec = this.idle.pop() ?? (await new Promise<Executor>((resolve) => this.waiting.push(resolve)));
    try {
      return await exec(input, spec, limits, name);
    } finally {
      this.release(exec);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    // A short run ends before background threads are up (~0.3 s each): end them now rather than
    // wait for them to load a detector that will never be used.
    await Promise.all(this.spawned.map((w) => w.terminate()));
    await this.starting;
  }
}

async function startWorker(faces: FaceCropSpec, onSpawn: (w: Worker) => void): Promise<Worker> {
  const worker = spawnWorker(new URL('./faceCropWorker.js', import.meta.url), import.meta.url);
  onSpawn(worker);
  await new Promise<void>((resolve, reject) => {
    worker.once('message', (m: FaceCropReply) => (m.type === 'ready' ? resolve() : reject(new HappysadError('face-model', m.type === 'failed' ? m.message : 'face crop thread failed to start'))));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new HappysadError('face-model', `face crop thread exited while starting (code ${code})`)));
    worker.postMessage({ type: 'init', faces } satisfies FaceCropRequest);
  }).catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });
  // An idle pool must not keep the process alive; a worker is referenced only while it works.
  worker.unref();
  return worker;
}

function remoteExecutor(worker: Worker): Executor {
  let nextId = 0;
  return (input, spec, limits, name) => new Promise<FaceDecoded>((resolve, reject) => {
    const id = nextId++;
    const onMessage = (m: FaceCropReply) => {
      if (!('id' in m) || m.id !== id) return;
      cleanup();
      if (m.type === 'decoded') resolve(m.decoded);
      else if (m.type === 'error') reject(new HappysadError(m.code ?? 'decode', m.message));
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`face crop thread exited (code ${code})`));
    };
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      worker.unref();
    };
    worker.on('message', onMessage);
    worker.on('exit', onExit);
    worker.ref();
    // Bytes are copied, not transferred: the caller may still hold (or reuse) its buffer.
    worker.postMessage({ type: 'decode', id, input, spec, limits, name } satisfies FaceCropRequest);
  });
}
