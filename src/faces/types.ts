/** Raw 8-bit RGB pixels, row-major, 3 bytes per pixel, already EXIF-rotated. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3;
}

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

/**
 * 'blazeface': MediaPipe's full-range BlazeFace (256x256), the default of new face models: fast,
 * and it finds the eyes with the box. 'blazeface-front': its short-range (selfie, webcam) model at
 * 128x128, fastest, for faces that fill much of the frame. 'ssd' and 'tiny': face-api's SSD
 * MobileNet v1 and Tiny Face Detector, kept for the models trained with them.
 */
export type FaceDetectorKind = 'blazeface' | 'blazeface-front' | 'ssd' | 'tiny';

export const FACE_DETECTORS: readonly FaceDetectorKind[] = ['blazeface', 'blazeface-front', 'ssd', 'tiny'];
