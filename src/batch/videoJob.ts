/**
 * A video through the job queue: one job per video, and its rows handed back through Redis in
 * chunks rather than as the job's return value. A video at the default sampling gives 18,000 rows
 * an hour per face (~5 MB of JSON); BullMQ keeps a return value in the job's hash and copies it
 * into the queue's event stream, which every producer on the queue reads. So the worker pushes
 * rows as it computes them, VIDEO_CHUNK_ROWS at a time, onto a list of its own for that attempt
 * (memory flat on both sides), and returns only where they are and how many chunks there are. An
 * attempt that dies leaves its list to expire; the next attempt writes a new one.
 */
import { MIN_VIDEO_EVERY, type VideoLimits } from '../input/videoLimits.js';
import type { VideoErrorRow, VideoRow } from '../predict/predictionRow.js';
import { JOB_LIMITS } from './jobReferences.js';

/** A queued video: an absolute path under the workers' --root, and how to sample it. */
export interface VideoJob {
  /** QUEUE_PROTOCOL of the producer that queued it; absent in jobs of producers from before. */
  protocol?: number;
  video: string;
  faces: boolean;
  every: number;
  /** PredictVideoOptions.searchEvery; absent in jobs of producers from before (the worker's default). */
  searchEvery?: number;
  smooth: number;
  limits: Pick<VideoLimits, 'maxSeconds' | 'maxPixels'>;
  /** Decide between two classes only (PredictVideoOptions.forcedChoice); absent in jobs of producers from before. */
  forcedChoice?: boolean;
}

/** What a video job may ask of a worker: a day of video, 8K frames. */
export const VIDEO_JOB_LIMITS = {
  maxSeconds: 24 * 3600,
  maxPixels: 7680 * 4320,
};

/** Rows per chunk pushed to Redis: ~100 KB of JSON, a few seconds of video. */
export const VIDEO_CHUNK_ROWS = 500;

/** What a worker returns for a video job: where its rows are, and what the results file's end row says. */
export interface VideoJobResult {
  file: string;
  sha256?: string;
  /** The Redis list holding the rows, one JSON array per chunk, in order. */
  rows: string;
  chunks: number;
  frames: number;
  every: number;
}

export type VideoRows = (VideoRow | VideoErrorRow)[];

/** The list an attempt writes its rows to: the job's id and a token of its own, under the queue's prefix. */
export const videoRowsKey = (queue: string, jobId: string, token: string) => `happysad:${queue}:video-rows:${jobId}:${token}`;

const positive = (x: unknown, min: number, max: number): x is number => typeof x === 'number' && Number.isFinite(x) && x >= min && x <= max;

/** A video job's data as a worker receives it, checked; a string says what is wrong with it. */
export function validateVideoJob(data: unknown): VideoJob | string {
  if (typeof data !== 'object' || data === null) return 'the job is not an object';
  const { video, faces, every, searchEvery, smooth, limits, forcedChoice } = data as Record<string, unknown>;
  if (typeof video !== 'string' || video.length === 0 || video.length > JOB_LIMITS.maxReferenceLength) return `"video" must be a path of 1 to ${JOB_LIMITS.maxReferenceLength} characters`;
  if (typeof faces !== 'boolean') return '"faces" must be true or false';
  if (forcedChoice !== undefined && typeof forcedChoice !== 'boolean') return '"forcedChoice" must be true or false';
  if (!positive(every, MIN_VIDEO_EVERY, VIDEO_JOB_LIMITS.maxSeconds)) return `"every" must be a number of seconds from ${MIN_VIDEO_EVERY} to ${VIDEO_JOB_LIMITS.maxSeconds}`;
  if (searchEvery !== undefined && !positive(searchEvery, 0, VIDEO_JOB_LIMITS.maxSeconds)) return `"searchEvery" must be a number of seconds from 0 to ${VIDEO_JOB_LIMITS.maxSeconds}`;
  if (!positive(smooth, 0, VIDEO_JOB_LIMITS.maxSeconds)) return `"smooth" must be a number of seconds from 0 to ${VIDEO_JOB_LIMITS.maxSeconds}`;
  const { maxSeconds, maxPixels } = (typeof limits === 'object' && limits !== null ? limits : {}) as Record<string, unknown>;
  if (!positive(maxSeconds, 0.01, VIDEO_JOB_LIMITS.maxSeconds)) return `"limits.maxSeconds" must be from 0.01 to ${VIDEO_JOB_LIMITS.maxSeconds}`;
  if (!positive(maxPixels, 1, VIDEO_JOB_LIMITS.maxPixels) || !Number.isInteger(maxPixels)) return `"limits.maxPixels" must be a whole number from 1 to ${VIDEO_JOB_LIMITS.maxPixels}`;
  return { video, faces, every, ...(searchEvery !== undefined ? { searchEvery } : {}), smooth, limits: { maxSeconds, maxPixels }, ...(forcedChoice ? { forcedChoice: true } : {}) };
}

/**
 * A worker's answer to a video job, as the producer checks it before reading anything it names:
 * the rows must be on this job's list. undefined when it is not such an answer.
 */
export function validateVideoResult(value: unknown, queue: string, jobId: string): VideoJobResult | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const ok = typeof r.file === 'string' && (r.sha256 === undefined || typeof r.sha256 === 'string')
    && typeof r.rows === 'string' && r.rows.startsWith(videoRowsKey(queue, jobId, ''))
    && Number.isInteger(r.chunks) && (r.chunks as number) >= 0 && Number.isInteger(r.frames) && (r.frames as number) >= 0 && typeof r.every === 'number';
  return ok ? (r as unknown as VideoJobResult) : undefined;
}
