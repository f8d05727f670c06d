import { randomUUID } from 'node:crypto';
import { open, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { HappysadError, VideoError } from '../base/errors.js';
import { messageOf } from '../base/messageOf.js';
import { sniffVideoFormat } from '../input/sniffVideoFormat.js';
import { framesTooLarge, probeVideo } from '../input/videoFrames.js';
import { MAX_VIDEO_PIXELS_OPTION, sampledFrames, type VideoLimits } from '../input/videoLimits.js';
import type { Classifier } from '../predict/classifier.js';
import type { VideoErrorRow, VideoRow } from '../predict/predictVideo.js';
import { TrackSummaries, type TrackSummary } from '../predict/trackSummary.js';

/** What POST /v1/predict answers for a video: its rows (one per sampled frame and face) and one summary per track. */
export interface VideoAnswer {
  results: (VideoRow | VideoErrorRow)[];
  tracks: TrackSummary[];
}

export interface VideoUploadOptions {
  every: number;
  smooth: number;
  /** Decide between two classes only (PredictVideoOptions.forcedChoice). */
  forcedChoice?: boolean;
  /** Longest video accepted; longer ones are for the CLI or the job queue. */
  maxSeconds: number;
  /** Largest frame (width x height). */
  maxPixels: number;
  /** Most frames sampled from one video: with the timeout, what bounds the work one request can ask for. */
  maxFrames: number;
  /** The server's private upload folder (see UploadFolder), where the video is written for ffmpeg. */
  dir: string;
}

/**
 * A posted video, classified in this thread: written to a file of the server's private upload
 * folder for ffmpeg (which reads files, and needs to seek in MP4s), removed afterwards whatever
 * happens. Refused before any frame is decoded when it is longer, larger or would sample more
 * frames than the server takes. `signal` kills ffmpeg and stops between frames. No message that
 * leaves here names the file: ffmpeg's words about it are given the client's name for the video.
 */
export async function classifyVideoUpload(classifier: Classifier, bytes: Uint8Array, name: string, options: VideoUploadOptions, signal?: AbortSignal): Promise<VideoAnswer> {
  const file = join(options.dir, `${randomUUID()}.video`);
  let handle: FileHandle | undefined;
  const scrub = (text: string) => text.replaceAll(`file:${file}`, name).replaceAll(file, name).replaceAll(options.dir, 'the server');
  try {
    await writeFile(file, bytes, { mode: 0o600, flag: 'wx' });
    // ffmpeg reads it as the container its first bytes say (as a queue worker does), never by its own
    // guess: a guessed playlist or concat list would make it open other files of this machine.
    const format = sniffVideoFormat(bytes);
    if (format === 'unknown') throw new VideoError('video-corrupt', `${name}: not a video this server reads (MP4, MOV, WebM, Matroska or AVI)`);
    handle = await open(file, 'r');
    const opened = { fd: handle.fd, format };
    const info = await probeVideo(file, undefined, signal, opened);
    if (info.duration !== undefined && info.duration > options.maxSeconds) {
      throw new VideoError('video-too-large', `${name}: ${info.duration.toFixed(1)} s is longer than this server takes (${options.maxSeconds} s); run longer videos with \`happysad predict VIDEO\` or the job queue`);
    }
    if (info.width * info.height > options.maxPixels) {
      throw framesTooLarge(name, info, options.maxPixels, `or run it with \`happysad predict VIDEO\`; this server's limit is its operator's (serve ${MAX_VIDEO_PIXELS_OPTION})`);
    }
    const frames = sampledFrames(Math.min(info.duration ?? options.maxSeconds, options.maxSeconds), options.every);
    if (frames > options.maxFrames) {
      const every = Math.ceil((100 * (info.duration ?? options.maxSeconds)) / options.maxFrames) / 100;
      throw new VideoError('video-too-large', `${name}: ?every=${options.every} samples ${frames} frames of this ${(info.duration ?? options.maxSeconds).toFixed(1)} s video; this server samples at most ${options.maxFrames} per video: use ?every=${every} or more, or run it with \`happysad predict VIDEO\``);
    }
    const limits: VideoLimits = { maxSeconds: options.maxSeconds, maxPixels: options.maxPixels, maxFrames: options.maxFrames };
    const summaries = new TrackSummaries(classifier.metadata.classes);
    const results: (VideoRow | VideoErrorRow)[] = [];
    for await (const row of classifier.predictVideo(file, { every: options.every, smooth: options.smooth, forcedChoice: options.forcedChoice, limits, info, signal, opened })) {
      const named = { ...row, file: name };
      if (!('error' in named)) summaries.add(named);
      else named.error = { ...named.error, message: scrub(named.error.message) };
      results.push(named);
    }
    return { results, tracks: summaries.summaries() };
  } catch (err) {
    if (signal?.aborted) throw err;
    throw err instanceof HappysadError ? new HappysadError(err.code, scrub(err.message)) : new Error(scrub(messageOf(err)));
  } finally {
    await handle?.close();
    await rm(file, { force: true });
  }
}
