/** [x, y, width, height] in pixels of the image the face was found in. */
export type FaceBox = [x: number, y: number, w: number, h: number];

export type Point = [x: number, y: number];

export interface EyeLandmarks {
  /**
   * Centre of the eye on the left of the image (the subject's right eye when the face is upright),
   * i.e. face-api's getLeftEye() / 68-point indices 36-41.
   */
  leftEye: Point;
  /** Centre of the eye on the right of the image (68-point indices 42-47). */
  rightEye: Point;
}

export interface DetectedFace {
  /** Integer pixel box, clipped to the image, width and height at least 1. */
  box: FaceBox;
  /** Detector confidence in (0, 1]. Scores of different detectors are not comparable. */
  score: number;
  landmarks?: EyeLandmarks;
}
