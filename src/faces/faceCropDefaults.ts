import type { FaceCropSpec, FaceDetectorKind } from '../input/preprocessSpec.js';

/** The detector of new face models and of a detector built without one (see FaceDetectorKind). */
export const DEFAULT_FACE_DETECTOR: FaceDetectorKind = 'blazeface';

/**
 * The lowest detector score kept when none is given. BlazeFace scores the same faces higher than
 * face-api's detectors do, so it gets the higher floor.
 */
export function defaultMinScore(detector: FaceDetectorKind): number {
  return detector === 'blazeface' || detector === 'blazeface-front' ? 0.5 : 0.3;
}

/**
 * The face settings a new face model records when none are given (`train --faces`, and the CLI's
 * help for --face-detector / --face-margin). wholeImageMaxSide is set per model from its input size.
 * Free of the detectors' code so the command table can show it without loading them.
 */
export const DEFAULT_FACE_CROP: FaceCropSpec = { detector: DEFAULT_FACE_DETECTOR, margin: 0.2, align: true, minScore: defaultMinScore(DEFAULT_FACE_DETECTOR) };
