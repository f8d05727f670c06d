import type { Worker } from 'node:worker_threads';
import { HappysadError } from '../base/errors.js';
import { spawnWorker } from '../runtime/spawnWorker.js';
import type { BundleMetadata } from '../model/bundleMetadata.js';
import type { Prediction, PredictOptions } from '../predict/classifier.js';
import type { ServableModel } from './servableModel.js';
import type { ThreadReply, ThreadRequest } from './threadMessages.js';
import type { VideoAnswer, VideoUploadOptions } from './videoUpload.js';

/** How long a thread told to stop may take before it is terminated (a frame's face search and classification take well under it). */
const CANCEL_GRACE_MS = 5000;

interface Slot {
  worker: Worker;
  busy?: { id: number; resolve: (reply: ThreadReply) => void; reject: (err: Error) => void };
}

/**
 * A model served from `threads` inference threads, one prediction per thread at a time. Each
 * thread holds its own copy of the model and face nets (~150 MB each), which buys two things:
 * predictions use every core instead of one, and the server's event loop never sits inside a
 * forward pass, so a 503 or /healthz is answered in milliseconds however busy the model is.
 * A thread that dies (out of memory in WASM, say) fails only its own request and is replaced.
 */
export class ThreadedModel implements ServableModel {
  private readonly idle: Slot[] = [];
  private readonly waiting: Array<(slot: Slot) => void> = [];
  private nextId = 0;
  private closed = false;

  private constructor(readonly metadata: BundleMetadata, readonly expectsFaces: boolean, private readonly slots: Slot[], private readonly dir: string) {
    for (const slot of slots) this.watch(slot);
    this.idle.push(...slots);
  }

  static async create(dir: string, options: { threads: number; warmup: boolean }): Promise<ThreadedModel> {
    const started = await Promise.allSettled(Array.from({ length: options.threads }, () => startThread(dir, options.warmup)));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    const ok = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    if (failed) {
      await Promise.all(ok.map((t) => t.worker.terminate()));
      throw failed.reason;
    }
    return new ThreadedModel(ok[0].ready.metadata, ok[0].ready.expectsFaces, ok.map((t) => ({ worker: t.worker })), dir);
  }

  get threads(): number {
    return this.slots.length;
  }

  async predict(inputs: Uint8Array[], options?: PredictOptions): Promise<Prediction[]> {
    // Copies: a request body may be a view on a pooled buffer that must not be moved away.
    const copies = inputs.map((b) => new Uint8Array(b));
    const reply = await this.send((id) => ({ type: 'predict', id, inputs: copies, options }), copies.map((c) => c.buffer));
    if (reply.type !== 'result') throw new Error(`inference thread answered ${reply.type} to a prediction`);
    return reply.rows;
  }

  /**
   * A short video, classified in one inference thread (see classifyVideoUpload). When `signal`
   * aborts, the thread is told to stop (it kills ffmpeg and answers between two frames); one that
   * has not answered CANCEL_GRACE_MS later is terminated and replaced, so the slot comes back whatever it was doing.
   */
  async predictVideoUpload(bytes: Uint8Array, name: string, options: VideoUploadOptions, signal?: AbortSignal): Promise<VideoAnswer> {
    const copy = new Uint8Array(bytes);
    const reply = await this.send((id) => ({ type: 'video', id, bytes: copy, name, options }), [copy.buffer], signal);
    if (reply.type !== 'video-result') throw new Error(`inference thread answered ${reply.type} to a video`);
    return reply.answer;
  }

  private async send(message: (id: number) => ThreadRequest, transfer: ArrayBuffer[], signal?: AbortSignal): Promise<ThreadReply> {
    signal?.throwIfAborted();
    const slot = this.idle.pop() ?? (await new Promise<Slot>((resolve) => this.waiting.push(resolve)));
    if (signal?.aborted) {
      this.release(slot);
      throw signal.reason;
    }
    const id = this.nextId++;
    const worker = slot.worker;
    let grace: NodeJS.Timeout | undefined;
    const onAbort = () => {
      worker.postMessage({ type: 'cancel', id } satisfies ThreadRequest);
      grace = setTimeout(() => {
        if (slot.busy?.id === id) void worker.terminate();
      }, CANCEL_GRACE_MS);
      grace.unref();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await new Promise<ThreadReply>((resolve, reject) => {
        slot.busy = { id, resolve, reject };
        worker.postMessage(message(id), transfer);
      });
    } finally {
      signal?.removeEventListener('abort', onAbort);
      clearTimeout(grace);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private release(slot: Slot): void {
    slot.busy = undefined;
    const next = this.waiting.shift();
    if (next) next(slot);
    else this.idle.push(slot);
  }

  private watch(slot: Slot): void {
    slot.worker.on('message', (m: ThreadReply) => {
      const job = slot.busy;
      if (!job || !('id' in m) || m.id !== job.id) return;
      if (m.type === 'error') job.reject(m.code ? new HappysadError(m.code, m.message) : new Error(`inference thread failed: ${m.message}`));
      else job.resolve(m);
      this.release(slot);
    });
    slot.worker.once('exit', (code) => {
      if (this.closed) return;
      slot.busy?.reject(new Error(`inference thread exited (code ${code}) during a prediction`));
      slot.busy = undefined;
      const i = this.idle.indexOf(slot);
      if (i >= 0) this.idle.splice(i, 1);
      void this.replace(slot);
    });
    slot.worker.on('error', () => {
      // 'exit' follows and does the accounting; without a listener the error would crash the server.
    });
  }

  private async replace(slot: Slot): Promise<void> {
    try {
      const { worker } = await startThread(this.dir, true);
      if (this.closed) {
        await worker.terminate();
        return;
      }
      slot.worker = worker;
      this.watch(slot);
      this.release(slot);
    } catch {
      // The model loaded before, so this is transient (memory); try again shortly.
      if (!this.closed) setTimeout(() => void this.replace(slot), 1000).unref();
    }
  }
}

async function startThread(dir: string, warmup: boolean): Promise<{ worker: Worker; ready: Extract<ThreadReply, { type: 'ready' }> }> {
  const worker = spawnThread();
  const ready = await new Promise<Extract<ThreadReply, { type: 'ready' }>>((resolve, reject) => {
    worker.once('message', (m: ThreadReply) => {
      if (m.type === 'ready') resolve(m);
      else if (m.type === 'failed') reject(new HappysadError(m.code ?? 'bundle', m.message));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`inference thread exited (code ${code}) while loading ${dir}`)));
    const init: ThreadRequest = { type: 'init', dir, warmup };
    worker.postMessage(init);
  }).catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });
  return { worker, ready };
}

function spawnThread(): Worker {
  return spawnWorker(new URL('./inferenceThread.js', import.meta.url), import.meta.url);
}
