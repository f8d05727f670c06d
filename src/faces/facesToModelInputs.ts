import { cropFaceSync } from './cropFace.js';
import type { DetectedFace, FaceBox } from './types.js';
import { rgbToModelInput } from '../input/modelInput.js';
import type { PreprocessSpec } from '../input/preprocessSpec.js';
import type { Pixels } from '../pixels/pixels.js';

/**
 * Photos are searched for faces at most this large (longer side): bigger ones are shrunk first
 * (lanczos3, as sharp's fit 'inside'). It bounds the work on 20-megapixel photos, and a face
 * smaller than 1/1600 of the frame would be a few pixels anyway.
 */
export const FACE_SEARCH_MAX_SIDE = 1600;

export interface FaceCrop {
  box: FaceBox;
  detectorScore: number;
  /** The crop at the model's input size. */
  image: Pixels;
}

/** An image as a face model sees it: its faces, or the whole image when none was found. */
export interface FaceDecoded {
  faces: FaceCrop[];
  /** Set only when no face was found, or the image is itself a face crop: the whole image, classified instead. */
  whole: Pixels | null;
  /** Why `whole` is set: 'none-found' by the detector, or 'is-crop' (small enough to be a face crop, see FaceCropSpec.wholeImageMaxSide). */
  wholeBecause?: 'none-found' | 'is-crop';
}

/**
 * The face step of preprocessing on decoded pixels: detect, crop a square with the spec's margin,
 * level the eyes when asked, then the model-input resize and colour conversion. Training (--faces),
 * prediction and the browser all come through here, so a model sees the same crops everywhere.
 * `image` is the decoded photo, already bounded to FACE_SEARCH_MAX_SIDE. `toModelInput` is
 * rgbToModelInput; Node passes one that falls back to sharp for specs it cannot express.
 */
export async function facesToModelInputs(
  image: Pixels<3>,
  spec: PreprocessSpec,
  detector: { detect(image: Pixels<3>): Promise<DetectedFace[]> },
  toModelInput: (image: Pixels<3>, spec: PreprocessSpec) => Pixels | Promise<Pixels> = rgbToModelInput,
): Promise<FaceDecoded> {
  const faces = spec.faces;
  if (!faces) throw new RangeError('facesToModelInputs: the preprocessing spec has no face settings');
  const maxSide = faces.wholeImageMaxSide;
  if (maxSide !== undefined && Math.max(image.width, image.height) <= maxSide) return { faces: [], whole: await toModelInput(image, spec), wholeBecause: 'is-crop' };
  const found = await detector.detect(image);
  if (found.length === 0) return { faces: [], whole: await toModelInput(image, spec), wholeBecause: 'none-found' };
  const crops: FaceCrop[] = [];
  for (const face of found) {
    const crop = cropFaceSync(image, face, { margin: faces.margin, align: faces.align });
    crops.push({ box: face.box, detectorScore: face.score, image: await toModelInput(crop, spec) });
  }
  return { faces: crops, whole: null };
}

/**
 * The decoded faces with their boxes in the pixels of the image as given (`original`), when the
 * face search ran on a copy shrunk to FACE_SEARCH_MAX_SIDE (`searched`): what callers draw on.
 */
export function boxesInOriginal(decoded: FaceDecoded, searched: { width: number; height: number }, original: { width: number; height: number }): FaceDecoded {
  if (searched.width === original.width && searched.height === original.height) return decoded;
  const sx = original.width / searched.width;
  const sy = original.height / searched.height;
  return {
    ...decoded,
    faces: decoded.faces.map((f) => {
      const [x, y, w, h] = f.box;
      const x0 = Math.max(0, Math.min(original.width - 1, Math.round(x * sx)));
      const y0 = Math.max(0, Math.min(original.height - 1, Math.round(y * sy)));
      const box: FaceBox = [x0, y0, Math.max(1, Math.min(original.width - x0, Math.round(w * sx))), Math.max(1, Math.min(original.height - y0, Math.round(h * sy)))];
      return { ...f, box };
    }),
  };
}
