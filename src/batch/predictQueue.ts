/**
 * Prediction spread over machines through a Redis job queue (BullMQ): producers enqueue batches of
 * file references (absolute paths on a shared filesystem, or http(s) URLs; never image bytes),
 * workers classify them and return the rows. A worker that dies mid-batch holds a lock that
 * expires after the stall timeout; BullMQ then hands the batch to another worker. Rows are keyed by
 * path and content hash, so a batch done twice still yields each row once. Jobs are untrusted
 * input to a worker: see jobReferences.ts for what it agrees to read.
 */
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { HappysadError } from '../base/errors.js';
import { messageOf } from '../base/messageOf.js';
import type { BundleMetadata } from '../model/bundleMetadata.js';
import type { Classifier, Prediction } from '../predict/classifier.js';
import { invalidEntry, readReference, validateBatchJob, type BatchJob, type ReferencePolicy } from './jobReferences.js';
import { rowKey } from '../predict/predictionRow.js';
import { DEFAULT_QUEUE, DEFAULT_STALL_SECONDS } from './queueDefaults.js';
import { redisConnection, validateQueueName } from './redisOptions.js';
import { DEFAULT_PREDICTION_BATCH } from '../runtime/predictionBatch.js';

export type { BatchJob };
export { DEFAULT_QUEUE, DEFAULT_STALL_SECONDS };
const ATTEMPTS = 3;
/** How often a producer looks at every job in flight, whatever the events said. */
const SWEEP_MS = 2000;
/** A worker re-announces its model this often; the announcement lapses after MODEL_TTL_MS without one. */
const HEARTBEAT_MS = 5000;
const MODEL_TTL_MS = 20_000;
/** How long a connection to Redis may take before the command says it cannot reach it. */
const CONNECT_TIMEOUT_MS = 10_000;
/** How long a stopping worker holding a batch waits for Redis to take its rows before leaving without them. */
const STOP_TIMEOUT_MS = 10_000;
/** The same with no batch in hand: there is nothing to hand over, so a Redis that is away is not waited for. */
const IDLE_STOP_TIMEOUT_MS = 1000;
/** How often a producer that hears nothing says so. */
const QUIET_NOTE_MS = 30_000;
/**
 * Finished jobs are collected and removed by their producer; those a killed producer leaves behind
 * expire after this long, so no cleanup is needed.
 */
const KEEP_FINISHED_SECONDS = 24 * 3600;

/**
 * Fails with a plain message when nothing at `url` answers like Redis within a few seconds (a wrong
 * port, a web server), instead of retrying forever in silence.
 */
export async function checkRedis(url: string, timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
  const { maxRetriesPerRequest: _, ...options } = redisConnection(url);
  const client = new Redis({ ...options, lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // The error event says why (ECONNREFUSED, a protocol error); the rejection only that it closed.
  let cause: Error | undefined;
  client.on('error', (err: Error) => {
    cause ??= err;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    throw new HappysadError('redis-unreachable', `cannot reach Redis at ${url} (${messageOf(cause ?? err)}); check the host and port, and that it is a Redis server`);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/** Where workers announce the model they serve, so producers can name its classes before any row arrives. */
const modelKey = (queue: string) => `happysad:${queue}:model`;

export interface WorkerOptions {
  redis: string;
  queue?: string;
  classifier: Classifier;
  /** What this worker may read: paths under `roots`, URLs on `hosts` (nothing when both are empty). */
  policy: ReferencePolicy;
  /** Seconds without a lock renewal after which this worker's batch goes to another worker. */
  stallSeconds?: number;
  /** One line per event (batch started, done, failed). */
  log?: (line: string) => void;
  /** Aborting stops taking batches; the current one is finished first. */
  signal?: AbortSignal;
}

/** Serves batches from the queue until `signal` aborts; resolves with what it did once stopped. */
export async function runPredictWorker(options: WorkerOptions): Promise<{ batches: number; files: number }> {
  const queue = validateQueueName(options.queue ?? DEFAULT_QUEUE);
  const connection = redisConnection(options.redis);
  await checkRedis(options.redis);
  const stallMs = 1000 * (options.stallSeconds ?? DEFAULT_STALL_SECONDS);
  const log = options.log ?? (() => {});
  const { classifier, policy } = options;
  let batches = 0;
  let files = 0;
  let inHand = 0;
  const publisher = new Queue(queue, { connection });
  let lastError = '';
  const onError = (err: Error) => {
    // One line per new trouble, not one per reconnection attempt.
    if (err.message !== lastError) log(`queue connection: ${err.message}`);
    lastError = err.message;
  };
  publisher.on('error', onError);
  // The announcement lapses unless renewed: a producer never waits on a worker that is gone, and
  // one that survives a Redis restart without persistence announces itself again.
  const announce = async () => {
    // BullMQ's client type names only what BullMQ uses; underneath it is ioredis.
    const client = (await publisher.getBackend().client) as unknown as Redis;
    await client.set(modelKey(queue), JSON.stringify(classifier.metadata), 'PX', MODEL_TTL_MS);
  };
  await announce();
  const heartbeat = setInterval(() => announce().catch(() => {}), HEARTBEAT_MS);
  const worker = new Worker<unknown, Prediction[]>(queue, async (job) => {
    const data = validateBatchJob(job.data);
    // A malformed job cannot be answered row by row; it fails at once, without retries.
    if (typeof data === 'string') throw new UnrecoverableError(`malformed job: ${data}`);
    log(`batch ${job.id} started: ${data.files.length} files (attempt ${job.attemptsMade + 1})`);
    inHand++;
    let rows: Prediction[];
    try {
      rows = await classifyReferences(classifier, data, job.data, policy);
    } finally {
      inHand--;
    }
    batches++;
    files += rows.length;
    log(`batch ${job.id} done`);
    return rows;
  }, { connection, concurrency: 1, lockDuration: stallMs, stalledInterval: Math.max(1000, stallMs / 2), maxStalledCount: 10, autorun: true });
  worker.on('failed', (job, err) => log(`batch ${job?.id} failed: ${err.message}`));
  worker.on('error', onError);
  await new Promise<void>((resolve) => {
    if (options.signal?.aborted) return resolve();
    options.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  clearInterval(heartbeat);
  // Closing waits for the current batch and for Redis; with Redis gone it would wait forever.
  const holding = inHand > 0;
  const waitMs = holding ? STOP_TIMEOUT_MS : IDLE_STOP_TIMEOUT_MS;
  const closed = await Promise.race([
    Promise.all([worker.close(), publisher.close()]).then(() => true),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), waitMs).unref()),
  ]);
  if (!closed) {
    log(`Redis did not answer within ${waitMs / 1000} s; stopping without it${holding ? ' (a batch in progress goes to another worker after the stall timeout)' : ''}`);
    // Disconnecting waits for the connections to end, which they do not while Redis is away.
    await Promise.race([Promise.allSettled([worker.disconnect(), publisher.disconnect()]), new Promise((r) => setTimeout(r, 1000).unref())]);
  }
  return { batches, files };
}

/** Error messages that describe content (a file's first bytes) are cut there: rows leave the worker's machine. */
const withoutContent = (message: string) => message.replace(/ \(starts with [^)]*\)/, '');

/**
 * A batch's rows: files read under the worker's roots, URLs fetched from its allowed hosts; each
 * file's row, or its error row (a bad image is an answer, not a reason to retry the batch).
 */
async function classifyReferences(classifier: Classifier, job: BatchJob, raw: unknown, policy: ReferencePolicy): Promise<Prediction[]> {
  const inputs = await Promise.all(job.files.map(async (ref, i) => invalidEntry(raw, i) ?? readReference(ref, policy)));
  const readable = inputs.flatMap((x, i) => (x instanceof Uint8Array ? [{ i, x }] : []));
  const names = readable.map((r) => job.files[r.i]!);
  const rows = await classifier.predict(readable.map((r) => r.x), { batch: job.batch, faces: job.faces, forcedChoice: job.forcedChoice, hashes: true, cache: false, names });
  const out: Prediction[] = job.files.map((file, i) => {
    const x = inputs[i]!;
    return x instanceof Uint8Array ? { file } : { file, error: x };
  });
  readable.forEach((r, k) => {
    const row = rows[k]!;
    out[r.i] = row.error ? { ...row, error: { ...row.error, message: withoutContent(row.error.message) } } : row;
  });
  return out;
}

export interface QueueRunOptions {
  redis: string;
  queue?: string;
  /** Files per job (default DEFAULT_PREDICTION_BATCH). */
  batch?: number;
  faces?: boolean;
  /** Decide between two classes only (PredictOptions.forcedChoice); the workers' model must allow it. */
  forcedChoice?: boolean;
  /** Jobs in Redis at once: bounds Redis memory on a two-million-file run (default 256). */
  window?: number;
  /** Called with each job's rows as they arrive, in no particular order; duplicates are already removed. */
  onRows: (rows: Prediction[]) => Promise<void>;
  onProgress?: (done: number, total: number) => void;
  /** Notes for the user: no worker serving the queue, nothing heard for a while. */
  log?: (line: string) => void;
}

/**
 * Enqueues `files` in batches and resolves when every file has its row. Completion is learnt from
 * queue events and, should events be lost (a Redis restart), from a sweep over the jobs in flight.
 */
export async function predictThroughQueue(files: string[], options: QueueRunOptions): Promise<void> {
  const queueName = validateQueueName(options.queue ?? DEFAULT_QUEUE);
  const connection = redisConnection(options.redis);
  await checkRedis(options.redis);
  const batch = options.batch ?? DEFAULT_PREDICTION_BATCH;
  const window = options.window ?? 256;
  const jobOptions = {
    attempts: ATTEMPTS,
    backoff: { type: 'exponential' as const, delay: 1000 },
    removeOnComplete: { age: KEEP_FINISHED_SECONDS },
    removeOnFail: { age: KEEP_FINISHED_SECONDS },
  };
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
  let lastNews = performance.now();
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
    else if (job?.finishedOn && job.failedReason && (await job.getState()) === 'failed') {
      rows = slice.map((file) => ({ file, error: { code: 'job-failed', message: `${file}: its batch failed on the workers (${job.failedReason})` } }));
    } else if (!job) {
      // Lost (Redis restarted before the job was persisted): add it again.
      await queue.add('predict', { files: slice, faces: options.faces ?? true, batch, ...(options.forcedChoice ? { forcedChoice: true } : {}) }, { ...jobOptions, jobId: id });
      return false;
    }
    if (!rows) return false;
    await options.onRows(rows.filter((r) => !seen.has(rowKey(r)) && seen.add(rowKey(r))));
    pending.delete(id);
    done += slice.length;
    lastNews = performance.now();
    options.onProgress?.(done, files.length);
    await job!.remove().catch(() => {});
    return true;
  };

  try {
    while (done < files.length) {
      // Keep the window full.
      const add: { name: string; data: BatchJob; opts: typeof jobOptions & { jobId: string } }[] = [];
      while (pending.size + add.length < window && next < files.length) {
        const slice = files.slice(next, next + batch);
        const jobId = `${run}-${next}`;
        next += slice.length;
        add.push({ name: 'predict', data: { files: slice, faces: options.faces ?? true, batch, ...(options.forcedChoice ? { forcedChoice: true } : {}) }, opts: { ...jobOptions, jobId } });
        pending.set(jobId, slice);
      }
      if (add.length) await queue.addBulk(add);
      const sweep = performance.now() - lastSweep > SWEEP_MS;
      const ids = sweep ? [...pending.keys()] : [...finished].filter((id) => pending.has(id));
      if (sweep) lastSweep = performance.now();
      finished.clear();
      for (const id of ids) await collect(id, pending.get(id)!);
      if (performance.now() - lastNews > QUIET_NOTE_MS) {
        lastNews = performance.now();
        const workers = await queue.getWorkersCount().catch(() => undefined);
        options.log?.(workers === 0
          ? `no worker is serving queue "${queueName}" at ${options.redis}; ${files.length - done} file(s) wait (start one with: happysad worker --redis ${options.redis} --queue ${queueName} --root DIR)`
          : `no batch finished in the last ${QUIET_NOTE_MS / 1000} s${workers === undefined ? '' : ` (${workers} worker(s) connected)`}; ${files.length - done} file(s) to go`);
      }
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
  const name = validateQueueName(options.queue ?? DEFAULT_QUEUE);
  const connection = redisConnection(options.redis);
  await checkRedis(options.redis);
  const queue = new Queue(name, { connection });
  queue.on('error', () => {});
  try {
    const client = await queue.getBackend().client;
    const started = performance.now();
    let said = -1;
    for (;;) {
      const text = await client.get(modelKey(name));
      if (text) return JSON.parse(text) as BundleMetadata;
      const waited = performance.now() - started;
      if (Math.floor(waited / QUIET_NOTE_MS) > said) {
        said = Math.floor(waited / QUIET_NOTE_MS);
        options.log?.(`${said ? `still waiting (${Math.round(waited / 1000)} s)` : 'waiting'} for a worker on queue "${name}" at ${options.redis} (start one with: happysad worker --redis ${options.redis}${name === DEFAULT_QUEUE ? '' : ` --queue ${name}`} --root DIR)`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await queue.close().catch(() => {});
  }
}
