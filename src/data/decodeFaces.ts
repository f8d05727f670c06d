import { createFaceDetector, type FaceDetector } from '../faces/detectFaces.js';
import { cropFaceSync } from '../faces/cropFace.js';
import type { FaceBox } from '../faces/types.js';
import { decodeFullImage, rawToModelInput, type RawImage } from './decodeImage.js';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from './imageLimits.js';
import type { FaceCropSpec, PreprocessSpec } from './preprocessSpec.js';

export interface FaceCrop {
  box: FaceBox;
  detectorScore: number;
  /** The crop at the model's input size. */
  image: RawImage;
}

/** An image as a face model sees it: its faces, or the whole image when none was found. */
export interface FaceDecoded {
  faces: FaceCrop[];
  /** Set only when no face was found, or the image is itself a face crop: the whole image, classified instead. */
  whole: RawImage | null;
  /** Why `whole` is set: 'none-found' by the detector, or 'is-crop' (small enough to be a face crop, see FaceCropSpec.wholeImageMaxSide). */
  wholeBecause?: 'none-found' | 'is-crop';
}

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
    const full = await decodeFullImage(input, spec, limits, 1600, name);
    const maxSide = this.faces.wholeImageMaxSide;
    if (maxSide !== undefined && Math.max(full.width, full.height) <= maxSide) return { faces: [], whole: await rawToModelInput(full, spec), wholeBecause: 'is-crop' };
    const found = await this.detector.detect(full);
    if (found.length === 0) return { faces: [], whole: await rawToModelInput(full, spec), wholeBecause: 'none-found' };
    const faces: FaceCrop[] = [];
    for (const face of found) {
      const crop = cropFaceSync(full, face, { margin: this.faces.margin, align: this.faces.align });
      faces.push({ box: face.box, detectorScore: face.score, image: await rawToModelInput(crop, spec) });
    }
    return { faces, whole: null };
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
