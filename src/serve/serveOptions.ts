import { availableParallelism } from 'node:os';
import type { FastifyServerOptions } from 'fastify';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from '../input/imageLimits.js';
import { OptionError } from '../base/errors.js';
import { DEFAULT_VIDEO_EVERY, DEFAULT_VIDEO_LIMITS, sampledFrames } from '../input/videoLimits.js';
import type { ServableModel } from './servableModel.js';

export interface ServeOptions {
  /** A model bundle directory (loaded, and closed with the server), or a loaded model (the caller closes it). */
  model: string | ServableModel;
  /** Largest request body in bytes; for multipart, all files together. */
  bodyLimit?: number;
  /** Most files in one multipart request. */
  maxFiles?: number;
  /** Pixel and side limits, checked from the image header before anything is decoded. */
  limits?: ImageLimits;
  /** Predictions running at once; with a model directory, also the number of inference threads. */
  concurrency?: number;
  /** Predictions waiting for a slot; one more is answered 503 with Retry-After. */
  queue?: number;
  /** Longest a prediction request may take, waiting included, before it is answered 503 `timeout`. */
  timeoutMs?: number;
  /** Requests per minute per client address on POST /v1/predict; 0 turns the limit off. */
  rateLimit?: number;
  /** Folder of the built page (default: dist/page in the package, which `npm run build` makes from web/). */
  webRoot?: string;
  /** Folder of the browser build served at /lib/ (default: dist/browser in the package). */
  libRoot?: string;
  /** Longest video POST /v1/predict takes, in seconds; longer ones are for the CLI or the job queue. */
  videoMaxSeconds?: number;
  /** Largest video frame (width x height) POST /v1/predict takes; the CLI's limit by default. */
  videoMaxPixels?: number;
  /** Most frames sampled from one posted video (a smaller ?every is refused): with the timeout, what bounds a video's work. */
  videoMaxFrames?: number;
  /** Where the server's private upload folder is made (default: the system's temporary folder). */
  uploadRoot?: string;
  /**
   * Answer with the forced choice between two classes (happy or sad, never neutral) unless a request
   * says ?forced_choice=false; a model it cannot apply to is refused at start.
   */
  forcedChoice?: boolean;
  /** Run one prediction before answering, so the first client does not pay for loading the face nets. */
  warmup?: boolean;
  logger?: FastifyServerOptions['logger'];
}

export type ResolvedServeOptions = Required<Omit<ServeOptions, 'model' | 'webRoot' | 'libRoot' | 'logger' | 'uploadRoot'>> & Pick<ServeOptions, 'model' | 'webRoot' | 'libRoot' | 'logger' | 'uploadRoot'>;

/** Where `happysad serve` listens when neither a flag nor $HOST / $PORT says: loopback only, so nothing is exposed by default. */
export const DEFAULT_LISTEN = { host: '127.0.0.1', port: 8080 } as const;

const VIDEO_MAX_SECONDS = 60;

/**
 * Concurrency is one inference thread per core, at most 4: a face prediction is CPU-bound, so
 * more threads than cores only share the cores more slowly, and each thread holds its own copy
 * of the model and face nets. 16 waiting at ~1 s each over two threads is ~8 s of queue, inside
 * the 30 s timeout, so a request that is queued is normally answered rather than timed out.
 */
export const DEFAULT_SERVE_OPTIONS = {
  bodyLimit: 10 * 1024 * 1024,
  maxFiles: 16,
  limits: DEFAULT_IMAGE_LIMITS,
  concurrency: Math.max(1, Math.min(4, availableParallelism())),
  queue: 16,
  timeoutMs: 30_000,
  rateLimit: 0,
  videoMaxSeconds: VIDEO_MAX_SECONDS,
  videoMaxPixels: DEFAULT_VIDEO_LIMITS.maxPixels,
  // A full-length video at the default sampling (300 frames), and no more.
  videoMaxFrames: sampledFrames(VIDEO_MAX_SECONDS, DEFAULT_VIDEO_EVERY),
  warmup: true,
  forcedChoice: false,
} as const;

export function resolveServeOptions(options: ServeOptions): ResolvedServeOptions {
  const o = { ...DEFAULT_SERVE_OPTIONS, ...stripUndefined(options) };
  const positiveInt = (name: string, v: number, min = 1) => {
    if (!Number.isInteger(v) || v < min) throw new OptionError(`serve: ${name} must be an integer >= ${min}, got ${v}`);
  };
  positiveInt('bodyLimit', o.bodyLimit);
  positiveInt('maxFiles', o.maxFiles);
  positiveInt('concurrency', o.concurrency);
  positiveInt('queue', o.queue, 0);
  positiveInt('timeoutMs', o.timeoutMs);
  positiveInt('rateLimit', o.rateLimit, 0);
  positiveInt('videoMaxPixels', o.videoMaxPixels);
  positiveInt('videoMaxFrames', o.videoMaxFrames);
  if (!(o.videoMaxSeconds > 0)) throw new OptionError(`serve: videoMaxSeconds must be positive, got ${o.videoMaxSeconds}`);
  return o;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
