import sharp from 'sharp';
import { createFaceDetector, type FaceDetector } from './detectFaces.js';
import { decodeFullImage, rawToModelInput, shrinkInside } from '../input/decodeImage.js';
import { FACE_SEARCH_MAX_SIDE, facesToModelInputs, type FaceDecoded, type FaceStepOptions } from './faceStep.js';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from '../input/imageLimits.js';
import type { FaceCropSpec, PreprocessSpec } from '../input/preprocessSpec.js';
import { DEFAULT_FACE_CROP } from './faceCropDefaults.js';

export { DEFAULT_FACE_CROP };
import type { Pixels } from '../pixels/pixels.js';
import type { FaceBox } from './types.js';

export type { FaceCrop, FaceDecoded } from './faceStep.js';

/** A photo to find faces in: its bytes (or path), and what the caller already knows of it. */
export interface PhotoRequest {
  input: Uint8Array | string;
  limits?: ImageLimits;
  /** What the photo is called in errors. */
  name?: string;
  /** Its size as displayed (EXIF orientation applied), when screening has read the header: saves reading it again. */
  size?: { width: number; height: number };
}

/** Node's resizes for the face step: sharp on libuv's threads, byte for byte the browser's. */
const NODE_RESIZE: Pick<FaceStepOptions, 'shrink' | 'toModelInput'> = { shrink: shrinkInside, toModelInput: rawToModelInput };

/**
 * The face step in one thread, in Node: decodes a photo with sharp (bounded to the face search
 * size while decoding) or takes a video frame's pixels, then facesToModelInputs. FacePipeline
 * runs one per thread; nothing else calls the face step in Node.
 */
export class FaceCropper {
  private constructor(private readonly detector: FaceDetector, private readonly spec: PreprocessSpec) {}

  static async create(spec: PreprocessSpec): Promise<FaceCropper> {
    const faces = spec.faces;
    if (!faces) throw new RangeError('FaceCropper: the preprocessing spec has no face settings');
    return new FaceCropper(await createFaceDetector({ detector: faces.detector, minScore: faces.minScore, landmarks: faces.align }), spec);
  }

  async photo({ input, limits = DEFAULT_IMAGE_LIMITS, name, size }: PhotoRequest): Promise<FaceDecoded> {
    const full = await decodeFullImage(input, this.spec, limits, FACE_SEARCH_MAX_SIDE, name);
    // Decoding stopped at the face search size: boxes go back to the photo's own pixels.
    const bounded = Math.max(full.width, full.height) >= FACE_SEARCH_MAX_SIDE;
    const original = bounded ? (size ?? (await sharp(input).metadata()).autoOrient) : undefined;
    return facesToModelInputs(full, this.spec, this.detector, { ...NODE_RESIZE, original });
  }

  /** A video frame: a scene (never taken for a face crop), boxes in the frame's pixels; `near`: see FaceStepOptions.near. */
  async frame(image: Pixels<3>, near?: readonly FaceBox[]): Promise<FaceDecoded> {
    return facesToModelInputs(image, this.spec, this.detector, { ...NODE_RESIZE, scene: true, near });
  }
}

/** A new face model's crop settings: defaults, overrides, and images up to twice its input side taken as crops. */
export function faceCropFor(input: { height: number; width: number }, overrides: Partial<FaceCropSpec> = {}): FaceCropSpec {
  return { ...DEFAULT_FACE_CROP, wholeImageMaxSide: 2 * Math.max(input.height, input.width), ...overrides };
}
