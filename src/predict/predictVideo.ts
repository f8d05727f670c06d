import { rawToModelInput } from '../input/decodeImage.js';
import { modelInputsOf, type FaceDecoded } from '../faces/faceStep.js';
import { videoFrames, type OpenedVideo, type VideoInfo, type VideoLimits } from '../input/videoFrames.js';
import { DEFAULT_VIDEO_EVERY, DEFAULT_VIDEO_SEARCH_EVERY } from '../input/videoLimits.js';
import { HappysadError } from '../base/errors.js';
import { SearchPlan } from '../faces/searchPlan.js';
import { messageOf } from '../base/messageOf.js';
import type { Classifier } from './classifier.js';
import { TrailingProbabilities } from './trailingProbabilities.js';
import { decideClass, type InterpretOptions } from './interpretOutput.js';
import { forcedChoicePair } from './forcedChoice.js';
import { FaceTracker } from './faceTracker.js';
import { decisionFields, type VideoErrorRow, type VideoRow } from './predictionRow.js';

export type { VideoErrorRow, VideoRow };

export interface PredictVideoOptions {
  /** Seconds between sampled frames (default DEFAULT_VIDEO_EVERY). */
  every?: number;
  /**
   * Seconds between frames searched whole for faces (default DEFAULT_VIDEO_SEARCH_EVERY); a frame
   * between looks for the faces of the last frame searched around where they were, and is searched
   * whole when one is not found there. 0: every frame is searched whole.
   */
  searchEvery?: number;
  /**
   * Seconds of trailing moving average of each track's class probabilities (default 0: none): each
   * row then has smoothed_probabilities, smoothed_label (the model's rule on them) and
   * smoothed_score (the smoothed p(positive)).
   */
  smooth?: number;
  /** Decide between two classes only, as PredictOptions.forcedChoice; the smoothed label too. */
  forcedChoice?: boolean;
  /** For a face model, false classifies whole frames instead (default true). */
  faces?: boolean;
  limits?: VideoLimits;
  /** Seconds a track may be unseen before it ends (default 1). */
  maxGapSeconds?: number;
  /** Ends the video between frames (ffmpeg is killed): the generator throws the signal's reason, with no error row. */
  signal?: AbortSignal;
  /** The video's size and duration, when the caller has already probed it. */
  info?: VideoInfo;
  /** The video already opened and checked by the caller (a queue worker); `file` then only names it in rows. */
  opened?: OpenedVideo;
}

/**
 * A video's rows as they are computed: frames sampled through ffmpeg (streamed, never all in
 * memory), each face found, cropped and classified exactly as in a photo (the model's
 * FacePipeline, on every thread it has), and followed by a track id. A few frames are in flight at
 * once, so that every thread finds faces while this one reads the next frame; rows still come in
 * frame order. A damaged or cut video ends with an error row after the rows it could give.
 */
export async function* predictVideo(classifier: Classifier, file: string, options: PredictVideoOptions = {}): AsyncGenerator<VideoRow | VideoErrorRow> {
  const meta = classifier.metadata;
  const interpret: InterpretOptions = { forcedChoice: options.forcedChoice };
  // Refused before ffmpeg starts: a model forced choice cannot apply to fails at once.
  if (interpret.forcedChoice) forcedChoicePair(meta);
  const spec = meta.preprocessing;
  const faces = spec.faces && options.faces !== false ? await classifier.facePipeline() : undefined;
  const tracker = new FaceTracker({ maxGapSeconds: options.maxGapSeconds });
  const smooth = options.smooth ?? 0;
  const positive = meta.classes.indexOf(meta.positiveClass);
  const history = new Map<number, TrailingProbabilities>();
  type Pending = { time: number; frame: number; found: Promise<FaceDecoded>; done: boolean };
  const inFlight: Pending[] = [];
  // Rows of the frames that are done, oldest first; their faces classified in one call.
  async function* settle(frames: Pending[]): AsyncGenerator<VideoRow> {
    const decoded = await Promise.all(frames.map((f) => f.found));
    const decisions = await classifier.classifyDecoded(decoded.flatMap(modelInputsOf), interpret);
    let k = 0;
    for (const [j, { time, frame }] of frames.entries()) {
      const d = decoded[j]!;
      const base = { file, time, frame };
      if (d.whole) {
        // No face model here (or --no-faces): the whole frame was classified.
        yield { ...base, ...decisionFields(meta.classes, decisions[k++]!) };
        continue;
      }
      const boxes = d.faces.map((f) => f.box);
      const ids = tracker.assign(time, boxes);
      if (d.faces.length === 0) {
        yield { ...base, face: 'none-found' };
        continue;
      }
      for (const [i, f] of d.faces.entries()) {
        const decision = decisions[k++]!;
        const row: VideoRow = { ...base, track: ids[i], box: boxes[i], ...decisionFields(meta.classes, decision), detector_score: f.detectorScore };
        if (smooth > 0) {
          const trailing = history.get(ids[i]!) ?? new TrailingProbabilities(meta.classes.length, smooth);
          history.set(ids[i]!, trailing);
          const mean = trailing.add(time, decision.probabilities);
          row.smoothed_score = mean[positive]!;
          row.smoothed_label = meta.classes[decideClass(mean, meta, interpret)]!;
          row.smoothed_probabilities = Object.fromEntries(meta.classes.map((c, index) => [c, mean[index]!]));
        }
        yield row;
      }
    }
  }
  // Enough frames in flight to keep every face thread busy while this one classifies (4 per thread:
  // ~3% faster than 2 on a 60 s video), and few enough that memory stays flat (9 frames of 640x480: 8 MB).
  const depth = 4 * (faces?.threads ?? 1) + 1;
  const plan = new SearchPlan(options.searchEvery ?? DEFAULT_VIDEO_SEARCH_EVERY);
  // The last frame searched whole: the frames after it follow its faces. They wait for it alone,
  // not for each other, so they still run on every thread, and a frame's faces depend only on its
  // pixels and that frame's: the same rows whatever the timing.
  let searched: Promise<FaceDecoded> | undefined;
  try {
    for await (const frame of videoFrames(file, { every: options.every ?? DEFAULT_VIDEO_EVERY, limits: options.limits, signal: options.signal, info: options.info, opened: options.opened })) {
      let found: Promise<FaceDecoded>;
      if (!faces) found = rawToModelInput(frame.image, spec).then((whole): FaceDecoded => ({ faces: [], whole }));
      else if (!searched || plan.due(frame.time)) {
        found = searched = faces.frame(frame.image);
        plan.searched(frame.time);
      } else {
        const { image } = frame;
        // A failed search is reported at its own frame; this one then searches whole.
        found = searched.then((s) => faces.frame(image, s.faces.map((f) => f.box)), () => faces.frame(image));
      }
      const pending: Pending = { time: frame.time, frame: frame.index, found, done: false };
      // A frame that fails is reported when its turn comes, not as an unhandled rejection now.
      found.then(() => (pending.done = true), () => (pending.done = true));
      inFlight.push(pending);
      if (inFlight.length >= depth) {
        // The oldest frame, and every frame after it that is already done: one forward pass for all their faces.
        const ready = inFlight.findIndex((p, i) => i > 0 && !p.done);
        yield* settle(inFlight.splice(0, ready === -1 ? inFlight.length : ready));
      }
    }
    while (inFlight.length) yield* settle(inFlight.splice(0, inFlight.length));
  } catch (err) {
    // Stopped on purpose: the caller asked, so no row pretends the video was damaged.
    if (options.signal?.aborted) throw err;
    // Frames found before the damage still give their rows.
    const done = inFlight.splice(0, inFlight.length);
    try {
      yield* settle(done);
    } catch {
      // a frame in flight failed too: the error row below says why the video ended
    }
    yield { file, error: { code: err instanceof HappysadError ? err.code : 'video', message: messageOf(err) } };
  }
}
