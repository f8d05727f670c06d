import type { FaceDecoded } from '../faces/faceStep.js';
import type { FaceBox } from '../faces/types.js';
import type { BundleMetadata } from '../model/bundleMetadata.js';
import type { ClassDecision } from './interpretOutput.js';

export interface FacePrediction {
  /** [x, y, width, height] in pixels of the (EXIF-rotated) image. */
  box: [number, number, number, number];
  label: string;
  score: number;
  detector_score: number;
  probabilities: Record<string, number>;
}

/** One image's answer, as `predict --json`, the HTTP API and the browser build give it. */
export interface PredictionRow {
  /** For a face model: the most prominent face's; otherwise the whole image's. */
  label?: string;
  score?: number;
  probabilities?: Record<string, number>;
  /** Face models: every face found, most confident first. */
  faces?: FacePrediction[];
  /**
   * Face models, when the whole image was classified: 'none-found' (no face detected), or
   * 'is-crop' (the image is small enough to be a face crop itself; see FaceCropSpec.wholeImageMaxSide).
   */
  face?: 'none-found' | 'is-crop';
}

/** One input's answer: its name and the row (see PredictionRow), or why it could not be classified. */
export interface Prediction extends PredictionRow {
  /** The file path, or `#i` for an in-memory buffer. */
  file: string;
  /** SHA-256 of the file's bytes, with PredictOptions.hashes: what resumable and queued runs key rows by. */
  sha256?: string;
  error?: { code: string; message: string };
}

/** A row of an --out file: a prediction with its content hash (PredictOptions.hashes), which makes resuming and merging exact. */
export type ResultRow = Prediction & { model?: string };

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
  /** With `smooth`: the track's mean p(positive class) over the last `smooth` seconds, this frame included. */
  smoothed_score?: number;
  /** With `smooth`: the model's decision rule applied to smoothed_probabilities. */
  smoothed_label?: string;
  /** With `smooth`: each class's mean probability over the last `smooth` seconds, this frame included. */
  smoothed_probabilities?: Record<string, number>;
  /** 'none-found': no face in this frame (a face model); the frame is not classified. */
  face?: 'none-found';
}

/** A video that could not be read to its end: the rows before it were yielded. */
export interface VideoErrorRow {
  file: string;
  error: { code: string; message: string };
}

/**
 * The last row of a video in a results file (`predict --out`): the video was read to its end (or to
 * the damage its error row describes) and every row above it, back to its first frame, is there. A
 * video without it was cut short by an interrupted run, and --resume does it again.
 */
export interface VideoEndRow {
  file: string;
  video: { frames: number; every: number };
  sha256?: string;
  model?: string;
}

/** What identifies a file's row: its path and, when known, its content. */
export function rowKey(row: { file: string; sha256?: string }): string {
  return `${row.file}\u0000${row.sha256 ?? ''}`;
}

/** A decision as a row states it: the label, the score and each class's probability by name. */
export function decisionFields(classes: readonly string[], d: ClassDecision): Required<Pick<PredictionRow, 'label' | 'score' | 'probabilities'>> {
  return { label: classes[d.labelIndex]!, score: d.score, probabilities: Object.fromEntries(classes.map((c, k) => [c, d.probabilities[k]!])) };
}

/**
 * The row for one image from its decisions (one per classified image: each face, or the whole
 * image) and, for a face model, what the face step found. Node and the browser both build rows
 * here, so their answers have one shape.
 */
export function predictionRow(meta: Pick<BundleMetadata, 'classes'>, decisions: ClassDecision[], faces?: FaceDecoded): PredictionRow {
  const row: PredictionRow = decisions[0] ? decisionFields(meta.classes, decisions[0]) : {};
  if (faces?.whole) row.face = faces.wholeBecause ?? 'none-found';
  else if (faces) {
    row.faces = faces.faces.map((f, k) => {
      const p = decisionFields(meta.classes, decisions[k]!);
      return { box: f.box, label: p.label, score: p.score, detector_score: f.detectorScore, probabilities: p.probabilities };
    });
  }
  return row;
}
