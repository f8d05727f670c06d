import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VideoError } from '../base/errors.js';
import { probeVideo, type VideoLimits } from '../data/videoFrames.js';
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
  /** Longest video accepted; longer ones are for the CLI or the job queue. */
  maxSeconds: number;
  maxPixels: number;
}

/**
 * A posted video, classified in this thread: written to a private temporary file for ffmpeg
 * (which reads files, and needs to seek in MP4s), removed afterwards whatever happens.
 */
export async function classifyVideoUpload(classifier: Classifier, bytes: Uint8Array, name: string, options: VideoUploadOptions): Promise<VideoAnswer> {
  const dir = await mkdtemp(join(tmpdir(), 'happysad-upload-'));
  try {
    const file = join(dir, 'video');
    await writeFile(file, bytes, { mode: 0o600 });
    const info = await probeVideo(file);
    if (info.duration !== undefined && info.duration > options.maxSeconds) {
      throw new VideoError('video-too-large', `${name}: ${info.duration.toFixed(1)} s is longer than this server takes (${options.maxSeconds} s); run longer videos with \`happysad predict VIDEO\` or the job queue`);
    }
    const limits: VideoLimits = { maxSeconds: options.maxSeconds, maxPixels: options.maxPixels };
    const summaries = new TrackSummaries(classifier.metadata.classes);
    const results: (VideoRow | VideoErrorRow)[] = [];
    for await (const row of classifier.predictVideo(file, { every: options.every, smooth: options.smooth, limits })) {
      const named = { ...row, file: name };
      if (!('error' in named)) summaries.add(named);
      else named.error = { ...named.error, message: named.error.message.replaceAll(file, name) };
      results.push(named);
    }
    return { results, tracks: summaries.summaries() };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
