import { rawToModelInput } from '../input/decodeImage.js';
import { FaceCropper } from '../faces/faceCropper.js';
import { videoFrames, type VideoInfo, type VideoLimits } from '../input/videoFrames.js';
import { DEFAULT_VIDEO_EVERY } from '../input/videoLimits.js';
import type { FaceBox } from '../faces/types.js';
import { HappysadError } from '../base/errors.js';
import { messageOf } from '../base/messageOf.js';
import type { Classifier } from './classifier.js';
import { TrailingMean } from './trailingMean.js';
import { FaceTracker } from './faceTracker.js';
import { decisionFields } from './predictionRow.js';


/** One sampled frame and face of a video (or the frame, when no face was found in it). */
export interface VideoRow {
  file: string;
  /** Seconds from the start. */
  time: number;
  /** Index of the sampled frame (0, 1, ... at `every` seconds). */
  frame: number;
  /** The person's id while in view (see FaceTracker); absent when no face was found. */
  track?: number;
  /** [x, y, width, height] in pixels of the video frame. */
  box?: FaceBox;
  label?: string;
  score?: number;
  probabilities?: Record<string, number>;
  detector_score?: number;
  /** With `smooth`: the track's mean score over the last `smooth` seconds, this frame included. */
  smoothed_score?: number;
  /** 'none-found': no face in this frame (a face model); the frame is not classified. */
  face?: 'none-found';
}

/** A video that could not be read to its end: the rows before it were yielded. */
export interface VideoErrorRow {
  file: string;
  error: { code: string; message: string };
}

export interface PredictVideoOptions {
  /** Seconds between sampled frames (default DEFAULT_VIDEO_EVERY, 0.2). */
  every?: number;
  /** Seconds of trailing moving average for `smoothed_score` (default 0: none). */
  smooth?: number;
  /** For a face model, false classifies whole frames instead (default true). */
  faces?: boolean;
  limits?: VideoLimits;
  /** Seconds a track may be unseen before it ends (default 1). */
  maxGapSeconds?: number;
  /** Ends the video between frames (ffmpeg is killed): the generator throws the signal's reason, with no error row. */
  signal?: AbortSignal;
  /** The video's size and duration, when the caller has already probed it. */
  info?: VideoInfo;
}

/** One face cropper per model for its videos (the nets are shared per process anyway). */
const croppers = new WeakMap<Classifier, Promise<FaceCropper>>();

/**
 * A video's rows as they are computed: frames sampled through ffmpeg (streamed, never all in
 * memory), each face detected, cropped and classified exactly as in a photo, and followed by a
 * track id. A damaged or cut video ends with an error row after the rows it could give.
 */
export async function* predictVideo(classifier: Classifier, file: string, options: PredictVideoOptions = {}): AsyncGenerator<VideoRow | VideoErrorRow> {
  const meta = classifier.metadata;
  const spec = meta.preprocessing;
  const useFaces = Boolean(spec.faces) && options.faces !== false;
  let cropper: FaceCropper | undefined;
  if (useFaces) {
    let pending = croppers.get(classifier);
    // Frames are never taken for face crops, whatever their size: a video frame is a scene.
    if (!pending) {
      pending = FaceCropper.create({ ...spec.faces!, wholeImageMaxSide: undefined });
      croppers.set(classifier, pending);
    }
    cropper = await pending;
  }
  const tracker = new FaceTracker({ maxGapSeconds: options.maxGapSeconds });
  const smooth = options.smooth ?? 0;
  const history = new Map<number, TrailingMean>();
  try {
    for await (const frame of videoFrames(file, { every: options.every ?? DEFAULT_VIDEO_EVERY, limits: options.limits, signal: options.signal, info: options.info })) {
      const base = { file, time: frame.time, frame: frame.index };
      if (!cropper) {
        const [d] = await classifier.classifyDecoded([await rawToModelInput(frame.image, spec)]);
        yield { ...base, ...decisionFields(meta.classes, d!) };
        continue;
      }
      const decoded = await cropper.decodePixels(frame.image, spec);
      const boxes = decoded.faces.map((f) => f.box);
      const ids = tracker.assign(frame.time, boxes);
      if (decoded.faces.length === 0) {
        yield { ...base, face: 'none-found' };
        continue;
      }
      const decisions = await classifier.classifyDecoded(decoded.faces.map((f) => f.image));
      for (const [i, f] of decoded.faces.entries()) {
        const d = decisions[i]!;
        const row: VideoRow = { ...base, track: ids[i], box: boxes[i], ...decisionFields(meta.classes, d), detector_score: f.detectorScore };
        if (smooth > 0) {
          const mean = history.get(ids[i]!) ?? new TrailingMean(smooth);
          history.set(ids[i]!, mean);
          row.smoothed_score = mean.add(frame.time, d.score);
        }
        yield row;
      }
    }
  } catch (err) {
    // Stopped on purpose: the caller asked, so no row pretends the video was damaged.
    if (options.signal?.aborted) throw err;
    yield { file, error: { code: err instanceof HappysadError ? err.code : 'video', message: messageOf(err) } };
  }
}
