import type { Worker } from 'node:worker_threads';
import { HappysadError } from '../base/errors.js';
import { spawnWorker } from '../runtime/spawnWorker.js';
import type { PreprocessSpec } from '../input/preprocessSpec.js';
import type { Pixels } from '../pixels/pixels.js';
import { FaceCropCache } from './faceCropCache.js';
import { FaceCropper, type FaceDecoded, type PhotoRequest } from './faceCropper.js';
import type { FaceCropReply, FaceCropRequest } from './faceCropMessages.js';
import type { FaceBox } from './types.js';

export type { FaceCrop, FaceDecoded, PhotoRequest } from './faceCropper.js';

export interface FacePipelineOptions {
  /** Threads that find faces, this one included (default 1); the first video frame makes them all workers (see `dedicated`). */
  threads?: number;
  /**
   * Return once this thread's detector is ready; the others join as they come up (~0.5 s each),
   * so a short run starts at once instead of waiting for them (default false: every thread is up
   * when create() resolves, or it throws).
   */
  background?: boolean;
}

/**
 * Jobs a worker thread holds at once. With one, a worker that finishes waits for this thread to
 * hand it the next, and this thread is often busy classifying (a synchronous WASM call): a CPU
 * profile of 100 photos on 2 cores had the worker idle half the time. With two it starts the next
 * at once (and decodes one photo while it detects faces in the other).
 */
const WORKER_JOBS = 2;

type Job = { type: 'photo'; request: PhotoRequest } | { type: 'frame'; image: Pixels<3>; near?: readonly FaceBox[] };
type Executor = (job: Job) => Promise<FaceDecoded>;

/**
 * The face step of a face model, in Node: bytes of a photo, or a video frame's pixels, in; faces
 * (box, eye keypoints' crop, detector score) at the model's input size out, or the whole picture
 * when it has none. Every Node path that feeds a face model comes through here (photos, videos,
 * the server's inference threads, train --faces), so they see the same crops. It owns the threads
 * (a FaceCropper on this one, and with `threads` > 1 that many workers that take over from it once
 * up, each job going to whichever is free:
 * detection is a chain of small WASM kernels on one thread per engine, so threads, not a bigger
 * batch, are what use a second core) and the crop cache. The same crops come out whichever thread
 * makes them (same code, same weights, same engine).
 */
export class FacePipeline {
  private readonly idle: Executor[];
  private readonly waiting: Array<(e: Executor) => void> = [];
  private readonly workers: Worker[] = [];
  /** Every thread spawned, ready or not: close() ends those still starting too. */
  private readonly spawned: Worker[] = [];
  /** Every thread's start, whether it came up or failed. */
  private readonly starts: Promise<void>[] = [];
  private closed = false;

  private readonly local: Executor;

  /**
   * Set by the first video frame when there are several threads: from then on every thread that
   * finds faces is a worker, one more is started, and this thread steps back once it is up. This
   * thread also reads frames, classifies and writes rows, and a detection here (a synchronous WASM
   * call) held all of that up: a 60 s video went 3.5x -> 6.2x real time with it (bench/video.ts).
   * Photos keep this thread working: a short run would spend more starting a thread than it saves.
   */
  private dedicated = false;

  private constructor(readonly spec: PreprocessSpec, local: FaceCropper, private readonly target: number) {
    this.local = (job) => (job.type === 'photo' ? local.photo(job.request) : local.frame(job.image, job.near));
    this.idle = [this.local];
  }

  static async create(spec: PreprocessSpec, options: FacePipelineOptions = {}): Promise<FacePipeline> {
    const threads = options.threads ?? 1;
    // The other threads are started before this one loads its detector (~0.1-0.2 s), so they come
    // up that much sooner; each needs ~0.5 s, mostly on another core.
    const spawned: Worker[] = [];
    const workers = Array.from({ length: Math.max(0, threads - 1) }, () => startWorker(spec, (w) => spawned.push(w)));
    let local: FaceCropper;
    try {
      local = await FaceCropper.create(spec);
    } catch (err) {
      await Promise.all(spawned.map((w) => w.terminate()));
      await Promise.allSettled(workers);
      throw err;
    }
    const pipeline = new FacePipeline(spec, local, threads);
    pipeline.spawned.push(...spawned);
    const starts = pipeline.adopt(workers);
    const failed = firstFailure(starts);
    if (!options.background) {
      const reason = await failed;
      if (reason !== undefined) {
        await pipeline.close();
        throw reason;
      }
    } else pipeline.warnIfFailed(failed);
    return pipeline;
  }

  /** Starts `n` more worker threads; each joins the pipeline once up. */
  private spawn(n: number): Promise<void>[] {
    return this.adopt(Array.from({ length: n }, () => startWorker(this.spec, (w) => this.spawned.push(w))));
  }

  /** Worker threads starting: each joins the pipeline once up. */
  private adopt(workers: Promise<Worker>[]): Promise<void>[] {
    const starts = workers.map((w) => w.then((worker) => this.join(worker)));
    this.starts.push(...starts);
    return starts;
  }

  /** Threads started in the background that fail leave fewer in use, said once as a process warning. */
  private warnIfFailed(failed: Promise<unknown>): void {
    void failed.then((reason) => {
      if (reason !== undefined && !this.closed) process.emitWarning(`happysad: face detection threads failed to start; fewer threads in use (${(reason as Error).message})`);
    });
  }

  /** Whether this thread still finds faces: until a video makes the pipeline dedicated and its workers are up. */
  private get localWorks(): boolean {
    return !(this.dedicated && this.workers.length >= this.target);
  }

  /** Threads finding faces now; grows while background threads start. */
  get threads(): number {
    return this.workers.length + (this.localWorks ? 1 : 0);
  }

  /** Photos worth having in flight to keep every thread busy once all are up: this one's, and each worker's jobs. */
  get jobsAtOnce(): number {
    return 1 + (this.target - 1) * WORKER_JOBS;
  }

  /**
   * A photo's faces. With `cache` and `sha256` (the bytes' hash), a photo seen before is answered
   * from the face-crop cache without decoding or detection, and a new one is kept there (the CLI
   * and train do this; the server never writes faces to disk).
   */
  async photo(request: PhotoRequest & { sha256?: string; cache?: boolean }): Promise<FaceDecoded> {
    const { sha256, cache, ...rest } = request;
    // Made per call: where the cache is ($HAPPYSAD_CACHE) is read when it is used.
    const store = cache && sha256 ? new FaceCropCache() : undefined;
    const key = store?.key(sha256!, this.spec);
    const hit = key ? await store!.getDecoded(key, this.spec) : undefined;
    if (hit) return hit;
    const decoded = await this.run({ type: 'photo', request: rest });
    if (key) await store!.putDecoded(key, decoded);
    return decoded;
  }

  /**
   * A video frame's faces, boxes in the frame's pixels. The frame's buffer is handed over (moved
   * to the thread that takes it): the caller must not use the pixels afterwards. `near`: the faces
   * of an earlier frame, looked for around where they were (FaceStepOptions.near).
   */
  frame(image: Pixels<3>, near?: readonly FaceBox[]): Promise<FaceDecoded> {
    if (!this.dedicated && this.target > 1) {
      this.dedicated = true;
      this.warnIfFailed(firstFailure(this.spawn(1)));
    }
    return this.run({ type: 'frame', image, near });
  }

  private async run(job: Job): Promise<FaceDecoded> {
    const exec = this.idle.pop() ?? (await new Promise<Executor>((resolve) => this.waiting.push(resolve)));
    try {
      return await exec(job);
    } finally {
      this.release(exec);
    }
  }

  private async join(worker: Worker): Promise<void> {
    if (this.closed) {
      await worker.terminate();
      return;
    }
    this.workers.push(worker);
    // This thread steps back once the workers are there (if busy now, when its job ends: see release).
    if (!this.localWorks && this.idle.includes(this.local)) this.idle.splice(this.idle.indexOf(this.local), 1);
    const exec = remoteExecutor(worker);
    for (let slot = 0; slot < WORKER_JOBS; slot++) this.release(exec);
  }

  private release(exec: Executor): void {
    if (exec === this.local && !this.localWorks) return;
    const next = this.waiting.shift();
    if (next) next(exec);
    else this.idle.push(exec);
  }

  async close(): Promise<void> {
    this.closed = true;
    // A short run ends before background threads are up (~0.3 s each): end them now rather than
    // wait for them to load a detector that will never be used.
    await Promise.all(this.spawned.map((w) => w.terminate()));
    await Promise.allSettled(this.starts);
  }
}

/** Why the first of these starts failed, or undefined when all came up. */
async function firstFailure(starts: Promise<void>[]): Promise<unknown> {
  return (await Promise.allSettled(starts)).find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
}

async function startWorker(spec: PreprocessSpec, onSpawn: (w: Worker) => void): Promise<Worker> {
  const worker = spawnWorker(new URL('./faceCropWorker.js', import.meta.url), import.meta.url);
  onSpawn(worker);
  await new Promise<void>((resolve, reject) => {
    worker.once('message', (m: FaceCropReply) => (m.type === 'ready' ? resolve() : reject(new HappysadError('face-model', m.type === 'failed' ? m.message : 'face detection thread failed to start'))));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new HappysadError('face-model', `face detection thread exited while starting (code ${code})`)));
    worker.postMessage({ type: 'init', spec } satisfies FaceCropRequest);
  }).catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });
  // An idle pipeline must not keep the process alive; a worker is referenced only while it works.
  worker.unref();
  return worker;
}

/** Whether `data` owns its whole buffer, so moving the buffer moves nothing else. */
const ownsBuffer = (data: Uint8Array) => data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;

function remoteExecutor(worker: Worker): Executor {
  let nextId = 0;
  // Jobs sent and not yet answered: the worker keeps the process alive while there is one.
  let pending = 0;
  return (job) => new Promise<FaceDecoded>((resolve, reject) => {
    const id = nextId++;
    const onMessage = (m: FaceCropReply) => {
      if (!('id' in m) || m.id !== id) return;
      cleanup();
      if (m.type === 'decoded') resolve(m.decoded);
      else if (m.type === 'error') reject(new HappysadError(m.code ?? 'decode', m.message));
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`face detection thread exited (code ${code})`));
    };
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      if (--pending === 0) worker.unref();
    };
    worker.on('message', onMessage);
    worker.on('exit', onExit);
    if (pending++ === 0) worker.ref();
    if (job.type === 'photo') {
      // A photo's bytes are copied, not moved: the caller may still hold them (to hash, or to explain an error).
      worker.postMessage({ type: 'photo', id, request: job.request } satisfies FaceCropRequest);
    } else {
      const { image, near } = job;
      const moved = ownsBuffer(image.data) ? image : { ...image, data: image.data.slice() };
      worker.postMessage({ type: 'frame', id, image: moved, near } satisfies FaceCropRequest, [moved.data.buffer as ArrayBuffer]);
    }
  });
}
