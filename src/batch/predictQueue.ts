/**
 * Prediction spread over machines through a Redis job queue (BullMQ): producers enqueue batches of
 * file references (absolute paths on a shared filesystem, or http(s) URLs; never image bytes), and
 * one job per video (see videoJob.ts); workers classify them and return the rows. A worker that
 * dies mid-batch holds a lock that expires after the stall timeout; BullMQ then hands the batch to another worker. Rows are keyed by
 * path and content hash, so a batch done twice still yields each row once. Jobs are untrusted
 * input to a worker: see jobReferences.ts for what it agrees to read.
 */
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { HappysadError } from '../base/errors.js';
import { messageOf } from '../base/messageOf.js';
import type { BundleMetadata } from '../model/bundleMetadata.js';
import type { Classifier, Prediction } from '../predict/classifier.js';
import { invalidEntry, openVideoReference, readReference, validateBatchJob, type BatchJob, type ReferencePolicy } from './jobReferences.js';
import { jobProtocolProblem, QUEUE_PROTOCOL, workerProtocolProblem } from './queueProtocol.js';
import { validateVideoJob, validateVideoResult, VIDEO_CHUNK_ROWS, videoRowsKey, type VideoJob, type VideoJobResult, type VideoRows } from './videoJob.js';
import { hashOpenFile } from '../io/hashFile.js';
import type { VideoErrorRow, VideoRow } from '../predict/predictionRow.js';
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
/** Where they announce the queue protocol they speak, beside it and with the same lease. */
const protocolKey = (queue: string) => `happysad:${queue}:protocol`;

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
  /** A video's rows per chunk handed back through Redis (default VIDEO_CHUNK_ROWS). */
  videoChunkRows?: number;
}

/** Serves batches from the queue until `signal` aborts; resolves with what it did once stopped (a video counts as one file). */
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
  // BullMQ's client type names only what BullMQ uses; underneath it is ioredis.
  const client = async () => (await publisher.getBackend().client) as unknown as Redis;
  const announce = async () => {
    // Together, in one round trip: a producer never reads the model of one announcement beside the protocol of none.
    await (await client())
      .multi()
      .set(protocolKey(queue), String(QUEUE_PROTOCOL), 'PX', MODEL_TTL_MS)
      .set(modelKey(queue), JSON.stringify(classifier.metadata), 'PX', MODEL_TTL_MS)
      .exec();
  };
  await announce();
  const heartbeat = setInterval(() => announce().catch(() => {}), HEARTBEAT_MS);
  const worker = new Worker<unknown, Prediction[] | VideoJobResult>(queue, async (job, token) => {
    // Before anything else: a job of another protocol may mean something else by the same fields.
    const otherProtocol = jobProtocolProblem(job.data);
    if (otherProtocol) throw new UnrecoverableError(otherProtocol);
    if (job.name === 'video') {
      const data = validateVideoJob(job.data);
      if (typeof data === 'string') throw new UnrecoverableError(`malformed job: ${data}`);
      log(`batch ${job.id} started: 1 video (attempt ${job.attemptsMade + 1})`);
      inHand++;
      let result: VideoJobResult;
      try {
        const into = { key: videoRowsKey(queue, job.id!, randomUUID().slice(0, 8)), client: await client(), chunkRows: options.videoChunkRows ?? VIDEO_CHUNK_ROWS };
        result = await predictVideoJob(classifier, data, into, policy, options.signal);
      } catch (err) {
        // A video may run for an hour: a stopping worker hands it back at once, without using up
        // an attempt, rather than hold it until the stall timeout.
        if (!options.signal?.aborted) throw err;
        await job.moveToWait(token);
        log(`batch ${job.id} handed back: this worker is stopping (another worker does the video from its start)`);
        throw new WaitingError();
      } finally {
        inHand--;
      }
      batches++;
      files++;
      log(`batch ${job.id} done`);
      return result;
    }
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
    // The publisher's connection is the one a video job in hand cleans up with: closed after the worker.
    worker.close().then(() => publisher.close()).then(() => true),
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

/**
 * One video's rows, pushed to `rowsKey` in chunks as predictVideo gives them (see videoJob.ts). The
 * video is read from a descriptor opened under the worker's roots, so ffmpeg opens no path itself.
 * A video the worker will not or cannot open is one error row, as a bad photo is.
 */
async function predictVideoJob(classifier: Classifier, job: VideoJob, into: { key: string; client: Redis; chunkRows: number }, policy: ReferencePolicy, signal?: AbortSignal): Promise<VideoJobResult> {
  const { key: rowsKey, client, chunkRows } = into;
  let chunk: VideoRows = [];
  let chunks = 0;
  let frames = 0;
  let sha256: string | undefined;
  const push = async () => {
    // Expires like a finished job: a list whose producer never came for it does not stay.
    await client.multi().rpush(rowsKey, JSON.stringify(chunk)).pexpire(rowsKey, KEEP_FINISHED_SECONDS * 1000).exec();
    chunks++;
    chunk = [];
  };
  const ref = await openVideoReference(job.video, policy);
  if ('code' in ref) chunk.push({ file: job.video, error: ref });
  else {
    try {
      sha256 = await hashOpenFile(ref.fh);
      const rows = classifier.predictVideo(job.video, { every: job.every, searchEvery: job.searchEvery, smooth: job.smooth, faces: job.faces, forcedChoice: job.forcedChoice, limits: job.limits, opened: { fd: ref.fh.fd, format: ref.format }, signal });
      for await (const row of rows) {
        if ('error' in row) chunk.push({ ...row, error: { ...row.error, message: withoutContent(row.error.message) } });
        else {
          frames = Math.max(frames, row.frame + 1);
          chunk.push(row);
        }
        if (chunk.length >= chunkRows) await push();
      }
    } catch (err) {
      // The next attempt writes a list of its own; this one's part goes now rather than in a day.
      await client.del(rowsKey).catch(() => {});
      throw err;
    } finally {
      await ref.fh.close();
    }
  }
  if (chunk.length) await push();
  return { file: job.video, ...(sha256 ? { sha256 } : {}), rows: rowsKey, chunks, frames, every: job.every };
}

/** Videos for the queue: one job each, sampled as `predict` would sample them here. */
export interface QueuedVideos {
  files: string[];
  every: number;
  searchEvery?: number;
  smooth: number;
  limits: VideoJob['limits'];
}

/** A video whose job finished: its rows, read from Redis a chunk at a time as they are consumed. */
export interface QueuedVideo {
  file: string;
  /** Absent when the worker could not read the file (then the rows are its error row). */
  sha256?: string;
  every: number;
  rows: AsyncIterable<VideoRow | VideoErrorRow> | Iterable<VideoRow | VideoErrorRow>;
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
  /** Videos, enqueued before the photos (the longest jobs start first). */
  videos?: QueuedVideos;
  /** Called with each video as its job finishes, one at a time, between photo rows; a video done twice comes once. */
  onVideo?: (video: QueuedVideo) => Promise<void>;
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
  const videos = options.videos;
  if (videos?.files.length && !options.onVideo) throw new TypeError('predictThroughQueue: videos need an onVideo callback');
  const faces = options.faces ?? true;
  const total = files.length + (videos?.files.length ?? 0);
  const jobOptions = {
    attempts: ATTEMPTS,
    backoff: { type: 'exponential' as const, delay: 1000 },
    removeOnComplete: { age: KEEP_FINISHED_SECONDS },
    removeOnFail: { age: KEEP_FINISHED_SECONDS },
  };
  const queue = new Queue<BatchJob | VideoJob, Prediction[] | VideoJobResult>(queueName, { connection });
  const events = new QueueEvents(queueName, { connection });
  events.on('error', () => {});
  queue.on('error', () => {});
  const client = (await queue.getBackend().client) as unknown as Redis;
  const run = randomUUID().slice(0, 8);
  const seen = new Set<string>();
  type Pending = { name: 'predict'; data: BatchJob } | { name: 'video'; data: VideoJob };
  const sizeOf = (p: Pending) => (p.name === 'video' ? 1 : p.data.files.length);
  const pending = new Map<string, Pending>();
  const forced = options.forcedChoice ? { forcedChoice: true } : {};
  // Videos first: a long video started early does not keep the run waiting at its end.
  function* plan(): Generator<[string, Pending]> {
    for (const [i, video] of (videos?.files ?? []).entries()) {
      yield [`${run}-v${i}`, { name: 'video', data: { protocol: QUEUE_PROTOCOL, video, faces, every: videos!.every, searchEvery: videos!.searchEvery, smooth: videos!.smooth, limits: videos!.limits, ...forced } }];
    }
    for (let i = 0; i < files.length; i += batch) yield [`${run}-${i}`, { name: 'predict', data: { protocol: QUEUE_PROTOCOL, files: files.slice(i, i + batch), faces, batch, ...forced } }];
  }
  const jobs = plan();
  // Jobs the events say finished: looked at first. Every SWEEP_MS all jobs in flight are looked at
  // too, so a completion whose event was lost (events are not replayed across a Redis restart) is
  // still collected.
  const finished = new Set<string>();
  let done = 0;
  let planned = false;
  let lastSweep = performance.now();
  let lastNews = performance.now();
  let wake: (() => void) | undefined;
  const onEvent = ({ jobId }: { jobId: string }) => {
    finished.add(jobId);
    wake?.();
  };
  events.on('completed', onEvent);
  events.on('failed', onEvent);
  const add = (id: string, p: Pending) => queue.add(p.name, p.data, { ...jobOptions, jobId: id });

  /** The rows of a finished job: its own, or an error row per file when it failed; undefined while it runs. */
  const rowsOf = async (job: Job<BatchJob | VideoJob, Prediction[] | VideoJobResult>, p: Pending): Promise<Prediction[] | QueuedVideo | 'redo' | undefined> => {
    const failed = job.finishedOn && !job.returnvalue && job.failedReason && (await job.getState()) === 'failed';
    if (p.name === 'predict') {
      if (job.finishedOn && job.returnvalue) return job.returnvalue as Prediction[];
      if (failed) return p.data.files.map((file) => ({ file, error: { code: 'job-failed', message: `${file}: its batch failed on the workers (${job.failedReason})` } }));
      return undefined;
    }
    const file = p.data.video;
    const errorVideo = (message: string): QueuedVideo => ({ file, every: p.data.every, rows: [{ file, error: { code: 'job-failed', message: `${file}: ${message}` } }] });
    if (failed) return errorVideo(`its job failed on the workers (${job.failedReason})`);
    if (!job.finishedOn || !job.returnvalue) return undefined;
    const result = validateVideoResult(job.returnvalue, queueName, job.id!);
    if (!result) return errorVideo('the worker\'s answer is not a video\'s rows (a worker of another happysad version?)');
    // Rows gone (a Redis restart without them, or a producer away for longer than they are kept): done again.
    if ((await client.llen(result.rows)) !== result.chunks) {
      await client.del(result.rows);
      return 'redo';
    }
    return { file, ...(result.sha256 ? { sha256: result.sha256 } : {}), every: result.every, rows: chunksOf(client, result.rows, result.chunks) };
  };

  /** Writes a finished job's rows; false if it is not finished yet. */
  const collect = async (id: string, p: Pending): Promise<boolean> => {
    const job = (await queue.getJob(id)) as Job<BatchJob | VideoJob, Prediction[] | VideoJobResult> | undefined;
    if (!job) {
      // Lost (Redis restarted before the job was persisted): add it again.
      await add(id, p);
      return false;
    }
    const rows = await rowsOf(job, p);
    if (rows === 'redo') {
      await job.remove().catch(() => {});
      await add(id, p);
      return false;
    }
    if (!rows) return false;
    if (Array.isArray(rows)) await options.onRows(rows.filter((r) => !seen.has(rowKey(r)) && seen.add(rowKey(r))));
    else if (!rows.sha256 || !seen.has(rowKey(rows))) {
      if (rows.sha256) seen.add(rowKey(rows));
      await options.onVideo!(rows);
    }
    const result = job.returnvalue as VideoJobResult | undefined;
    if (p.name === 'video' && result?.rows) await client.del(result.rows).catch(() => {});
    pending.delete(id);
    done += sizeOf(p);
    lastNews = performance.now();
    options.onProgress?.(done, total);
    await job.remove().catch(() => {});
    return true;
  };

  try {
    while (done < total) {
      // Keep the window full.
      const adding: { name: string; data: BatchJob | VideoJob; opts: typeof jobOptions & { jobId: string } }[] = [];
      while (!planned && pending.size < window) {
        const step = jobs.next();
        if (step.done) {
          planned = true;
          break;
        }
        const [jobId, p] = step.value;
        adding.push({ name: p.name, data: p.data, opts: { ...jobOptions, jobId } });
        pending.set(jobId, p);
      }
      if (adding.length) await queue.addBulk(adding);
      const sweep = performance.now() - lastSweep > SWEEP_MS;
      const ids = sweep ? [...pending.keys()] : [...finished].filter((id) => pending.has(id));
      if (sweep) lastSweep = performance.now();
      finished.clear();
      for (const id of ids) await collect(id, pending.get(id)!);
      if (performance.now() - lastNews > QUIET_NOTE_MS) {
        lastNews = performance.now();
        const workers = await queue.getWorkersCount().catch(() => undefined);
        options.log?.(workers === 0
          ? `no worker is serving queue "${queueName}" at ${options.redis}; ${total - done} file(s) wait (start one with: happysad worker --redis ${options.redis} --queue ${queueName} --root DIR)`
          : `no batch finished in the last ${QUIET_NOTE_MS / 1000} s${workers === undefined ? '' : ` (${workers} worker(s) connected)`}; ${total - done} file(s) to go`);
      }
      if (done < total && finished.size === 0) {
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

/** A video's rows from its Redis list, one chunk in memory at a time. */
async function* chunksOf(client: Redis, key: string, chunks: number): AsyncGenerator<VideoRow | VideoErrorRow> {
  for (let i = 0; i < chunks; i++) {
    const [text] = await client.lrange(key, i, i);
    const rows = JSON.parse(text ?? 'null') as unknown;
    if (!Array.isArray(rows)) throw new HappysadError('queue-rows-lost', `${key}: chunk ${i + 1} of ${chunks} is missing from Redis; run the same command with --resume to do that video again`);
    yield* rows as VideoRows;
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
    // BullMQ's client type names only what BullMQ uses; underneath it is ioredis.
    const client = (await queue.getBackend().client) as unknown as Redis;
    const started = performance.now();
    let said = -1;
    for (;;) {
      const [protocol, text] = await client.mget(protocolKey(name), modelKey(name));
      const otherProtocol = workerProtocolProblem(protocol, name);
      if (otherProtocol) throw new HappysadError('queue-protocol', otherProtocol);
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
