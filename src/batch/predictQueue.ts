/**
 * Prediction spread over machines through a Redis job queue (BullMQ): producers enqueue batches of
 * file references (paths on a shared filesystem, or http(s) URLs; never image bytes), workers
 * classify them and return the rows. A worker that dies mid-batch holds a lock that expires after
 * the stall timeout; BullMQ then hands the batch to another worker. Rows are keyed by path and
 * content hash, so a batch done twice still yields each row once.
 */
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { OptionError } from '../base/errors.js';
import { messageOf } from '../base/messageOf.js';
import type { BundleMetadata } from '../model/bundleMetadata.js';
import type { Classifier, Prediction } from '../predict/classifier.js';
import { rowKey } from './resultRows.js';

export const DEFAULT_QUEUE = 'happysad';
/** Seconds before a silent worker's batch goes to another worker; also how often locks are checked. */
export const DEFAULT_STALL_SECONDS = 30;
const ATTEMPTS = 3;
const URL_BYTES_LIMIT = 64 * 2 ** 20;
/** How often a producer looks at every job in flight, whatever the events said. */
const SWEEP_MS = 2000;

export interface BatchJob {
  files: string[];
  faces: boolean;
  batch: number;
}

/** The connection options BullMQ passes to ioredis, from a redis:// URL. */
export function redisConnection(url: string): { host: string; port: number; username?: string; password?: string; db?: number; maxRetriesPerRequest: null } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new OptionError(`--redis ${url}: not a URL; write redis://HOST:PORT (or redis://:PASSWORD@HOST:PORT/DB)`);
  }
  if (u.protocol !== 'redis:') throw new OptionError(`--redis ${url}: expected a redis:// URL`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db !== undefined && Number.isInteger(db) ? { db } : {}),
    // Commands wait through a lost connection (ioredis reconnects) instead of failing after 20 tries.
    maxRetriesPerRequest: null,
  };
}

/** Where workers publish the model they serve, so producers can name its classes before any row arrives. */
const modelKey = (queue: string) => `happysad:${queue}:model`;

export interface WorkerOptions {
  redis: string;
  queue?: string;
  classifier: Classifier;
  /** Seconds without a lock renewal after which this worker's batch goes to another worker. */
  stallSeconds?: number;
  /** One line per event (batch started, done, failed). */
  log?: (line: string) => void;
  /** Aborting stops taking batches; the current one is finished first. */
  signal?: AbortSignal;
}

/** Serves batches from the queue until `signal` aborts; resolves with what it did once stopped. */
export async function runPredictWorker(options: WorkerOptions): Promise<{ batches: number; files: number }> {
  const queue = options.queue ?? DEFAULT_QUEUE;
  const connection = redisConnection(options.redis);
  const stallMs = 1000 * (options.stallSeconds ?? DEFAULT_STALL_SECONDS);
  const log = options.log ?? (() => {});
  const { classifier } = options;
  let batches = 0;
  let files = 0;
  const publisher = new Queue(queue, { connection });
  const client = await publisher.getBackend().client;
  await client.set(modelKey(queue), JSON.stringify(classifier.metadata));
  const worker = new Worker<BatchJob, Prediction[]>(queue, async (job) => {
    log(`batch ${job.id} started: ${job.data.files.length} files (attempt ${job.attemptsMade + 1})`);
    const rows = await classifyReferences(classifier, job.data);
    batches++;
    files += rows.length;
    log(`batch ${job.id} done`);
    return rows;
  }, { connection, concurrency: 1, lockDuration: stallMs, stalledInterval: Math.max(1000, stallMs / 2), maxStalledCount: 10, autorun: true });
  worker.on('failed', (job, err) => log(`batch ${job?.id} failed: ${err.message}`));
  worker.on('error', (err) => log(`queue connection: ${err.message}`));
  await new Promise<void>((resolve) => {
    if (options.signal?.aborted) return resolve();
    options.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  await worker.close();
  await publisher.close();
  return { batches, files };
}

/**
 * A batch's rows: files read from the shared filesystem by path, URLs fetched; each file's row,
 * or its error row (a bad image is an answer, not a reason to retry the batch).
 */
async function classifyReferences(classifier: Classifier, job: BatchJob): Promise<Prediction[]> {
  const inputs = await Promise.all(job.files.map(async (ref) => (/^https?:\/\//i.test(ref) ? fetchImage(ref) : ref)));
  const readable = inputs.flatMap((x, i) => (typeof x === 'string' || x instanceof Uint8Array ? [{ i, x }] : []));
  const rows = await classifier.predict(readable.map((r) => r.x), { batch: job.batch, faces: job.faces, hashes: true, cache: false });
  const out: Prediction[] = job.files.map((file, i) => {
    const x = inputs[i];
    return x && typeof x === 'object' && 'error' in x ? { file, error: x.error } : { file };
  });
  readable.forEach((r, k) => {
    out[r.i] = { ...rows[k]!, file: job.files[r.i]! };
  });
  return out;
}

async function fetchImage(url: string): Promise<Uint8Array | { error: { code: string; message: string } }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    if (!response.ok) return { error: { code: 'fetch-failed', message: `${url}: the server answered ${response.status}` } };
    const length = Number(response.headers.get('content-length') ?? 0);
    if (length > URL_BYTES_LIMIT) return { error: { code: 'image-too-large', message: `${url}: ${length} bytes is more than ${URL_BYTES_LIMIT}` } };
    return new Uint8Array(await response.arrayBuffer());
  } catch (err) {
    return { error: { code: 'fetch-failed', message: `${url}: ${messageOf(err)}` } };
  }
}

export interface QueueRunOptions {
  redis: string;
  queue?: string;
  /** Files per job (default 32). */
  batch?: number;
  faces?: boolean;
  /** Jobs in Redis at once: bounds Redis memory on a two-million-file run (default 256). */
  window?: number;
  /** Called with each job's rows as they arrive, in no particular order; duplicates are already removed. */
  onRows: (rows: Prediction[]) => Promise<void>;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Enqueues `files` in batches and resolves when every file has its row. Completion is learnt from
 * queue events and, should events be lost (a Redis restart), from a sweep over the jobs in flight.
 */
export async function predictThroughQueue(files: string[], options: QueueRunOptions): Promise<void> {
  const queueName = options.queue ?? DEFAULT_QUEUE;
  const connection = redisConnection(options.redis);
  const batch = options.batch ?? 32;
  const window = options.window ?? 256;
  const queue = new Queue<BatchJob, Prediction[]>(queueName, { connection });
  const events = new QueueEvents(queueName, { connection });
  events.on('error', () => {});
  queue.on('error', () => {});
  const run = randomUUID().slice(0, 8);
  const seen = new Set<string>();
  const pending = new Map<string, string[]>();
  // Jobs the events say finished: looked at first. Every SWEEP_MS all jobs in flight are looked at
  // too, so a completion whose event was lost (events are not replayed across a Redis restart) is
  // still collected.
  const finished = new Set<string>();
  let done = 0;
  let next = 0;
  let lastSweep = performance.now();
  let wake: (() => void) | undefined;
  const onEvent = ({ jobId }: { jobId: string }) => {
    finished.add(jobId);
    wake?.();
  };
  events.on('completed', onEvent);
  events.on('failed', onEvent);

  /** Writes a finished job's rows; false if it is not finished yet. */
  const collect = async (id: string, slice: string[]): Promise<boolean> => {
    const job = (await queue.getJob(id)) as Job<BatchJob, Prediction[]> | undefined;
    let rows: Prediction[] | undefined;
    if (job?.finishedOn && job.returnvalue) rows = job.returnvalue;
    else if (job?.finishedOn && job.failedReason && job.attemptsMade >= ATTEMPTS) {
      rows = slice.map((file) => ({ file, error: { code: 'job-failed', message: `${file}: its batch failed ${ATTEMPTS} times on the workers (${job.failedReason})` } }));
    } else if (!job) {
      // Lost (Redis restarted before the job was persisted): add it again.
      await queue.add('predict', { files: slice, faces: options.faces ?? true, batch }, { jobId: id, attempts: ATTEMPTS });
      return false;
    }
    if (!rows) return false;
    await options.onRows(rows.filter((r) => !seen.has(rowKey(r)) && seen.add(rowKey(r))));
    pending.delete(id);
    done += slice.length;
    options.onProgress?.(done, files.length);
    await job!.remove().catch(() => {});
    return true;
  };

  try {
    while (done < files.length) {
      // Keep the window full.
      const add: { name: string; data: BatchJob; opts: { jobId: string; attempts: number; backoff: { type: 'exponential'; delay: number } } }[] = [];
      while (pending.size + add.length < window && next < files.length) {
        const slice = files.slice(next, next + batch);
        const jobId = `${run}-${next}`;
        next += slice.length;
        add.push({ name: 'predict', data: { files: slice, faces: options.faces ?? true, batch }, opts: { jobId, attempts: ATTEMPTS, backoff: { type: 'exponential', delay: 1000 } } });
        pending.set(jobId, slice);
      }
      if (add.length) await queue.addBulk(add);
      const sweep = performance.now() - lastSweep > SWEEP_MS;
      const ids = sweep ? [...pending.keys()] : [...finished].filter((id) => pending.has(id));
      if (sweep) lastSweep = performance.now();
      finished.clear();
      for (const id of ids) await collect(id, pending.get(id)!);
      if (done < files.length && finished.size === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, SWEEP_MS);
        });
      }
    }
  } finally {
    await events.close().catch(() => {});
    await queue.close().catch(() => {});
  }
}

/**
 * The model the queue's workers serve (its happysad.json), once one has started: a producer names
 * the classes of a CSV from it before any row arrives. Waits, saying so once, until a worker is up.
 */
export async function queueModel(options: { redis: string; queue?: string; log?: (line: string) => void }): Promise<BundleMetadata> {
  const name = options.queue ?? DEFAULT_QUEUE;
  const queue = new Queue(name, { connection: redisConnection(options.redis) });
  queue.on('error', () => {});
  try {
    const client = await queue.getBackend().client;
    for (let i = 0; ; i++) {
      const text = await client.get(modelKey(name));
      if (text) return JSON.parse(text) as BundleMetadata;
      if (i === 0) options.log?.(`waiting for a worker on queue "${name}" at ${options.redis} (start one with: happysad worker --redis ${options.redis})`);
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await queue.close().catch(() => {});
  }
}
