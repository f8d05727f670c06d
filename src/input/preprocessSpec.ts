import { OptionError } from '../base/errors.js';

/**
 * The single definition of how an image file becomes model input. It is stored in every bundle
 * (happysad.json) and read back by train, evaluate, predict and serve, so the paths that feed a
 * model cannot drift apart.
 */
export interface PreprocessSpec {
  height: number;
  width: number;
  channels: 1 | 3;
  /** 'fill' stretches to the input size as Keras' image_dataset_from_directory does. */
  resize: 'fill' | 'cover' | 'contain';
  kernel: 'nearest' | 'linear' | 'cubic' | 'lanczos3';
  /** Transparent pixels are composited onto this colour (RGB, 0-255). */
  background: [number, number, number];
  /** Model input = pixel * scale + offset (1/255 and 0 in both original projects). */
  scale: number;
  offset: number;
  /** Average the model's output on the image and its mirror image. */
  testTimeFlip?: boolean;
  /** When set, each detected face is cropped and classified instead of the whole image. */
  faces?: FaceCropSpec | null;
  /**
   * Decode the whole file before any resize (no JPEG shrink-on-load), then resize the pixels by the
   * portable definition (src/pixels): what a browser, which cannot shrink while decoding, computes
   * too. Every new model sets it. Absent in bundles made before it existed: Node shrinks their JPEGs
   * while decoding, as sharp does by default, and the browser's pixels may differ slightly.
   */
  decodeFullSize?: boolean;
}

export interface FaceCropSpec {
  detector: FaceDetectorKind;
  /** Fraction of the face box added on each side before cropping to a square. */
  margin: number;
  align: boolean;
  minScore: number;
  /**
   * An image whose longer side is at most this many pixels is taken to be a face crop already
   * (FER2013's 48x48, a thumbnail of one face) and classified whole, without detection: a detector
   * has nothing to add at that size, and its crop would frame the face differently from the
   * training data. Absent in bundles made before it existed: every image goes to the detector.
   */
  wholeImageMaxSide?: number;
}

export function defaultPreprocessSpec(input: InputShape): PreprocessSpec {
  return {
    height: input[0],
    width: input[1],
    channels: input[2],
    resize: 'fill',
    kernel: 'linear',
    background: [255, 255, 255],
    scale: 1 / 255,
    offset: 0,
    faces: null,
    decodeFullSize: true,
  };
}

export type InputShape = [height: number, width: number, channels: 1 | 3];

/** Parses `--input 128x128x3` (or `48x48x1`, or `48x48` meaning 3 channels). */
export function parseInputShape(text: string): InputShape {
  const m = /^(\d+)x(\d+)(?:x(\d+))?$/i.exec(text.trim());
  if (!m) throw new OptionError(`--input "${text}" is not HxWxC: write e.g. 128x128x3 or 48x48x1`);
  const [h, w, c] = [Number(m[1]), Number(m[2]), m[3] === undefined ? 3 : Number(m[3])];
  if (c !== 1 && c !== 3) throw new OptionError(`--input "${text}": channels must be 1 (grayscale) or 3 (RGB), got ${c}`);
  if (h < 8 || w < 8 || h > 2048 || w > 2048) throw new OptionError(`--input "${text}": height and width must be between 8 and 2048`);
  return [h, w, c];
}

export function inputShapeOf(spec: PreprocessSpec): InputShape {
  return [spec.height, spec.width, spec.channels];
}

/**
 * 'blazeface': MediaPipe's full-range BlazeFace (256x256), the default of new face models: fast,
 * and it finds the eyes with the box. 'blazeface-front': its short-range (selfie, webcam) model at
 * 128x128, fastest, for faces that fill much of the frame. 'ssd' and 'tiny': face-api's SSD
 * MobileNet v1 and Tiny Face Detector, kept for the models trained with them.
 */
export type FaceDetectorKind = 'blazeface' | 'blazeface-front' | 'ssd' | 'tiny';

export const FACE_DETECTORS: readonly FaceDetectorKind[] = ['blazeface', 'blazeface-front', 'ssd', 'tiny'];
