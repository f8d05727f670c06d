import { createFaceDetector, type FaceDetector } from './detectFaces.js';
import { decodeFullImage, rawToModelInput, shrinkInside } from '../input/decodeImage.js';
import sharp from 'sharp';
import { boxesInOriginal, FACE_SEARCH_MAX_SIDE, facesToModelInputs, type FaceDecoded } from './facesToModelInputs.js';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from '../input/imageLimits.js';
import type { FaceCropSpec, PreprocessSpec } from '../input/preprocessSpec.js';
import type { Pixels } from '../pixels/pixels.js';

export type { FaceCrop, FaceDecoded } from './facesToModelInputs.js';

/** What turns image files into face crops: a FaceCropper on this thread, or a pool of them. */
export interface FaceDecoder {
  decode(input: Uint8Array | string, spec: PreprocessSpec, limits?: ImageLimits, name?: string): Promise<FaceDecoded>;
  close(): Promise<void>;
}

/**
 * The face step of preprocessing: detect, crop a square with the spec's margin, level the eyes
 * when asked, then the same resize and colour conversion as whole images. Training (--faces) and
 * prediction both come through here, so a model sees the same crops in both.
 */
export class FaceCropper implements FaceDecoder {
  private constructor(private readonly detector: FaceDetector, private readonly faces: FaceCropSpec) {}

  static async create(faces: FaceCropSpec): Promise<FaceCropper> {
    const detector = await createFaceDetector({ detector: faces.detector, minScore: faces.minScore, landmarks: faces.align });
    return new FaceCropper(detector, faces);
  }

  async decode(input: Uint8Array | string, spec: PreprocessSpec, limits: ImageLimits = DEFAULT_IMAGE_LIMITS, name?: string): Promise<FaceDecoded> {
    const full = await decodeFullImage(input, spec, limits, FACE_SEARCH_MAX_SIDE, name);
    const decoded = await facesToModelInputs(full, { ...spec, faces: this.faces }, this.detector, rawToModelInput);
    // A photo larger than the face search was shrunk for it: boxes go back to the photo's own pixels.
    if (Math.max(full.width, full.height) < FACE_SEARCH_MAX_SIDE || decoded.faces.length === 0) return decoded;
    const size = (await sharp(input).metadata()).autoOrient;
    return size ? boxesInOriginal(decoded, full, size) : decoded;
  }

  /**
   * decode() for pixels already decoded (a video frame): shrunk for the face search when bigger,
   * boxes in the pixels given.
   */
  async decodePixels(image: Pixels<3>, spec: PreprocessSpec): Promise<FaceDecoded> {
    const searched = await shrinkInside(image, FACE_SEARCH_MAX_SIDE);
    return boxesInOriginal(await facesToModelInputs(searched, { ...spec, faces: this.faces }, this.detector, rawToModelInput), searched, image);
  }

  async close(): Promise<void> {
    // The detector's nets are shared per process (faceModels.ts, blazeFace.ts): nothing to free.
  }
}

/**
 * The face settings a new face model records when none are given. wholeImageMaxSide is set per
 * model from its input size (see faceCropFor).
 */
export const DEFAULT_FACE_CROP: FaceCropSpec = { detector: 'blazeface', margin: 0.2, align: true, minScore: 0.5 };

/** A new face model's crop settings: defaults, overrides, and images up to twice its input side taken as crops. */
export function faceCropFor(input: { height: number; width: number }, overrides: Partial<FaceCropSpec> = {}): FaceCropSpec {
  return { ...DEFAULT_FACE_CROP, wholeImageMaxSide: 2 * Math.max(input.height, input.width), ...overrides };
}
