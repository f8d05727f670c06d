import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { VideoError } from '../base/errors.js';
import { DEFAULT_VIDEO_LIMITS, MAX_VIDEO_PIXELS_OPTION, type VideoLimits } from './videoLimits.js';
import type { Pixels } from '../pixels/pixels.js';
import type { VideoFormat } from './sniffVideoFormat.js';

export { DEFAULT_VIDEO_LIMITS, type VideoLimits } from './videoLimits.js';

export interface VideoInfo {
  width: number;
  height: number;
  /** Seconds, when the container says. */
  duration?: number;
}

export interface VideoFrame {
  /** 0-based index among the sampled frames. */
  index: number;
  /** Seconds from the start of the video. */
  time: number;
  image: Pixels<3>;
}

/**
 * The ffmpeg binary: $HAPPYSAD_FFMPEG, else `ffmpeg` on PATH. Debian's (`apt-get install ffmpeg`)
 * or any static build; nothing is downloaded.
 */
export function findFfmpeg(env: NodeJS.ProcessEnv = process.env): string {
  const missing = (where: string) => new VideoError('ffmpeg-missing', `${where}; videos are read with ffmpeg: install it (Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg), or set HAPPYSAD_FFMPEG to an ffmpeg binary`);
  if (env.HAPPYSAD_FFMPEG) {
    try {
      accessSync(env.HAPPYSAD_FFMPEG, constants.X_OK);
      return env.HAPPYSAD_FFMPEG;
    } catch {
      throw missing(`HAPPYSAD_FFMPEG=${env.HAPPYSAD_FFMPEG} is not an executable file`);
    }
  }
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'ffmpeg');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw missing('ffmpeg is not on PATH');
}

/**
 * A path as ffmpeg must be given it: `file:` and absolute. ffmpeg reads any argument that starts
 * with a protocol name and a colon as a URL, so a file named `concat:a.mp4|b.mp4` would make it read
 * two other files (and `http:...` fetch one); with `file:` the rest is only ever a path.
 */
export function ffmpegInput(file: string): string {
  return `file:${resolve(file)}`;
}

/**
 * A video its caller has opened and checked (a queue worker, see batch/jobReferences.ts): ffmpeg
 * reads that open file, with the demuxer its first bytes named, and opens no path of its own. A
 * path could be swapped for a link between the check and ffmpeg's open; and a demuxer chosen by
 * ffmpeg's guess could be a playlist's (HLS), which opens the other files it names.
 */
export interface OpenedVideo {
  fd: number;
  format: Exclude<VideoFormat, 'unknown'>;
}

const DEMUXER: Record<OpenedVideo['format'], string> = { mp4: 'mov', mov: 'mov', webm: 'matroska', mkv: 'matroska', avi: 'avi' };

/** ffmpeg's input arguments for a video, and the descriptors its child process inherits. */
function ffmpegSource(file: string, opened?: OpenedVideo): { args: string[]; extraStdio: number[] } {
  if (!opened) return { args: ['-i', ffmpegInput(file)], extraStdio: [] };
  // The descriptor becomes the child's fd 3; /dev/fd/3 reopens that very file, seekable (an MP4's index may be at its end).
  return { args: ['-f', DEMUXER[opened.format], '-i', 'file:/dev/fd/3'], extraStdio: [opened.fd] };
}

/** Runs ffmpeg to completion, returning its stderr (where it reports the streams and any error). */
function ffmpegText(ffmpeg: string, args: string[], signal?: AbortSignal, extraStdio: number[] = []): Promise<{ code: number | null; stderr: string }> {
  signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe', ...extraStdio] });
    const onAbort = () => child.kill('SIGKILL');
    signal?.addEventListener('abort', onAbort, { once: true });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      if (stderr.length < 1e6) stderr += c;
    });
    child.once('error', reject);
    child.once('close', (code) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) reject(signal.reason);
      else resolve({ code, stderr });
    });
  });
}

/**
 * The video stream's displayed size and duration, from `ffmpeg -i` (so no ffprobe is needed): the
 * coded size, turned by the rotation side data when there is one, as ffmpeg's autorotation will.
 */
export async function probeVideo(file: string, ffmpeg = findFfmpeg(), signal?: AbortSignal, opened?: OpenedVideo): Promise<VideoInfo> {
  const source = ffmpegSource(file, opened);
  const { stderr } = await ffmpegText(ffmpeg, ['-hide_banner', '-nostdin', ...source.args], signal, source.extraStdio);
  const video = /Stream #\d+:\d+[^\n]*: Video: [^\n]*?, (\d{2,5})x(\d{2,5})/.exec(stderr);
  if (!video) {
    const why = /(Invalid data found[^\n]*|moov atom not found|No such file[^\n]*|Permission denied)/.exec(stderr)?.[1];
    throw new VideoError('video-corrupt', `${file}: ffmpeg finds no video stream in it${why ? ` (${why})` : ''}; the file may be damaged or not a video`);
  }
  let width = Number(video[1]);
  let height = Number(video[2]);
  const rotation = /rotation of (-?[\d.]+) degrees/.exec(stderr.slice(video.index));
  if (rotation && Math.abs(Math.round(Number(rotation[1]))) % 180 === 90) [width, height] = [height, width];
  const d = /Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(stderr);
  return { width, height, ...(d ? { duration: Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]) } : {}) };
}

/** The VideoError for frames over the pixel limit; `raise` says how the limit is raised where the error is read. */
export function framesTooLarge(name: string, info: VideoInfo, maxPixels: number, raise = `or raise the limit with ${MAX_VIDEO_PIXELS_OPTION} N`): VideoError {
  return new VideoError('video-too-large', `${name}: frames of ${info.width}x${info.height} are more than ${maxPixels} pixels (${MAX_VIDEO_PIXELS_OPTION}); shrink the video first (ffmpeg -i IN -vf scale=1280:-2 OUT) ${raise}`);
}

/**
 * Frames sampled every `every` seconds (the frame nearest each multiple, ffmpeg's fps filter), as
 * RGB, streamed from ffmpeg's stdout: one frame in memory at a time, however long the video. The
 * first frame (t = 0) is always sampled, even from a video shorter than `every`. A damaged file
 * yields the frames ffmpeg could decode, then throws a VideoError saying what failed. `signal`
 * kills ffmpeg and ends the frames with its reason.
 */
export async function* videoFrames(file: string, options: { every: number; limits?: VideoLimits; ffmpeg?: string; signal?: AbortSignal; info?: VideoInfo; opened?: OpenedVideo }): AsyncGenerator<VideoFrame> {
  const limits = options.limits ?? DEFAULT_VIDEO_LIMITS;
  const ffmpeg = options.ffmpeg ?? findFfmpeg();
  const signal = options.signal;
  if (!(options.every > 0)) throw new RangeError(`sampling interval must be positive, got ${options.every}`);
  const info = options.info ?? (await probeVideo(file, ffmpeg, signal, options.opened));
  if (info.width * info.height > limits.maxPixels) throw framesTooLarge(file, info, limits.maxPixels);
  signal?.throwIfAborted();
  const { width, height } = info;
  const frameBytes = width * height * 3;
  // eof_action=pass: without it the fps filter drops the only frame of a video shorter than one interval.
  const source = ffmpegSource(file, options.opened);
  const args = ['-hide_banner', '-nostdin', '-v', 'error', ...source.args, '-t', String(limits.maxSeconds), '-an', '-sn', '-dn',
    '-vf', `fps=1/${options.every}:round=near:eof_action=pass,scale=${width}:${height},format=rgb24`,
    ...(limits.maxFrames ? ['-frames:v', String(limits.maxFrames)] : []), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
  const child = spawn(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe', ...source.extraStdio] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    if (stderr.length < 64_000) stderr += c;
  });
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const onAbort = () => child.kill('SIGKILL');
  signal?.addEventListener('abort', onAbort, { once: true });
  // Each frame is filled in place from ffmpeg's chunks: no concatenation, one copy per byte.
  let frame = new Uint8Array(frameBytes);
  let filled = 0;
  let index = 0;
  try {
    // Async iteration pauses ffmpeg's pipe while a frame is being classified: memory stays flat.
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      for (let at = 0; at < chunk.length; ) {
        const n = Math.min(frameBytes - filled, chunk.length - at);
        frame.set(chunk.subarray(at, at + n), filled);
        filled += n;
        at += n;
        if (filled < frameBytes) break;
        yield { index, time: Number((index * options.every).toFixed(6)), image: { data: frame, width, height, channels: 3 } };
        index++;
        frame = new Uint8Array(frameBytes);
        filled = 0;
        signal?.throwIfAborted();
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  const code = await closed;
  signal?.throwIfAborted();
  const problem = stderr.trim().split('\n').filter(Boolean).slice(0, 3).join('; ');
  if (code !== 0 || problem) {
    throw new VideoError('video-corrupt', `${file}: ffmpeg stopped after ${index} sampled frame(s) (${(index * options.every).toFixed(1)} s): ${problem || `exit code ${code}`}; the rest of the file is damaged or cut`);
  }
}

/** The one frame at `time` seconds (the first frame at or after it), for a thumbnail. `info`: the video's, when already probed. */
export async function grabVideoFrame(file: string, time: number, info?: VideoInfo, ffmpeg = findFfmpeg()): Promise<Pixels<3> | undefined> {
  const { width, height } = info ?? (await probeVideo(file, ffmpeg));
  const child = spawn(ffmpeg, ['-hide_banner', '-nostdin', '-v', 'error', '-ss', String(time), '-i', ffmpegInput(file), '-frames:v', '1', '-an', '-vf', `scale=${width}:${height},format=rgb24`, '-f', 'rawvideo', 'pipe:1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const chunks: Buffer[] = [];
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) chunks.push(chunk);
  const data = Buffer.concat(chunks);
  return data.length === width * height * 3 ? { data: new Uint8Array(data), width, height, channels: 3 } : undefined;
}
