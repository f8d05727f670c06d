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
  /** Set only when no face was found: the whole image, classified instead. */
  whole: RawImage | null;
}

/**
 * The face step of preprocessing: detect, crop a square with the spec's margin, level the eyes
 * when asked, then the same resize and colour conversion as whole images. Training (--faces) and
 * prediction both come through here, so a model sees the same crops in both.
 */
export class FaceCropper {
  private constructor(private readonly detector: FaceDetector, private readonly faces: FaceCropSpec) {}

  static async create(faces: FaceCropSpec): Promise<FaceCropper> {
    const detector = await createFaceDetector({ detector: faces.detector, minScore: faces.minScore, landmarks: faces.align });
    return new FaceCropper(detector, faces);
  }

  async decode(input: Uint8Array | string, spec: PreprocessSpec, limits: ImageLimits = DEFAULT_IMAGE_LIMITS, name?: string): Promise<FaceDecoded> {
    const full = await decodeFullImage(input, spec, limits, 1600, name);
    const found = await this.detector.detect(full);
    if (found.length === 0) return { faces: [], whole: await rawToModelInput(full, spec) };
    const faces: FaceCrop[] = [];
    for (const face of found) {
      const crop = cropFaceSync(full, face, { margin: this.faces.margin, align: this.faces.align });
      faces.push({ box: face.box, detectorScore: face.score, image: await rawToModelInput(crop, spec) });
    }
    return { faces, whole: null };
  }
}

/** The face settings a new face model records when none are given. */
export const DEFAULT_FACE_CROP: FaceCropSpec = { detector: 'ssd', margin: 0.2, align: true, minScore: 0.3 };
