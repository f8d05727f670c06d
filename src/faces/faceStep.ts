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
  /** [x, y, width, height] in pixels of the picture as given (see FaceStepOptions.original). */
  box: FaceBox;
  detectorScore: number;
  /** The crop at the model's input size. */
  image: Pixels;
}

/** An image as a face model sees it: its faces, or the whole image when none was found. */
export interface FaceDecoded {
  faces: FaceCrop[];
  /**
   * Set only when no face was found in a photo, or the image is itself a face crop: the whole image,
   * classified instead. A video frame without a face has neither faces nor `whole`: it is not classified.
   */
  whole: Pixels | null;
  /** Why `whole` is set: 'none-found' by the detector, or 'is-crop' (small enough to be a face crop, see FaceCropSpec.wholeImageMaxSide). */
  wholeBecause?: 'none-found' | 'is-crop';
  /** True when the faces were found around FaceStepOptions.near, without searching the whole picture. */
  followed?: boolean;
}

export interface FaceFinder {
  detect(image: Pixels<3>): Promise<DetectedFace[]>;
  /** See FaceDetector.detectNear: the faces at `near` found again around where they were, or null. */
  detectNear?(image: Pixels<3>, near: readonly FaceBox[]): Promise<DetectedFace[] | null>;
}

/** What differs between the hosts that run the face step: how pixels are resized, where they came from. */
export interface FaceStepOptions {
  /**
   * Shrinks RGB pixels to fit maxSide x maxSide (lanczos3, sharp's fit 'inside'): Node passes
   * sharp's (on libuv's threads), the browser resizeInside; the two are equal byte for byte.
   */
  shrink: (image: Pixels<3>, maxSide: number) => Pixels<3> | Promise<Pixels<3>>;
  /** rgbToModelInput (default); Node passes one that falls back to sharp for specs it cannot express. */
  toModelInput?: (image: Pixels<3>, spec: PreprocessSpec) => Pixels | Promise<Pixels>;
  /**
   * The size of the picture boxes are given in, when `image` is already a smaller copy of it (a
   * big photo shrunk while decoding): default, `image`'s own.
   */
  original?: { width: number; height: number };
  /** A video frame: a scene, never taken for a face crop whatever its size (default false). */
  scene?: boolean;
  /**
   * Boxes of the faces in an earlier frame of the same video (in `original`'s pixels): each is
   * looked for only around where it was, and the whole frame is searched only when one is missing
   * or the detector cannot (FaceFinder.detectNear). A face new to the scene is found at the next
   * frame searched whole.
   */
  near?: readonly FaceBox[];
}

/**
 * THE face step of preprocessing, on decoded pixels, for every host: photos and video frames in
 * Node (FaceCropper, in any thread of a FacePipeline), training (--faces) and the browser. It
 * decides whether the picture is itself a face crop, bounds the search to FACE_SEARCH_MAX_SIDE,
 * detects, crops each face with the spec's margin (eyes levelled when asked), brings each crop to
 * the model input, and gives boxes in the picture's own pixels. A new per-face stage (alignment,
 * a quality measure) goes in the loop below, and every host gets it.
 */
export async function facesToModelInputs(image: Pixels<3>, spec: PreprocessSpec, detector: FaceFinder, options: FaceStepOptions): Promise<FaceDecoded> {
  const faces = spec.faces;
  if (!faces) throw new RangeError('facesToModelInputs: the preprocessing spec has no face settings');
  const toModelInput = options.toModelInput ?? rgbToModelInput;
  const original = options.original ?? image;
  const maxSide = options.scene ? undefined : faces.wholeImageMaxSide;
  if (maxSide !== undefined && Math.max(original.width, original.height) <= maxSide) return { faces: [], whole: await toModelInput(image, spec), wholeBecause: 'is-crop' };
  const searched = Math.max(image.width, image.height) > FACE_SEARCH_MAX_SIDE ? await options.shrink(image, FACE_SEARCH_MAX_SIDE) : image;
  const near = options.near?.length && detector.detectNear ? options.near.map((b) => scaleBox(b, original, searched)) : undefined;
  const followed = near ? await detector.detectNear!(searched, near) : null;
  const found = followed ?? (await detector.detect(searched));
  if (found.length === 0) return options.scene ? { faces: [], whole: null } : { faces: [], whole: await toModelInput(searched, spec), wholeBecause: 'none-found' };
  const crops: FaceCrop[] = [];
  for (const face of found) {
    const crop = cropFaceSync(searched, face, { margin: faces.margin, align: faces.align });
    crops.push({ box: scaleBox(face.box, searched, original), detectorScore: face.score, image: await toModelInput(crop, spec) });
  }
  return { faces: crops, whole: null, ...(followed ? { followed: true } : {}) };
}

/** What the model classifies of a decoded image: each face's crop, or the whole image. */
export function modelInputsOf(decoded: FaceDecoded): Pixels[] {
  return decoded.whole ? [decoded.whole] : decoded.faces.map((f) => f.image);
}

/** A box in the pixels of `from` in those of `to` (the same picture at another size), e.g. a box found in a shrunk copy in the photo's own pixels: what callers draw on. */
function scaleBox(box: FaceBox, from: { width: number; height: number }, to: { width: number; height: number }): FaceBox {
  if (from.width === to.width && from.height === to.height) return box;
  const sx = to.width / from.width;
  const sy = to.height / from.height;
  const [x, y, w, h] = box;
  const x0 = Math.max(0, Math.min(to.width - 1, Math.round(x * sx)));
  const y0 = Math.max(0, Math.min(to.height - 1, Math.round(y * sy)));
  return [x0, y0, Math.max(1, Math.min(to.width - x0, Math.round(w * sx))), Math.max(1, Math.min(to.height - y0, Math.round(h * sy)))];
}
