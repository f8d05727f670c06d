/**
 * Bounds on a video: shared by predict (the CLI), the job queue and serve, which is stricter on
 * length and frame count (a request must end within its timeout). Kept apart from videoFrames so
 * the command table can show the defaults without loading ffmpeg's plumbing.
 */
export interface VideoLimits {
  /** Longest video read, in seconds; frames after it are not sampled (the run says so). */
  maxSeconds: number;
  /** Largest frame (width x height): each sampled frame is held, searched for faces and classified at full size. */
  maxPixels: number;
  /** Most frames sampled from one video; unbounded when absent. */
  maxFrames?: number;
}

/** 4K UHD frames, four hours: what a CLI run on a recorded session needs. */
export const DEFAULT_VIDEO_LIMITS: VideoLimits = { maxSeconds: 4 * 3600, maxPixels: 4096 * 2160 };

/** Seconds between sampled frames when none is given. */
export const DEFAULT_VIDEO_EVERY = 0.2;

/**
 * Seconds between sampled frames searched whole for faces when none is given; the frames between
 * look for each face only around where it was in the last one searched (a face new to the scene
 * waits for the next). 1 s: a 150 px face in a 640x480 frame then costs one short-range pass
 * instead of two passes four frames in five.
 */
export const DEFAULT_VIDEO_SEARCH_EVERY = 1;

/**
 * The smallest --every (predict) and ?every (serve) accepted: 100 samples a second, above the
 * frame rate of ordinary video (24-60 fps), so every frame of any of them can be sampled; finer only
 * repeats frames (ffmpeg's fps filter duplicates them). The server needs no stricter floor: its
 * work per video is bounded by videoMaxFrames, checked against the probed duration before any
 * frame is decoded and enforced on ffmpeg's output (-frames:v) besides.
 */
export const MIN_VIDEO_EVERY = 0.01;

/** The option that raises the frame-size limit, named in the errors that hit it (predict and serve alike). */
export const MAX_VIDEO_PIXELS_OPTION = '--max-video-pixels';

/**
 * Frames sampled from `seconds` of video every `every` seconds: the first at t = 0, then one per
 * interval (ffmpeg's fps filter, which also keeps the frame at t = 0 of a video shorter than one interval).
 */
export function sampledFrames(seconds: number, every: number): number {
  return Math.max(1, Math.ceil(seconds / every - 1e-9));
}
